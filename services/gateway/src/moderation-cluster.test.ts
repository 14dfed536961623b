import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connectClient, startGateway, type Frame, type GatewayService } from '@chat/testkit';
import { signHs256 } from '@chat/runtime';
import { BUS_BACKENDS, crossNodeSuite, metricValue, sleep } from './test-helpers.js';

const SECRET = 'moderation-test-secret-of-at-least-32-bytes';
const API_KEY = 'mod-k3y';
const token = (sub: string, claims: Record<string, unknown> = {}) => signHs256({ sub, exp: Math.floor(Date.now() / 1000) + 600, ...claims }, SECRET);

/** Moderation and large rooms across nodes, on both Redis backends: the cluster is the unit under test. */
for (const backend of BUS_BACKENDS) describe(`moderation across three gateways on ${backend}`, () => {
  const env = {
    REDIS_PREFIX: `mod${process.pid}:`, RATE_LIMIT: '1000', AUTH_JWT_SECRET: SECRET, API_KEY, LARGE_ROOM: '3', PRESENCE_COUNT_INTERVAL_MS: '300',
  };
  const suite = crossNodeSuite(backend, [env, env, env]);
  const { nodes, open } = suite;
  const connect = async (node: GatewayService, user: string, claims: Record<string, unknown> = {}) => {
    const client = await connectClient(node.wsUrl, { token: token(user, claims) });
    open.push(client);
    return client;
  };
  const member = async (node: GatewayService, user: string, room: string, claims: Record<string, unknown> = {}) => {
    const client = await connect(node, user, claims);
    const reply = await client.request({ type: 'join', room });
    assert.equal(reply.type, 'joined', JSON.stringify(reply));
    return { client, reply };
  };
  const api = (node: GatewayService, method: string, path: string, body?: unknown, key = API_KEY) =>
    fetch(`${node.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const errorOf = (reply: Frame) => [reply.type, reply.code];

  test('a kick on node 1 takes the member\'s connections on nodes 2 and 3 out of the room, and only that room', async () => {
    const room = 'kicking';
    const { client: mod } = await member(nodes[0]!, 'mia', room, { mod: ['kick*'] });
    const { client: onTwo } = await member(nodes[1]!, 'bob', room);
    const { client: onThree } = await member(nodes[2]!, 'bob', room);
    await onThree.request({ type: 'join', room: 'elsewhere' });
    const { client: watcher } = await member(nodes[2]!, 'wes', room);
    const before = await metricValue(nodes[0]!.url, 'chat_moderation_total{action="kick"');

    assert.deepEqual(await mod.request({ type: 'kick', room, user: 'bob' }).then(({ ref, ...r }) => r), { type: 'moderated', room, action: 'kick', user: 'bob' });
    for (const c of [onTwo, onThree]) assert.deepEqual(await c.next((f) => f.type === 'left'), { type: 'left', room, reason: 'kicked' });
    assert.deepEqual(await watcher.next((f) => f.type === 'moderation'), { type: 'moderation', room, action: 'kick', user: 'bob', by: 'mia' });
    assert.deepEqual(await watcher.next((f) => f.type === 'presence' && f.user === 'bob' && f.state === 'leave'), { type: 'presence', room, user: 'bob', state: 'leave' });
    const members = await (await api(nodes[1]!, 'GET', `/api/rooms/${room}/members`)).json() as { members: string[] };
    assert.deepEqual(members.members.sort(), ['mia', 'wes']);
    assert.equal(errorOf(await onTwo.request({ type: 'send', room, text: 'still?' }))[1], 'not_joined');
    assert.equal((await onThree.request({ type: 'send', room: 'elsewhere', text: 'here' })).type, 'ack', 'its other room is kept');
    assert.equal(await metricValue(nodes[0]!.url, 'chat_moderation_total{action="kick"') - before, 1);
    assert.deepEqual(errorOf(await onTwo.request({ type: 'kick', room, user: 'mia' })), ['error', 'forbidden'], 'a member without the claim may not');
  });

  test('a ban blocks join and send on every node, persists across a gateway restart, is listed by the API and lifted by it', async () => {
    const room = 'banning';
    const { client: mod } = await member(nodes[0]!, 'mia', room, { mod: ['banning'] });
    const { client: spammer } = await member(nodes[1]!, 'sam', room);
    await mod.request({ type: 'ban', room, user: 'sam', reason: 'spam links' });
    assert.deepEqual(await spammer.next((f) => f.type === 'left'), { type: 'left', room, reason: 'banned' });
    const sent = await spammer.request({ type: 'send', room, text: 'again' });
    assert.deepEqual(errorOf(sent), ['error', 'banned']);
    assert.match(String(sent.message), /spam links/);

    nodes[2] = await (async (old) => {
      await old.stop();
      return startGateway({ env: { ...env, ...suite.bus!.env } });
    })(nodes[2]!);
    for (const node of nodes) {
      const fresh = await connect(node, 'sam');
      assert.deepEqual(errorOf(await fresh.request({ type: 'join', room })), ['error', 'banned'], `refused on ${node.nodeId}`);
    }
    const listed = await (await api(nodes[2]!, 'GET', `/api/rooms/${room}/bans`)).json();
    assert.deepEqual(listed, { room, bans: [{ user: 'sam', until: 0, reason: 'spam links' }] });
    assert.equal((await api(nodes[2]!, 'GET', `/api/rooms/${room}/bans`, undefined, 'wrong')).status, 401);

    const lifted = await api(nodes[1]!, 'DELETE', `/api/rooms/${room}/bans/sam`);
    assert.deepEqual([lifted.status, await lifted.json()], [200, { room, action: 'unban', user: 'sam' }]);
    assert.deepEqual(await (await api(nodes[0]!, 'GET', `/api/rooms/${room}/bans`)).json(), { room, bans: [] });
    assert.equal((await spammer.request({ type: 'join', room })).type, 'joined', 'the node that cached the ban heard it lifted');
    assert.equal((await spammer.request({ type: 'send', room, text: 'sorry' })).type, 'ack');

    const timed = await api(nodes[0]!, 'PUT', `/api/rooms/${room}/bans/sam`, { seconds: 60, reason: 'cool off' });
    assert.deepEqual(await timed.json(), { room, action: 'ban', user: 'sam' });
    assert.deepEqual(await spammer.next((f) => f.type === 'left'), { type: 'left', room, reason: 'banned' });
    const [ban] = ((await (await api(nodes[1]!, 'GET', `/api/rooms/${room}/bans`)).json()) as { bans: Array<{ until: number; reason: string }> }).bans;
    assert.ok(ban !== undefined && Math.abs(ban.until - (Date.now() + 60_000)) < 5_000 && ban.reason === 'cool off', JSON.stringify(ban));
  });

  test('a mute (here by the API) blocks sending on every node, not reading; unmute lets the member speak', async () => {
    const room = 'muting';
    const { client: loud } = await member(nodes[0]!, 'lou', room);
    const { client: loudElsewhere } = await member(nodes[2]!, 'lou', room);
    const { client: other } = await member(nodes[1]!, 'ora', room);
    assert.equal((await api(nodes[1]!, 'PUT', `/api/rooms/${room}/mutes/lou`, {})).status, 200);
    assert.deepEqual(await other.next((f) => f.type === 'moderation'), { type: 'moderation', room, action: 'mute', user: 'lou', by: 'api' });
    for (const c of [loud, loudElsewhere]) assert.deepEqual(errorOf(await c.request({ type: 'send', room, text: 'x' })), ['error', 'muted']);
    await other.request({ type: 'send', room, text: 'can you read this' });
    for (const c of [loud, loudElsewhere]) assert.equal((await c.next((f) => f.type === 'message')).text, 'can you read this');
    assert.deepEqual(((await (await api(nodes[0]!, 'GET', `/api/rooms/${room}/mutes`)).json()) as { mutes: Array<{ user: string }> }).mutes.map((m) => m.user), ['lou']);
    await api(nodes[2]!, 'DELETE', `/api/rooms/${room}/mutes/lou`);
    await other.next((f) => f.type === 'moderation');
    assert.equal((await loudElsewhere.request({ type: 'send', room, text: 'thanks' })).type, 'ack');
  });

  test('slow mode holds per member across nodes, up to its edge; a moderator granted by the API sets it and is exempt', async () => {
    const room = 'slow';
    assert.equal((await api(nodes[0]!, 'PUT', `/api/rooms/${room}/moderators/gil`)).status, 200);
    assert.deepEqual(await (await api(nodes[1]!, 'GET', `/api/rooms/${room}/moderators`)).json(), { room, moderators: ['gil'] });
    const { client: gil } = await member(nodes[0]!, 'gil', room);
    const { client: one } = await member(nodes[1]!, 'pia', room);
    const { client: two } = await member(nodes[2]!, 'pia', room);
    assert.equal((await gil.request({ type: 'slowmode', room, seconds: 2 })).type, 'moderated');
    await two.next((f) => f.type === 'moderation');
    assert.equal((await one.request({ type: 'send', room, text: 'first' })).type, 'ack');
    const refused = await two.request({ type: 'send', room, text: 'second, from another node' });
    assert.deepEqual(errorOf(refused), ['error', 'slow_mode']);
    const wait = Number(refused.retryAfterMs);
    assert.ok(wait > 1500 && wait <= 2000, `retryAfterMs ${wait}`);
    for (let i = 0; i < 3; i++) assert.equal((await gil.request({ type: 'send', room, text: `mod ${i}` })).type, 'ack', 'exempt');
    await sleep(wait - 400);
    assert.deepEqual(errorOf(await one.request({ type: 'send', room, text: 'early' })), ['error', 'slow_mode']);
    await sleep(500);
    assert.equal((await one.request({ type: 'send', room, text: 'on time' })).type, 'ack');
    assert.equal((await api(nodes[2]!, 'DELETE', `/api/rooms/${room}/moderators/gil`)).status, 200);
    assert.deepEqual(errorOf(await gil.request({ type: 'slowmode', room, seconds: 0 })), ['error', 'forbidden'], 'revoked at once');
    assert.equal((await api(nodes[2]!, 'PUT', `/api/rooms/${room}/slowmode`, { seconds: 0 })).status, 200);
    await two.next((f) => f.type === 'moderation' && f.seconds === 0);
    assert.equal((await two.request({ type: 'send', room, text: 'free' })).type, 'ack');
    assert.equal((await two.request({ type: 'send', room, text: 'again' })).type, 'ack');
  });

  test('a room switches to counts-only presence above LARGE_ROOM, on every node', async () => {
    const room = 'large';
    const { client: watcher } = await member(nodes[0]!, 'w0', room);
    const { client: farWatcher } = await member(nodes[2]!, 'w2', room);
    await member(nodes[1]!, 'u1', room);
    for (const w of [watcher, farWatcher]) {
      assert.deepEqual(await w.next((f) => f.type === 'presence' && f.user === 'u1'), { type: 'presence', room, user: 'u1', state: 'join' }, 'still small: 3 members');
      w.frames.length = 0;
    }
    for (const [i, user] of ['u2', 'u3', 'u4'].entries()) await member(nodes[i]!, user, room);
    const { reply } = await member(nodes[1]!, 'u5', room);
    assert.deepEqual([reply.members, reply.count], [['u1', 'u2', 'u3'], 7]);
    for (const w of [watcher, farWatcher]) {
      // Counts follow each interval while the room fills: the last one says 7.
      let last: Frame;
      do {
        last = await w.next((f) => f.type === 'presence', 3_000);
        assert.equal(last.user, undefined, `no per-user event above the threshold: ${JSON.stringify(last)}`);
      } while (last.count !== 7);
      assert.deepEqual(last, { type: 'presence', room, count: 7 });
    }
    await sleep(700);
    for (const w of [watcher, farWatcher]) assert.deepEqual(w.frames.filter((f) => f.type === 'presence'), [], 'no count again while it stays 7');
    const page = await watcher.request({ type: 'members', room, after: 'u3', limit: 2 });
    assert.deepEqual([page.members, page.next], [['u4', 'u5'], 'u5']);
  });
});
