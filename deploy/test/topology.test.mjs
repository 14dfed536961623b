// The compose stack booted without Docker (lib/compose-stack.mjs says how it maps services to local
// processes): a client through HAProxy reaches members on every node, Prometheus scrapes every
// target, every dashboard query and alert signal returns data, and a gateway's SIGTERM moves its
// clients to the other nodes. Needs the built services (`npm run build`) and the Debian packages of
// install-tools.sh. Full process logs: .artifacts/deploy-topology/.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { ChatClient } from './lib/chat-client.mjs';
import { bootComposeStack } from './lib/compose-stack.mjs';
import { waitFor } from './lib/processes.mjs';
import { alertRules, alertSignal, concreteQuery, dashboardQueries, dashboardVariable } from './lib/queries.mjs';
import { repoPath } from './lib/tools.mjs';

const room = 'topology';
const clientCount = 9;

describe('the docker compose stack, booted as local processes', { timeout: 170_000 }, () => {
  let stack;
  const clients = [];

  before(async () => {
    for (const main of ['services/gateway/dist/main.js', 'services/mqtt-bridge/dist/main.js']) {
      assert.ok(existsSync(repoPath(main)), `${main} is missing: run \`npm run build\` first`);
    }
    stack = await bootComposeStack({ logDir: repoPath('.artifacts/deploy-topology') });
  }, { timeout: 60_000 });

  after(async () => {
    for (const client of clients) client.terminate();
    await stack?.stop();
  });

  const failWithLogs = (names, error) => {
    const tails = names.map((name) => stack.processes.tail(name, 15)).join('\n');
    throw new Error(`${error.message}\n${tails}`);
  };

  test('a client through HAProxy reaches members on every node', { timeout: 30_000 }, async (t) => {
    for (let i = 0; i < clientCount; i++) {
      clients.push(await ChatClient.connect(stack.haproxyUrl, `member-${i}`));
    }
    const nodes = new Set(clients.map((client) => client.node));
    t.diagnostic(`HAProxy on :${stack.port.chat} placed ${clients.length} clients: ${clients.map((client) => client.node).join(' ')}`);
    assert.deepEqual([...nodes].sort(), stack.gateways.map((g) => g.name).sort(), 'leastconn spread the clients over every gateway');

    for (const client of clients) await client.join(room);
    clients[0].send({ type: 'send', room, text: 'hello every node', ref: 'first' });
    const ack = await clients[0].waitFor((frame) => frame.type === 'ack' && frame.ref === 'first', 5000, 'ack');
    for (const client of clients) {
      const message = await client.waitFor((frame) => frame.type === 'message' && frame.id === ack.id, 5000, `message on ${client.node}`);
      assert.equal(message.text, 'hello every node');
    }
  });

  test('Prometheus reports every gateway, bridge and HAProxy target up', { timeout: 30_000 }, async () => {
    const expected = stack.gateways.length + stack.bridges.length + 2; // + HAProxy + Prometheus itself
    const targets = await waitFor('every target to be scraped up', async () => {
      const { data } = await (await fetch(`${stack.prometheusUrl}/api/v1/targets?state=active`)).json();
      const active = data.activeTargets;
      return active.length === expected && active.every((target) => target.health === 'up') && active;
    }, { timeoutMs: 20_000 }).catch((error) => failWithLogs(['prometheus'], error));
    const jobs = targets.map((target) => target.labels.job).sort();
    assert.deepEqual(jobs, ['bridge', 'bridge', 'gateway', 'gateway', 'gateway', 'haproxy', 'prometheus']);
  });

  test('every dashboard query and alert signal returns data from the running stack', { timeout: 60_000 }, async () => {
    await generateEveryKindOfTraffic(stack, clients);
    const queries = [
      ...dashboardQueries().map((query) => ({ name: `panel "${query.panel}" ${query.refId}`, expr: concreteQuery(query.expr, '10s') })),
      ...alertRules().map((rule) => ({ name: `alert ${rule.alert}`, expr: alertSignal(rule.expr) })),
    ];
    const missing = new Map(queries.map((query) => [query.name, query.expr]));
    // Counters born from the traffic above need a few 1 s scrapes before rate() has two samples.
    await waitFor('every query to return data', async () => {
      for (const [name, expr] of missing) {
        const url = `${stack.prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`;
        const body = await (await fetch(url)).json();
        assert.equal(body.status, 'success', `${name}: ${body.error}`);
        if (body.data.result.length > 0) missing.delete(name);
      }
      return missing.size === 0;
    }, { timeoutMs: 30_000, intervalMs: 1000 }).catch(() => {
      const list = [...missing].map(([name, expr]) => `  ${name}: ${expr}`).join('\n');
      assert.fail(`${missing.size} of ${queries.length} queries return no series (is the metric exported, under this name?):\n${list}`);
    });
  });

  test("the dashboard's node variable lists every gateway and bridge", { timeout: 30_000 }, async () => {
    const { query } = dashboardVariable('node').query;
    const selector = /^label_values\((.+), node\)$/.exec(query)?.[1];
    assert.ok(selector, query);
    const expected = [...stack.gateways, ...stack.bridges].map((node) => node.name).sort();
    const url = `${stack.prometheusUrl}/api/v1/query?query=${encodeURIComponent(`count by (node) (${selector})`)}`;
    const listed = await waitFor('every node to be listed', async () => {
      const body = await (await fetch(url)).json();
      const nodes = body.data.result.map((series) => series.metric.node).sort();
      return nodes.length === expected.length && nodes;
    }, { timeoutMs: 20_000, intervalMs: 1000 }).catch((error) => assert.fail(`${error.message}: ${query}`));
    assert.deepEqual(listed, expected);
  });

  test("a gateway's SIGTERM moves its clients to the other nodes", { timeout: 40_000 }, async (t) => {
    const open = clients.filter((client) => client.node);
    const drained = stack.gateways.find((gateway) => open.some((client) => client.node === gateway.name));
    const leaving = open.filter((client) => client.node === drained.name);
    const staying = open.filter((client) => client.node !== drained.name);
    const drainSeconds = Number(stack.compose.services.gateway.environment.DRAIN_SECONDS);

    const gatewayProcess = stack.processes.get(drained.name);
    gatewayProcess.child.kill('SIGTERM');

    const moved = await Promise.all(leaving.map(async (client, i) => {
      const closed = await Promise.race([
        client.closed,
        new Promise((resolve) => setTimeout(() => resolve({ code: 'none' }), (drainSeconds + 5) * 1000)),
      ]);
      assert.equal(closed.code, 1001, `a client of ${drained.name} is closed with 1001 (going away) while it drains`);
      const again = await waitFor('the client to reconnect through HAProxy', () =>
        ChatClient.connect(stack.haproxyUrl, `moved-${i}`, 2000), { timeoutMs: 10_000, intervalMs: 250 });
      clients.push(again);
      return again;
    }));
    t.diagnostic(`${drained.name} drained: ${leaving.length} clients closed with 1001 moved to ${moved.map((client) => client.node).join(' ')}`);
    for (const client of moved) assert.notEqual(client.node, drained.name, 'a reconnect lands on another node');

    const exit = await Promise.race([gatewayProcess.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 5000))]);
    assert.deepEqual(exit, { code: 0, signal: null }, `${drained.name} exits 0 after its drain\n${stack.processes.tail(drained.name)}`);
    for (const client of staying) assert.equal(await Promise.race([client.closed, Promise.resolve('open')]), 'open');

    // The room still works across the remaining nodes, moved clients included.
    for (const client of moved) await client.join(room);
    moved[0].send({ type: 'send', room, text: 'after the drain', ref: 'after' });
    const ack = await moved[0].waitFor((frame) => frame.type === 'ack' && frame.ref === 'after', 5000, 'ack');
    for (const client of [...staying, ...moved]) {
      await client.waitFor((frame) => frame.type === 'message' && frame.id === ack.id, 5000, `message on ${client.node}`);
    }
  });
});

