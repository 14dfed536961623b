import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { connectClient, repoRoot, startGateway, startProcess, type GatewayService } from '@chat/testkit';
import { joined, messages, metricValue, post, sleep } from './test-helpers.js';

describe('one gateway on the embedded bus speaks chat.v1', () => {
  let gw: GatewayService;
  before(async () => {
    gw = await startGateway({ env: { MAX_TEXT: '20', MAX_PAYLOAD: '512', HISTORY_JOIN: '3', HISTORY_LIMIT: '10', MAX_ROOMS: '3' } });
  });
  after(() => gw.stop());

  test('welcome names the user, the connection, the node and the heartbeat; chat.v1 is selected when offered', async () => {
    const c = await connectClient(gw.wsUrl, { user: 'alice', protocols: ['chat.v1'] });
    assert.equal(c.ws.protocol, 'chat.v1');
    assert.equal(c.welcome.user, 'alice');
    assert.equal(c.welcome.node, gw.nodeId);
    assert.equal(c.welcome.heartbeat, 25000);
    assert.equal(typeof c.welcome.conn, 'string');
    const guest = await connectClient(gw.wsUrl);
    assert.match(String(guest.welcome.user), /^guest-[0-9a-f]+$/);
    await Promise.all([c.close(), guest.close()]);
  });

  test('an invalid user name is refused before the upgrade', async () => {
    await assert.rejects(connectClient(gw.wsUrl, { user: 'a/b' }), /HTTP 400/);
  });

  test('send reaches every member, the sender too, and the sender gets an ack with the id', async () => {
    const { client: a } = await joined(gw.wsUrl, 'alice', 'lobby');
    const { client: b, reply } = await joined(gw.wsUrl, 'bob', 'lobby');
    assert.deepEqual(reply.members, ['alice', 'bob']);
    const ack = await a.request({ type: 'send', room: 'lobby', text: 'hello' });
    assert.equal(ack.type, 'ack');
    for (const c of [a, b]) {
      const [m] = await messages(c, 'lobby', 1);
      assert.equal(m!.id, ack.id);
      assert.equal(m!.from, 'alice');
      assert.equal(m!.text, 'hello');
      assert.ok(Math.abs(Number(m!.ts) - Date.now()) < 5000);
    }
    await Promise.all([a.close(), b.close()]);
  });

  test('join replays the last HISTORY_JOIN messages and history pages backwards from an id', async () => {
    const { client: a } = await joined(gw.wsUrl, 'alice', 'paging');
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(String((await a.request({ type: 'send', room: 'paging', text: `m${i}` })).id));
    const { client: b, reply } = await joined(gw.wsUrl, 'bob', 'paging');
    assert.deepEqual((reply.history as Array<{ id: string }>).map((m) => m.id), ids.slice(3));
    assert.equal(reply.gap, false);
    const page = await b.request({ type: 'history', room: 'paging', before: ids[3], limit: 2 });
    assert.deepEqual((page.messages as Array<{ id: string }>).map((m) => m.id), ids.slice(1, 3));
    const resume = await b.request({ type: 'join', room: 'paging', since: ids[1] });
    assert.deepEqual((resume.history as Array<{ id: string }>).map((m) => m.id), ids.slice(2));
    await Promise.all([a.close(), b.close()]);
  });

  test('ping is answered with pong and the ref', async () => {
    const c = await connectClient(gw.wsUrl, { user: 'pinger' });
    const pong = await c.request({ type: 'ping' });
    assert.equal(pong.type, 'pong');
    assert.equal(typeof pong.ts, 'number');
    await c.close();
  });

  test('leave answers left, and a left room gets no more messages', async () => {
    const { client: a } = await joined(gw.wsUrl, 'alice', 'leaving');
    const { client: b } = await joined(gw.wsUrl, 'bob', 'leaving');
    assert.equal((await b.request({ type: 'leave', room: 'leaving' })).type, 'left');
    await a.request({ type: 'send', room: 'leaving', text: 'after' });
    await messages(a, 'leaving', 1);
    await sleep(100);
    assert.equal(b.frames.filter((f) => f.type === 'message').length, 0);
    assert.equal((await b.request({ type: 'send', room: 'leaving', text: 'x' })).code, 'not_joined');
    await Promise.all([a.close(), b.close()]);
  });

  test('each error code of the contract comes back as an error frame and the connection stays open', async () => {
    const c = await connectClient(gw.wsUrl, { user: 'errors' });
    const errorOf = async (raw: string) => {
      c.sendRaw(raw);
      return (await c.next((f) => f.type === 'error')).code;
    };
    assert.equal(await errorOf('{nope'), 'bad_request');
    assert.equal(await errorOf('{"room":"x"}'), 'bad_request');
    assert.equal(await errorOf('{"type":"join","room":"no spaces"}'), 'bad_request');
    assert.equal(await errorOf('{"type":"send","room":"x","text":1}'), 'bad_request');
    assert.equal(await errorOf('{"type":"teleport"}'), 'unknown_type');
    c.sendRaw(Buffer.from('{"type":"ping"}'));
    assert.equal((await c.next((f) => f.type === 'error')).code, 'bad_request', 'binary frames are refused');
    assert.equal((await c.request({ type: 'send', room: 'nowhere', text: 'x' })).code, 'not_joined');
    assert.equal((await c.request({ type: 'history', room: 'nowhere' })).code, 'not_joined');
    assert.equal((await c.request({ type: 'direct', to: 'nobody-here', text: 'x' })).code, 'user_offline');
    await c.request({ type: 'join', room: 'edge' });
    assert.equal((await c.request({ type: 'send', room: 'edge', text: 'x'.repeat(20) })).type, 'ack', 'exactly MAX_TEXT passes');
    assert.equal((await c.request({ type: 'send', room: 'edge', text: 'x'.repeat(21) })).code, 'too_large');
    assert.equal((await c.request({ type: 'ping' })).type, 'pong');
    await c.close();
  });

  test('a join beyond MAX_ROOMS is refused with too_many_rooms and the connection stays open', async () => {
    const c = await connectClient(gw.wsUrl, { user: 'roomy' });
    for (const room of ['r1', 'r2', 'r3']) assert.equal((await c.request({ type: 'join', room })).type, 'joined', `join ${room}`);
    assert.equal((await c.request({ type: 'join', room: 'r2' })).type, 'joined', 'a room already joined is not counted twice');
    const refused = await c.request({ type: 'join', room: 'r4' });
    assert.deepEqual([refused.type, refused.code], ['error', 'too_many_rooms']);
    assert.equal((await c.request({ type: 'send', room: 'r4', text: 'x' })).code, 'not_joined', 'the refused join left no trace');
    assert.equal((await c.request({ type: 'leave', room: 'r1' })).type, 'left');
    assert.equal((await c.request({ type: 'join', room: 'r4' })).type, 'joined', 'a leave frees a place');
    assert.equal((await c.request({ type: 'join', room: 'r1' })).code, 'too_many_rooms');
    assert.equal((await c.request({ type: 'ping' })).type, 'pong');
    await c.close();
  });

  test('ids out of range are bad_request at once, and history before 0-0 is an empty page', async () => {
    const c = await connectClient(gw.wsUrl, { user: 'edgy' });
    const started = Date.now();
    const join = await c.request({ type: 'join', room: 'r', since: '18446744073709551616-0' }, 1_000);
    assert.deepEqual([join.type, join.code], ['error', 'bad_request']);
    assert.ok(Date.now() - started < 1_000, 'answered without waiting on the bus');
    assert.equal((await c.request({ type: 'join', room: 'r' })).type, 'joined');
    const page = await c.request({ type: 'history', room: 'r', before: '0-0' });
    assert.equal(page.type, 'history');
    assert.deepEqual(page.messages, []);
    await c.close();
  });

  test('a frame of MAX_PAYLOAD bytes is read and one byte more closes the connection with 1009', async () => {
    const c = await connectClient(gw.wsUrl, { user: 'big' });
    const frame = (size: number) => {
      const head = '{"type":"ping","pad":"';
      return head + 'x'.repeat(size - head.length - 2) + '"}';
    };
    c.sendRaw(frame(512));
    assert.equal((await c.next((f) => f.type === 'pong')).type, 'pong');
    c.sendRaw(frame(513));
    assert.equal((await c.closed).code, 1009);
    const again = await connectClient(gw.wsUrl, { user: 'big' });
    again.sendRaw(frame(4096));
    assert.equal((await again.closed).code, 1009, 'well over the limit too');
  });

  test('the HTTP routes answer: page, health, readiness, metrics with the contract names', async () => {
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${gw.url}/readyz`)).status, 200);
    assert.equal((await fetch(`${gw.url}/no-such-page`)).status, 404);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    for (const name of ['chat_connections', 'chat_connections_opened_total', 'chat_connections_closed_total', 'chat_frames_received_total',
      'chat_messages_delivered_total', 'chat_rooms', 'chat_delivery_latency_seconds_bucket', 'chat_bus_publish_seconds_bucket',
      'chat_errors_total', 'chat_backpressure_dropped_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds']) {
      assert.match(metrics, new RegExp(`^${name}\\{[^}]*node="${gw.nodeId}"`, 'm'), `${name} with label node`);
    }
    assert.match(metrics, /chat_delivery_latency_seconds_bucket\{le="0.0001"/, 'buckets below 1 ms');
    assert.ok((await metricValue(gw.url, 'chat_errors_total')) > 0);
  });

  test('the publish API posts into a room marked via api, and a direct to an online user', async () => {
    const { client: a } = await joined(gw.wsUrl, 'alice', 'news');
    const res = await post(`${gw.url}/api/rooms/news/messages`, { text: 'deploy done', from: 'ci' });
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };
    const [m] = await messages(a, 'news', 1);
    assert.deepEqual({ id: m!.id, from: m!.from, via: m!.via, text: m!.text }, { id, from: 'ci', via: 'api', text: 'deploy done' });
    assert.equal((await post(`${gw.url}/api/users/alice/messages`, { text: 'psst' })).status, 202);
    const d = await a.next((f) => f.type === 'direct');
    assert.deepEqual([d.from, d.to, d.text, d.via], ['api', 'alice', 'psst', 'api']);
    assert.equal((await post(`${gw.url}/api/users/ghost/messages`, { text: 'x' })).status, 404);
    assert.equal((await post(`${gw.url}/api/rooms/bad%2Froom/messages`, { text: 'x' })).status, 400);
    assert.equal((await post(`${gw.url}/api/rooms/news/messages`, 'not json')).status, 400);
    assert.equal((await post(`${gw.url}/api/rooms/news/messages`, { text: 'x'.repeat(21) })).status, 413);
    assert.equal((await fetch(`${gw.url}/api/rooms/news/messages`, { method: 'PUT', body: '{}' })).status, 405);
    assert.equal((await fetch(`${gw.url}/api/users/alice/messages`)).status, 405);
    await a.close();
  });

  test('the read API: a room\'s members, and its history paged like the history frame', async () => {
    const { client: reader } = await joined(gw.wsUrl, 'rita', 'annals');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(String((await reader.request({ type: 'send', room: 'annals', text: `entry ${i}` })).id));
    const members = await fetch(`${gw.url}/api/rooms/annals/members`);
    assert.deepEqual([members.status, await members.json()], [200, { room: 'annals', members: ['rita'] }]);
    const all = (await (await fetch(`${gw.url}/api/rooms/annals/messages`)).json()) as { room: string; messages: Array<{ id: string; text: string; from: string }> };
    assert.deepEqual([all.room, all.messages.map((m) => m.id), all.messages[0]!.from], ['annals', ids, 'rita']);
    const older = (await (await fetch(`${gw.url}/api/rooms/annals/messages?before=${ids[2]}&limit=1`)).json()) as { messages: Array<{ id: string }> };
    assert.deepEqual(older.messages.map((m) => m.id), [ids[1]]);
    for (const bad of ['before=yesterday', 'limit=0', 'limit=x']) {
      assert.equal((await fetch(`${gw.url}/api/rooms/annals/messages?${bad}`)).status, 400, bad);
    }
    assert.equal((await fetch(`${gw.url}/api/rooms/bad%2Froom/members`)).status, 400);
    await reader.close();
  });
});

describe('rate limits', () => {
  test('over RATE_LIMIT frames per second are dropped with rate_limited, and sustained abuse closes with 4429', async () => {
    const gw = await startGateway({ env: { RATE_LIMIT: '5', RATE_ABUSE_SECONDS: '2' } });
    const c = await connectClient(gw.wsUrl, { user: 'flood' });
    for (let i = 0; i < 10; i++) c.send({ type: 'ping', ref: `burst${i}` });
    await c.next((f) => f.ref === 'burst9');
    c.send({ type: 'ping', ref: 'over' });
    assert.equal((await c.next((f) => f.type === 'error')).code, 'rate_limited');
    assert.ok(!c.frames.some((f) => f.ref === 'over'), 'the frame over the limit was dropped');
    const started = Date.now();
    const flood = setInterval(() => c.send({ type: 'ping' }), 20);
    const { code } = await c.closed;
    clearInterval(flood);
    assert.equal(code, 4429);
    assert.ok(Date.now() - started >= 1500, 'not closed before the abuse window');
    assert.ok((await metricValue(gw.url, 'chat_errors_total{code="rate_limited"')) > 0);
    await gw.stop();
  });
});

describe('rate limits under a flood', () => {
  test('a flooding client is told rate_limited at most once a second; every dropped frame is counted', async (t) => {
    const gw = await startGateway({ env: { RATE_LIMIT: '20' } });
    t.after(() => gw.stop());
    const c = await connectClient(gw.wsUrl, { user: 'flood' });
    const toldAt: number[] = [];
    c.ws.on('message', (data) => {
      if ((JSON.parse(String(data)) as { code?: string }).code === 'rate_limited') toldAt.push(Date.now());
    });
    const started = Date.now();
    // 5,000 pings over about 2.5 s, in bursts of 500 every 250 ms.
    for (let burst = 0; burst < 10; burst++) {
      for (let i = 0; i < 500; i++) c.send({ type: 'ping' });
      await sleep(250);
    }
    // After a pause the bucket has refilled: this ping is served, and answered after every earlier frame.
    await sleep(1_100);
    await c.request({ type: 'ping' });
    const totalSec = (Date.now() - started) / 1000;
    const spanSec = (toldAt.at(-1)! - started) / 1000;
    assert.ok(toldAt.length >= 2, `told ${toldAt.length} times: the flood is still answered each second`);
    assert.ok(toldAt.length <= Math.ceil(spanSec) + 1, `told ${toldAt.length} times in ${spanSec.toFixed(1)} s`);
    const pongs = c.frames.filter((f) => f.type === 'pong').length;
    assert.ok(pongs <= 40 + 20 * Math.ceil(totalSec), `${pongs} pings served in ${totalSec.toFixed(1)} s: no more than the burst and the rate`);
    assert.equal(await metricValue(gw.url, 'chat_frames_received_total{type="rate_limited"'), 5_000 - pongs, 'every dropped frame counted');
    await c.close();
  });
});

describe('gateway start', () => {
  test('a gateway whose port is taken exits non-zero naming the port, instead of sharing it', async () => {
    const first = await startGateway();
    try {
      // Started by hand: startGateway would take the first gateway's /readyz for the second's.
      const env = { ...process.env, PORT: String(first.port), HOST: '127.0.0.1', NODE_ID: 'second', LOG_LEVEL: 'warn' };
      const second = startProcess(process.execPath, [join(repoRoot, 'services/gateway/dist/main.js')], env);
      assert.equal(await second.exited, 1);
      assert.match(second.output(), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${first.port}: the port is taken`));
      assert.equal((await fetch(`${first.url}/readyz`)).status, 200, 'the first keeps serving');
    } finally {
      await first.stop();
    }
  });
});

describe('gateway configuration', () => {
  test('a bad value stops the process at start with a message naming the variable', async () => {
    for (const [name, value] of [['PORT', 'http'], ['MAX_TEXT', '0'], ['REDIS_URL', 'nope'], ['LOG_LEVEL', 'loud'], ['MAX_ROOMS', '0'], ['IDEMPOTENCY_SECONDS', '0']] as const) {
      await assert.rejects(startGateway({ env: { [name]: value } }), (error: Error) => {
        assert.match(error.message, /exited with 2/);
        assert.match(error.message, new RegExp(`${name}: `));
        return true;
      });
    }
  });
});
