// The Redis Cluster harness against real redis-server nodes: one cluster of 3 masters and 3
// replicas for the whole file (starting one takes seconds), used in this order: read-only checks,
// a live slot migration, then a master killed for good.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
// ioredis's Cluster is the client under test here: it follows -MOVED and -ASK the way the bus
// backend will. Resolved from the workspace root, where packages/cluster's ioredis is installed.
import { Cluster } from 'ioredis';
import { startRedisCluster, type RedisCluster } from './redis-cluster.js';
import { RespError } from './redis-cluster-command.js';
import { SLOT_COUNT } from './redis-cluster-slot.js';
import { parseInfo } from './redis-cluster-view.js';

function clusterClient(cluster: RedisCluster): Cluster {
  const seeds = cluster.seeds.split(',').map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) }));
  return new Cluster(seeds, { maxRedirections: 32, retryDelayOnMoved: 20, retryDelayOnFailover: 100, retryDelayOnClusterDown: 100 });
}

describe('startRedisCluster', { timeout: 150_000 }, () => {
  let cluster: RedisCluster;
  let client: Cluster;
  before(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    client = clusterClient(cluster);
  });
  after(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  test('a cluster of 3 masters with a replica each serves all 16384 slots', { timeout: 20_000 }, async () => {
    assert.equal(cluster.seeds.split(',').length, 6);
    assert.equal(cluster.nodes.length, 6);
    const masters = await cluster.masters();
    assert.equal(masters.length, 3);
    for (const master of masters) {
      assert.equal(await master.role(), 'master');
      const replica = await cluster.replicaOf(master);
      assert.equal(await replica.role(), 'replica');
      assert.equal(parseInfo(String(await replica.command('INFO', 'replication'))).master_port, String(master.port));
    }
    for (const node of cluster.nodes) {
      const info = parseInfo(String(await node.command('CLUSTER', 'INFO')));
      assert.equal(info.cluster_state, 'ok');
      assert.equal(Number(info.cluster_slots_ok), SLOT_COUNT);
    }
  });

  test('slotOf agrees with the server, and keys with one hash tag land on one master', { timeout: 20_000 }, async () => {
    const [anyNode] = cluster.nodes;
    for (const key of ['room:lobby', '{room:lobby}:stream', 'chat:{room:lobby}:presence', 'a{}b', '{}{x}', 'héllo', '{user:7}']) {
      assert.equal(cluster.slotOf(key), await anyNode!.command('CLUSTER', 'KEYSLOT', key), key);
    }
    const keys = ['chat:{room:42}:stream', 'chat:{room:42}:presence', 'chat:{room:42}:trimmed', 'chat:{room:42}:idem:m-1'];
    await client.xadd(keys[0]!, '*', 'text', 'hi');
    await client.hset(keys[1]!, 'alice', '1');
    await client.set(keys[2]!, '0');
    await client.set(keys[3]!, '1', 'EX', 300);
    const owner = await cluster.ownerOf(cluster.slotOf(keys[0]!));
    for (const master of await cluster.masters()) {
      const present = await master.command('EXISTS', ...keys).catch((error: unknown) => {
        // A master that does not serve the slot refuses the keys outright.
        assert.ok(error instanceof RespError && error.code === 'MOVED', String(error));
        return 0;
      });
      assert.equal(present, master.id === owner.id ? keys.length : 0, `master ${master.port}`);
    }
  });

  test('migrateSlot moves a slot with its stream and keys while a writer keeps adding to it', { timeout: 50_000 }, async () => {
    const tag = '{room:migrating}';
    const stream = `chat:${tag}:stream`;
    const slot = cluster.slotOf(stream);
    const source = await cluster.ownerOf(slot);
    const target = (await cluster.masters()).find((m) => m.id !== source.id)!;
    // Enough keys that the migration takes many MIGRATE batches while the writer runs.
    const preloaded = 1500;
    for (let i = 0; i < preloaded; i += 100) {
      await client.mset(Object.fromEntries(Array.from({ length: 100 }, (_, j) => [`chat:${tag}:k:${i + j}`, 'v'])));
    }
    let writing = true;
    let streamAcks = 0;
    let freshAcks = 0;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await client.xadd(stream, '*', 'n', String(i));
        streamAcks++;
        // A key that does not exist yet: while the slot migrates, the source answers it -ASK.
        await client.set(`chat:${tag}:fresh:${i}`, String(i));
        freshAcks++;
      }
    })();
    await sleep(200);
    const ackedBefore = streamAcks;
    // What the source answers for a new key of the slot, asked directly (no redirection followed).
    const answers = new Set<string>();
    let migrating = true;
    const probe = (async () => {
      for (let i = 0; migrating; i++) {
        await source.command('SET', `chat:${tag}:probe:${i}`, '1').then(
          () => answers.add('OK'),
          (error: unknown) => answers.add(error instanceof RespError ? error.code : String(error)),
        );
      }
    })();
    const moved = await cluster.migrateSlot(slot, target.id, { batch: 20 });
    migrating = false;
    await probe;
    const ackedDuring = streamAcks - ackedBefore;
    await sleep(300);
    writing = false;
    await writer;

    assert.ok(moved >= preloaded + 1, `moved ${moved} keys`);
    assert.ok(ackedBefore > 0 && ackedDuring > 0, `the writer wrote before (${ackedBefore}) and during (${ackedDuring}) the migration`);
    assert.ok(answers.has('ASK'), `new keys were sent to the target with -ASK during the migration (answers: ${[...answers].join(', ')})`);
    assert.equal((await cluster.ownerOf(slot)).id, target.id);
    assert.equal(await source.command('CLUSTER', 'COUNTKEYSINSLOT', slot), 0);
    // Nothing lost: every acked entry and key is on the target, read there directly.
    assert.equal(await target.command('XLEN', stream), streamAcks);
    const probesKept = answers.has('OK') ? Number(await target.command('EVAL', "return #redis.call('KEYS', ARGV[1])", 0, `chat:${tag}:probe:*`)) : 0;
    assert.equal(await target.command('CLUSTER', 'COUNTKEYSINSLOT', slot), preloaded + freshAcks + probesKept + 1);
    const ids = await target.command('XRANGE', stream, '-', '+');
    assert.deepEqual((ids as string[][]).map((entry) => (entry[1] as unknown as string[])[1]), Array.from({ length: streamAcks }, (_, i) => String(i)));
    // The source now sends clients to the target for good.
    await assert.rejects(source.command('XADD', stream, '*', 'n', 'direct'), (error: unknown) => error instanceof RespError && error.code === 'MOVED');
  });

  test('a killed master is replaced by its replica within seconds, with the slot\'s data', { timeout: 50_000 }, async () => {
    const stream = 'chat:{room:failover}:stream';
    const slot = cluster.slotOf(stream);
    const master = await cluster.ownerOf(slot);
    const replica = await cluster.replicaOf(master);
    for (let i = 0; i < 100; i++) await master.command('XADD', stream, '*', 'n', String(i));
    // Replication is asynchronous: WAIT makes the 100 entries a promise the replica holds.
    assert.equal(await master.command('WAIT', 1, 5_000), 1);
    const started = Date.now();
    await cluster.killMaster(master.id);
    const promoted = await cluster.waitForFailover(master.id, 15_000);
    const tookMs = Date.now() - started;
    assert.equal(promoted.id, replica.id);
    assert.ok(tookMs < 10_000, `failover took ${tookMs} ms`);
    assert.equal(await promoted.role(), 'master');
    assert.equal(await promoted.command('XLEN', stream), 100);
    assert.equal(master.alive, false);
    assert.ok(!(await cluster.masters()).some((m) => m.id === master.id));
    // A cluster client finds the new master by itself and writes go on.
    await client.xadd(stream, '*', 'n', 'after');
    assert.equal(await promoted.command('XLEN', stream), 101);
  });
});