/**
 * Makes every labelled series the dashboard and alerts read exist: frames of several types, an
 * error, a closed connection, devices posting through the bridge (one well-formed, two the bridge
 * must drop) and a chat message crossing to MQTT.
 */
async function generateEveryKindOfTraffic(stack, clients) {
  clients[0].send({ type: 'ping', ref: 'p' });
  clients[0].send({ type: 'no-such-frame', ref: 'e' });
  await clients[0].waitFor((frame) => frame.type === 'error' && frame.ref === 'e', 5000, 'error unknown_type');

  const leaver = await ChatClient.connect(stack.haproxyUrl, 'leaver');
  await leaver.close();

  const deviceId = 'topology-device';
  const device = await mqtt.connectAsync(stack.mqttUrl, { clientId: deviceId, protocolVersion: 5, reconnectPeriod: 0 });
  try {
    await device.publishAsync(`chat/rooms/${room}/send/${deviceId}`, 'hello from a device', { qos: 1 });
    await device.publishAsync(`chat/rooms/not a valid room/send/${deviceId}`, 'dropped: invalid room name', { qos: 1 });
    await device.publishAsync(`chat/rooms/${room}/send/${deviceId}`, Buffer.from([0xff, 0xfe, 0xfd]), { qos: 1 });
  } finally {
    await device.endAsync();
  }
  await clients[0].waitFor((frame) => frame.type === 'message' && frame.from === deviceId, 10_000, 'the device message');
  clients[1].send({ type: 'send', room, text: 'to the devices', ref: 'to-mqtt' });
  await clients[1].waitFor((frame) => frame.type === 'ack' && frame.ref === 'to-mqtt', 5000, 'ack');
}
