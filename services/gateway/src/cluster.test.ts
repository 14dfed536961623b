import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import {
  connectClient, startGateway, startRedis, startRedisCluster, type GatewayService, type RedisCluster, type RedisServer, type TestClient,
} from '@chat/testkit';
import { joined, messages, post, sleep } from './test-helpers.js';

/** The same black-box checks on both Redis backends; the last two tests take one Redis down, so they run there only. */
for (const backend of ['one Redis', 'a Redis Cluster'] as const) describe(`three gateways on ${backend} behave as one chat server`, () => {
  const single = backend === 'one Redis';
  let redis: RedisServer;
  let redisCluster: RedisCluster;
  /** How the gateways reach the bus: REDIS_URL or REDIS_CLUSTER_NODES. */
  let bus: Record<string, string>;
  /** A connection for the test's own reads of Redis. */
  const admin = () => (single ? new Redis(redis.url) : new Cluster(redisCluster.seeds.split(',').map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) }))));
  let nodes: GatewayService[];
  const env = { REDIS_PREFIX: `c${process.pid}:`, HISTORY_LIMIT: '50', PRESENCE_TTL_SECONDS: '2', RATE_LIMIT: '1000' };
  const open: TestClient[] = [];
  const client = async (node: number, user: string, room: string, since?: string) => {
    const r = await joined(nodes[node]!.wsUrl, user, room, since);
    open.push(r.client);
    return r;
  };

  before(async () => {
    if (single) {
      redis = await startRedis();
      bus = { REDIS_URL: redis.url };
    } else {
      redisCluster = await startRedisCluster();
      bus = { REDIS_CLUSTER_NODES: redisCluster.seeds };
    }
    nodes = await Promise.all([0, 1, 2].map(() => startGateway({ env: { ...env, ...bus } })));
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await Promise.all(nodes.map((n) => n.stop()));
    await (single ? redis.stop() : redisCluster.stop());
  });

  test('every member on every node sees a room in one order, whoever sent from wherever', async () => {
    const members = await Promise.all([0, 1, 2].map((n) => client(n, `order${n}`, 'order')));
    await Promise.all(members.map(({ client: c }, n) => Promise.all(Array.from({ length: 30 }, (_, i) => c.request({ type: 'send', room: 'order', text: `${n}:${i}` })))));
    const seen = await Promise.all(members.map(({ client: c }) => messages(c, 'order', 90)));
    const ids = seen.map((list) => list.map((m) => m.id));
    assert.deepEqual(ids[1], ids[0]);
    assert.deepEqual(ids[2], ids[0]);
    assert.equal(new Set(ids[0]).size, 90);
    const texts = seen[0]!.map((m) => String(m.text));
    for (const n of [0, 1, 2]) {
      const own = texts.filter((t) => t.startsWith(`${n}:`));
      assert.deepEqual(own, Array.from({ length: 30 }, (_, i) => `${n}:${i}`), 'each sender keeps its own order');
    }
  });

  test('a client that reconnects to another node resumes with exactly the messages it missed', async () => {
    const { client: writer } = await client(1, 'writer', 'resume');
    const { client: reader } = await joined(nodes[0]!.wsUrl, 'reader', 'resume');
    await writer.request({ type: 'send', room: 'resume', text: 'seen' });
    const [last] = await messages(reader, 'resume', 1);
    await reader.close();
    const missed: string[] = [];
    for (let i = 0; i < 10; i++) missed.push(String((await writer.request({ type: 'send', room: 'resume', text: `missed ${i}` })).id));
    const { client: back, reply } = await client(2, 'reader', 'resume', String(last!.id));
    assert.deepEqual((reply.history as Array<{ id: string }>).map((m) => m.id), missed);
    assert.equal(reply.gap, false);
    const liveAck = await writer.request({ type: 'send', room: 'resume', text: 'live' });
    const [live] = await messages(back, 'resume', 1);
    assert.equal(live!.id, liveAck.id, 'live delivery continues after the replay, nothing doubled');
  });

  test('resuming from an id older than HISTORY_LIMIT reports a gap', async () => {
    const { client: writer } = await client(0, 'gapwriter', 'gappy');
    const first = String((await writer.request({ type: 'send', room: 'gappy', text: 'first' })).id);
    for (let i = 0; i < 55; i++) await writer.request({ type: 'send', room: 'gappy', text: `${i}` });
    const { reply } = await client(1, 'late', 'gappy', first);
    assert.equal(reply.gap, true);
    assert.equal((reply.history as unknown[]).length, 50);
  });

  test('presence: first connection of a user anywhere joins, the last one anywhere leaves', async () => {
    const { client: watcher } = await client(0, 'watcher', 'lounge');
    const { client: b1, reply } = await joined(nodes[1]!.wsUrl, 'bea', 'lounge');
    assert.deepEqual([...(reply.members as string[])].sort(), ['bea', 'watcher']);
    await watcher.next((f) => f.type === 'presence' && f.user === 'bea' && f.state === 'join');
    const { client: b2 } = await joined(nodes[2]!.wsUrl, 'bea', 'lounge');
    await b1.close();
    await sleep(300);
    assert.ok(!watcher.frames.some((f) => f.type === 'presence' && f.user === 'bea'), 'no event while bea is still on another node');
    await b2.close();
    await watcher.next((f) => f.type === 'presence' && f.user === 'bea' && f.state === 'leave');
  });

  test('a direct message reaches the recipient on any node and the sender\'s other connections, not the sending one', async () => {
    const al1 = await connectClient(nodes[0]!.wsUrl, { user: 'al' });
    const al2 = await connectClient(nodes[1]!.wsUrl, { user: 'al' });
    const bo = await connectClient(nodes[2]!.wsUrl, { user: 'bo' });
    open.push(al1, al2, bo);
    const ack = await al1.request({ type: 'direct', to: 'bo', text: 'hi bo' });
    assert.equal(ack.type, 'ack');
    for (const c of [bo, al2]) {
      const d = await c.next((f) => f.type === 'direct');
      assert.deepEqual([d.id, d.from, d.to, d.text], [ack.id, 'al', 'bo', 'hi bo']);
    }
    await sleep(200);
    assert.ok(!al1.frames.some((f) => f.type === 'direct'));
    assert.equal((await al1.request({ type: 'direct', to: 'nobody', text: 'x' })).code, 'user_offline');
    assert.equal((await post(`${nodes[0]!.url}/api/users/bo/messages`, { text: 'from backend' })).status, 202);
    assert.equal((await bo.next((f) => f.type === 'direct' && f.via === 'api')).text, 'from backend');
  });

  test('a leave sent right behind a join wins: the connection gets no messages of that room', async () => {
    const { client: a } = await client(0, 'alice', 'flicker');
    const b = await connectClient(nodes[0]!.wsUrl, { user: 'bob' });
    open.push(b);
    b.send({ type: 'join', room: 'flicker' });
    b.send({ type: 'leave', room: 'flicker', ref: 'gone' });
    await b.next((f) => f.ref === 'gone');
    await sleep(100);
    await a.request({ type: 'send', room: 'flicker', text: 'after the leave' });
    await messages(a, 'flicker', 1);
    await sleep(200);
    assert.equal(b.frames.filter((f) => f.type === 'message').length, 0);
  });

  test('GET /api/nodes lists the live gateways; an operator\'s disconnect closes a user\'s connections on every node with 4403', async () => {
    const victims = [await connectClient(nodes[0]!.wsUrl, { user: 'mallory' }), await connectClient(nodes[2]!.wsUrl, { user: 'mallory' })];
    const bystander = await connectClient(nodes[1]!.wsUrl, { user: 'trent' });
    open.push(...victims, bystander);
    await sleep(100); // the directory lists mallory on both nodes
    const listed = (await (await fetch(`${nodes[1]!.url}/api/nodes`)).json()) as { nodes: Array<{ node: string; connections: number; rooms: number; ready: boolean }> };
    assert.deepEqual(listed.nodes.map((n) => n.node).sort(), nodes.map((n) => n.nodeId).sort());
    assert.ok(listed.nodes.every((n) => n.ready && typeof n.connections === 'number' && typeof n.rooms === 'number'));
    const started = Date.now();
    const res = await post(`${nodes[1]!.url}/api/users/mallory/disconnect`, '');
    assert.deepEqual([res.status, await res.json()], [202, { connections: 2 }]);
    for (const victim of victims) assert.equal((await victim.closed).code, 4403);
    assert.ok(Date.now() - started < 1_500, `closed within ${Date.now() - started} ms`);
    assert.equal((await bystander.request({ type: 'ping' })).type, 'pong', 'others stay connected');
    assert.deepEqual(await (await post(`${nodes[0]!.url}/api/users/nobody-here/disconnect`, '')).json(), { connections: 0 });
  });

  test('GET /api/rooms lists the rooms by name with their cluster-wide member counts, a page of `limit`', async () => {
    await client(0, 'rl-ann', 'rl-a');
    await client(2, 'rl-bea', 'rl-a');
    await client(1, 'rl-cy', 'rl-b');
    for (const room of ['rl-a', 'rl-b', 'rl-c']) assert.equal((await post(`${nodes[0]!.url}/api/rooms/${room}/messages`, { text: 'listed' })).status, 202);
    type Listing = { rooms: Array<{ room: string; members: number }>; more: boolean };
    const list = async (query: string) => (await (await fetch(`${nodes[1]!.url}/api/rooms${query}`)).json()) as Listing;
    let all: Listing = { rooms: [], more: true };
    for (let tries = 0; all.rooms.filter((r) => r.room.startsWith('rl-')).length < 3 && tries < 50; tries++) {
      await sleep(50); // each node lists a room just after storing its first message there
      all = await list('?limit=1000');
    }
    assert.deepEqual(all.rooms.filter((r) => r.room.startsWith('rl-')), [{ room: 'rl-a', members: 2 }, { room: 'rl-b', members: 1 }, { room: 'rl-c', members: 0 }]);
    assert.equal(all.more, false);
    const names = all.rooms.map((r) => r.room);
    assert.deepEqual(names, [...names].sort(), 'sorted by name');
    assert.deepEqual(await list(`?limit=${names.length}`), all, 'a limit of exactly all: no more');
    const short = await list(`?limit=${names.length - 1}`);
    assert.deepEqual([short.rooms, short.more], [all.rooms.slice(0, -1), true], 'one short: more');
    assert.deepEqual((await list('')).rooms, all.rooms.slice(0, 100), 'a page of 100 by default');
    for (const bad of ['0', '1001', 'ten', '1.5', '-1', '']) {
      const res = await fetch(`${nodes[0]!.url}/api/rooms?limit=${bad}`);
      assert.deepEqual([res.status, ((await res.json()) as { error: { code: string } }).error.code], [400, 'bad_request'], `limit=${bad}`);
    }
    assert.equal((await fetch(`${nodes[0]!.url}/api/rooms?limit=1000`)).status, 200, 'the largest limit');
    assert.equal((await post(`${nodes[0]!.url}/api/rooms`, {})).status, 405);
  });

  test('a message posted through the API of one node reaches members on the others', async () => {
    const { client: c } = await client(2, 'reader2', 'api-room');
    const res = await post(`${nodes[0]!.url}/api/rooms/api-room/messages`, { text: 'scheduled' });
    const [m] = await messages(c, 'api-room', 1);
    assert.deepEqual([m!.id, m!.via, m!.from], [((await res.json()) as { id: string }).id, 'api', 'api']);
  });

  test('the users of a node that dies leave the presence of their rooms within the TTL', async () => {
    const doomed = await startGateway({ env: { ...env, ...bus } });
    const { client: watcher } = await client(0, 'mourner', 'fragile');
    await joined(doomed.wsUrl, 'ghost', 'fragile');
    await watcher.next((f) => f.type === 'presence' && f.user === 'ghost' && f.state === 'join');
    assert.equal((await watcher.request({ type: 'direct', to: 'ghost', text: 'still there?' })).type, 'ack');
    const killedAt = Date.now();
    await doomed.kill();
    assert.equal((await watcher.request({ type: 'direct', to: 'ghost', text: 'gone?' })).code, 'user_offline', 'a dead node holds nobody');
    await watcher.next((f) => f.type === 'presence' && f.user === 'ghost' && f.state === 'leave', 15_000);
    assert.ok(Date.now() - killedAt < 6_000, `left after ${Date.now() - killedAt} ms with a 2 s TTL`);
  });

  test('SIGTERM drains a node: not ready, new upgrades refused, clients closed with 1001 over DRAIN_SECONDS, exit 0', async () => {
    const draining = await startGateway({ env: { ...env, ...bus, DRAIN_SECONDS: '2' } });
    const clients = await Promise.all(Array.from({ length: 4 }, (_, i) => connectClient(draining.wsUrl, { user: `d${i}` })));
    const closedAt = clients.map((c) => c.closed.then((r) => ({ ...r, at: Date.now() })));
    const exit = draining.stop('SIGTERM');
    await sleep(100);
    assert.equal((await fetch(`${draining.url}/readyz`)).status, 503);
    await assert.rejects(connectClient(draining.wsUrl, { user: 'latecomer' }), /HTTP 503/);
    const closes = await Promise.all(closedAt);
    assert.ok(closes.every((c) => c.code === 1001));
    const spread = Math.max(...closes.map((c) => c.at)) - Math.min(...closes.map((c) => c.at));
    assert.ok(spread >= 1_000, `closes spread over ${spread} ms`);
    assert.equal(await exit, 0);
    const reader = admin();
    const listed = (await Promise.all([0, 1, 2, 3].map((i) => reader.smembers(`${env.REDIS_PREFIX}directory:{d${i}}`)))).flat();
    reader.disconnect();
    assert.deepEqual(listed, [], 'a drained node takes itself out of the directory entries of its users');
  });

  if (!single) return;

  test('killing Redis pub/sub connections mid-traffic loses nothing: nodes backfill from the stream', async () => {
    const { client: writer } = await client(0, 'steady', 'killzone');
    const readers = await Promise.all([1, 2].map((n) => client(n, `r${n}`, 'killzone')));
    const admin = new Redis(redis.url);
    const sent: string[] = [];
    let killed = 0;
    // Steady traffic (about 200 messages/s): what is stored during a reconnect stays well within
    // HISTORY_LIMIT, so every hole can be backfilled. A flood that outruns history is a real gap.
    for (let i = 0; i < 200; i++) {
      sent.push(String((await writer.request({ type: 'send', room: 'killzone', text: `n${i}` })).id));
      if (i % 50 === 25) killed += Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
      await sleep(5);
    }
    assert.ok(killed >= 8, `each kill cut the subscribers of all three nodes and more (${killed} in all)`);
    const dm = await writer.request({ type: 'direct', to: 'r2', text: 'after the cuts' });
    assert.equal(dm.type, 'ack', 'the directory survives lost subscriber connections');
    assert.equal((await readers[1]!.client.next((f) => f.type === 'direct')).id, dm.id);
    for (const { client: r } of readers) assert.deepEqual((await messages(r, 'killzone', 200, 15_000)).map((m) => m.id), sent);
    await sleep(300);
    for (const { client: r } of readers) {
      assert.equal(r.frames.filter((f) => f.type === 'message').length, 0, 'no duplicates');
      assert.ok(!r.frames.some((f) => f.type === 'joined' && f.gap === true), 'no gap reported');
    }
    admin.disconnect();
  });

  test('with Redis down, sends get unavailable and readiness fails; both recover when it is back', async () => {
    const { client: c } = await client(1, 'patient', 'outage');
    await redis.stop();
    await sleep(300);
    assert.equal((await c.request({ type: 'send', room: 'outage', text: 'lost?' })).code, 'unavailable');
    assert.equal((await fetch(`${nodes[1]!.url}/readyz`)).status, 503);
    assert.equal((await post(`${nodes[1]!.url}/api/rooms/outage/messages`, { text: 'x' })).status, 503);
    redis = await startRedis(redis.port);
    const deadline = Date.now() + 10_000;
    while ((await Promise.all(nodes.map((n) => fetch(`${n.url}/readyz`)))).some((r) => r.status !== 200)) {
      assert.ok(Date.now() < deadline, 'ready again within 10 s');
      await sleep(100);
    }
    assert.equal((await c.request({ type: 'send', room: 'outage', text: 'back' })).type, 'ack');
    await messages(c, 'outage', 1);
    // The new Redis started empty: each node lists its users again, so directs find them.
    const { client: caller } = await client(0, 'caller', 'outage');
    const dm = await caller.request({ type: 'direct', to: 'patient', text: 'are you back?' });
    assert.equal(dm.type, 'ack', `a direct after the restart: ${JSON.stringify(dm)}`);
    assert.equal((await c.next((f) => f.type === 'direct')).text, 'are you back?');
  });
});
