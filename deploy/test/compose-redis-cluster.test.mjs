// docker-compose.redis-cluster.yml, merged over docker-compose.yml the way
// `docker compose -f docker-compose.yml -f docker-compose.redis-cluster.yml` merges it: validated by
// compose-check (compose-go), then checked for the shape of docs/protocol.md#redis-cluster; finally the nodes'
// command lines and the init script are run as local processes, so a flag redis-server or
// redis-cli would refuse fails here rather than on the first `up`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startLoopbackClusterNodes } from './lib/redis-cluster-nodes.mjs';
import { cachedTool, repoPath, run } from './lib/tools.mjs';

const files = [repoPath('docker-compose.yml'), repoPath('docker-compose.redis-cluster.yml')];
const nodeNames = [1, 2, 3, 4, 5, 6].map((i) => `redis-node-${i}`);

// A compose-check built before it took several files answers with its usage: rebuild it.
const stale = 'if this is compose-check\'s usage, rerun `bash deploy/test/install-tools.sh` to rebuild it';

async function merged() {
  const { code, stdout, stderr } = await run(cachedTool('compose-check'), ['--json', ...files]);
  assert.equal(code, 0, `compose-check rejected the merged files (${stale}):\n${stderr}${stdout}`);
  return JSON.parse(stdout);
}

test('the Redis Cluster override validates merged over docker-compose.yml', async () => {
  const { code, stdout, stderr } = await run(cachedTool('compose-check'), files);
  assert.equal(code, 0, `compose-check rejected the merged files (${stale}):\n${stderr}${stdout}`);
  assert.match(stdout, /services \[bridge gateway grafana haproxy mosquitto prometheus redis-cluster-init redis-node-1 redis-node-2 redis-node-3 redis-node-4 redis-node-5 redis-node-6\]/);
  assert.doesNotMatch(stdout, /\bredis\b(?!-)/, 'the single Redis is not started beside the cluster');
});

test('gateways and bridges get REDIS_CLUSTER_NODES with every node, and no REDIS_URL', async () => {
  const { services } = await merged();
  for (const name of ['gateway', 'bridge']) {
    const env = services[name].environment;
    assert.equal(Object.hasOwn(env, 'REDIS_URL'), false, `${name} still has REDIS_URL (${env.REDIS_URL})`);
    assert.deepEqual(env.REDIS_CLUSTER_NODES.split(','), nodeNames.map((n) => `${n}:6379`), name);
    assert.equal(env.REDIS_PREFIX, 'chat:', `${name} keeps the rest of its environment`);
  }
  assert.equal(services.bridge.environment.MQTT_URL, 'mqtt://mosquitto:1883');
});

test('the init service waits for every node, and gateways and bridges wait for the init', async () => {
  const { services } = await merged();
  const init = services['redis-cluster-init'];
  for (const node of nodeNames) assert.equal(init.depends_on?.[node]?.condition, 'service_healthy', `init waits for ${node}`);
  assert.equal(init.restart, 'no', 'a one-shot');
  for (const name of ['gateway', 'bridge']) {
    assert.equal(services[name].depends_on?.['redis-cluster-init']?.condition, 'service_completed_successfully', name);
    assert.equal(services[name].depends_on?.redis, undefined, `${name} no longer waits for the single Redis`);
  }
  assert.equal(services.bridge.depends_on?.mosquitto?.condition, 'service_healthy');
  assert.equal(services.haproxy.depends_on?.gateway?.condition, 'service_healthy', 'the rest of the stack is unchanged');
  const create = init.command.join(' ');
  assert.match(create, new RegExp(`--cluster create ${nodeNames.map((n) => `${n}:6379`).join(' ')} --cluster-replicas 1 --cluster-yes`));
});

test('every node is a cluster node with an append-only file in its own named volume and a health check', async () => {
  const { services, volumes } = await merged();
  for (const name of nodeNames) {
    const node = services[name];
    const args = node.command.join(' ');
    assert.match(node.image, /^redis:7/, name);
    for (const flag of ['--cluster-enabled yes', '--appendonly yes', '--cluster-config-file /data/nodes.conf', '--dir /data',
      `--cluster-announce-hostname ${name}`, '--cluster-preferred-endpoint-type hostname', '--maxmemory-policy noeviction']) {
      assert.ok(args.includes(flag), `${name} runs with ${flag}`);
    }
    const data = node.volumes.find((v) => v.target === '/data');
    assert.equal(data?.type, 'volume', `${name} keeps /data in a named volume`);
    assert.ok(Object.hasOwn(volumes, data.source), `${name}'s volume ${data.source} is declared`);
    assert.ok(Array.isArray(node.healthcheck?.test), `${name} has a health check`);
  }
  const sources = nodeNames.map((name) => services[name].volumes.find((v) => v.target === '/data').source);
  assert.equal(new Set(sources).size, nodeNames.length, 'no two nodes share a volume');
});

test('the nodes\' command lines and the init script form a cluster on loopback, and the init is idempotent', { timeout: 90_000 }, async () => {
  const { services } = await merged();
  // The compose commands as written, minus the program name.
  const nodes = await startLoopbackClusterNodes(nodeNames.map((name) => services[name].command.slice(1)));
  try {
    // The init script with each service name resolved to its loopback port.
    let script = services['redis-cluster-init'].command.at(-1).replaceAll('$$', '$');
    nodeNames.forEach((name, i) => {
      script = script.replaceAll(`${name}:6379`, `127.0.0.1:${nodes.ports[i]}`).replaceAll(`-h ${name} `, `-h 127.0.0.1 -p ${nodes.ports[i]} `);
    });
    assert.doesNotMatch(script, /redis-node-/, 'every service name was rewritten');
    const first = await run('bash', ['-ec', script], { timeoutMs: 80_000 });
    assert.equal(first.code, 0, `the init failed:\n${first.stdout}${first.stderr}`);
    assert.match(first.stdout, /All 16384 slots covered/);
    const second = await run('bash', ['-ec', script], { timeoutMs: 20_000 });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /already formed/);
    // Redirections name the service, which Docker's DNS resolves for the gateways.
    const moved = await run('bash', ['-c', `for p in ${nodes.ports.join(' ')}; do redis-cli -p $p set chat:{room:1}:probe 1; done`]);
    assert.match(moved.stdout, /MOVED \d+ redis-node-\d:\d+/);
  } finally {
    await nodes.stop();
  }
});
