import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectClient, startGateway, startRedis, type GatewayService, type RedisServer, type TestClient } from '@chat/testkit';
import { joined, messages, post, sleep } from './test-helpers.js';

/** The same checks on the embedded bus and on two gateways sharing one Redis. */
for (const backend of ['the in-process bus', 'Redis'] as const) {
  describe(`a send or direct repeated with its mid is stored once, on ${backend}`, () => {
    let redis: RedisServer | undefined;
    let nodes: GatewayService[];
    const open: TestClient[] = [];
    const env = { REDIS_PREFIX: `once${process.pid}:`, RATE_LIMIT: '1000', IDEMPOTENCY_SECONDS: '2' };
    const member = async (node: number, user: string, room: string) => {
      const r = await joined(nodes[node]!.wsUrl, user, room);
      open.push(r.client);
      return r.client;
    };

    before(async () => {
      if (backend === 'Redis') {
        redis = await startRedis();
        nodes = await Promise.all([0, 1].map(() => startGateway({ redisUrl: redis!.url, env })));
      } else {
        const node = await startGateway({ env });
        nodes = [node, node];
      }
    });
    after(async () => {
      await Promise.all(open.map((c) => c.close()));
      await Promise.all([...new Set(nodes)].map((n) => n.stop()));
      await redis?.stop();
    });

    test('a resend after a lost ack, even from another connection on another node, is acked as a duplicate and reaches nobody twice', async () => {
      const watcher = await member(1, 'watcher', 'mids');
      const first = await member(0, 'ann', 'mids');
      const second = await member(1, 'ann', 'mids');
      const a = await first.request({ type: 'send', room: 'mids', text: 'hello', mid: 'm-1' });
      const b = await second.request({ type: 'send', room: 'mids', text: 'hello', mid: 'm-1' });
      assert.deepEqual([a.type, a.duplicate, b.type, b.duplicate, b.id], ['ack', undefined, 'ack', true, a.id]);
      const other = await first.request({ type: 'send', room: 'mids', text: 'another', mid: 'm-2' });
      const [seen, next] = await messages(watcher, 'mids', 2);
      assert.deepEqual([seen!.id, next!.id], [a.id, other.id], 'the repeat was never delivered');
      const page = await watcher.request({ type: 'history', room: 'mids' });
      assert.deepEqual((page.messages as Array<{ id: string }>).map((m) => m.id), [a.id, other.id]);
      const metrics = await (await fetch(`${nodes[1]!.url}/metrics`)).text();
      assert.match(metrics, /^chat_duplicates_total\{node="[^"]+"\} 1$/m);
    });

    test("a mid is its sender's: the same mid from another user is another message", async () => {
      const bo = await member(0, 'bo', 'scoped');
      const cy = await member(1, 'cy', 'scoped');
      const a = await bo.request({ type: 'send', room: 'scoped', text: 'x', mid: 'same' });
      const b = await cy.request({ type: 'send', room: 'scoped', text: 'x', mid: 'same' });
      assert.equal(b.duplicate, undefined);
      assert.notEqual(a.id, b.id);
    });

    test('after IDEMPOTENCY_SECONDS the same mid stores a new message', async () => {
      const dee = await member(0, 'dee', 'window');
      const a = await dee.request({ type: 'send', room: 'window', text: 'x', mid: 'late' });
      await sleep(2_300);
      const b = await dee.request({ type: 'send', room: 'window', text: 'x', mid: 'late' });
      assert.equal(b.duplicate, undefined);
      assert.notEqual(b.id, a.id);
    });

    test('a direct repeated with its mid reaches the recipient once', async () => {
      const eve = await connectClient(nodes[1]!.wsUrl, { user: 'eve' });
      const fox = await connectClient(nodes[0]!.wsUrl, { user: 'fox' });
      open.push(eve, fox);
      await sleep(100); // the directory lists eve
      const a = await fox.request({ type: 'direct', to: 'eve', text: 'psst', mid: 'd-1' });
      const b = await fox.request({ type: 'direct', to: 'eve', text: 'psst', mid: 'd-1' });
      const c = await fox.request({ type: 'direct', to: 'eve', text: 'psst', mid: 'd-2' });
      assert.deepEqual([a.type, b.duplicate, b.id, c.duplicate], ['ack', true, a.id, undefined]);
      await eve.next((f) => f.type === 'direct' && f.id === a.id);
      await eve.next((f) => f.type === 'direct' && f.id === c.id);
      await sleep(200);
      assert.equal(eve.frames.filter((f) => f.type === 'direct').length, 0, 'nothing more arrived');
    });

    test('the HTTP routes store once per Idempotency-Key and answer the first id again', async () => {
      const gus = await member(1, 'gus', 'api-once');
      const url = `${nodes[0]!.url}/api/rooms/api-once/messages`;
      const first = await post(url, { text: 'deploy done' }, { 'idempotency-key': 'job-42' });
      const again = await post(nodes[1]!.url + '/api/rooms/api-once/messages', { text: 'deploy done' }, { 'idempotency-key': 'job-42' });
      assert.deepEqual([first.status, again.status], [202, 202]);
      const [a, b] = [(await first.json()) as { id: string }, (await again.json()) as { id: string }];
      assert.equal(b.id, a.id);
      const [seen] = await messages(gus, 'api-once', 1);
      assert.equal(seen!.id, a.id);
      await sleep(200);
      assert.equal(gus.frames.filter((f) => f.type === 'message').length, 0, 'the repeat was not published');
      const bad = await post(url, { text: 'x' }, { 'idempotency-key': 'has space' });
      assert.equal(bad.status, 400);
      const dm1 = await post(`${nodes[0]!.url}/api/users/gus/messages`, { text: 'hi' }, { 'idempotency-key': 'dm-1' });
      const dm2 = await post(`${nodes[0]!.url}/api/users/gus/messages`, { text: 'hi' }, { 'idempotency-key': 'dm-1' });
      assert.equal(((await dm2.json()) as { id: string }).id, ((await dm1.json()) as { id: string }).id);
    });
  });
}

describe('an outage of Redis never doubles a message resent with its mid', () => {
  let redis: RedisServer;
  let node: GatewayService;
  const open: TestClient[] = [];
  before(async () => {
    redis = await startRedis();
    node = await startGateway({ redisUrl: redis.url, env: { REDIS_PREFIX: `pause${process.pid}:`, RATE_LIMIT: '1000' } });
  });
  after(async () => {
    process.kill(redis.pid, 'SIGCONT');
    await Promise.all(open.map((c) => c.close()));
    await node.stop();
    await redis.stop();
  });

  test('a send answered unavailable while Redis is paused, resent with its mid after, exists exactly once', async () => {
    const { client } = await joined(node.wsUrl, 'hal', 'paused');
    open.push(client);
    process.kill(redis.pid, 'SIGSTOP');
    const during = await client.request({ type: 'send', room: 'paused', text: 'during the pause', mid: 'p-1' }, 10_000);
    assert.equal(during.type, 'error');
    assert.equal(during.code, 'unavailable');
    assert.match(String(during.message), /outcome is unknown|not stored/);
    process.kill(redis.pid, 'SIGCONT');
    let resent = during;
    for (let attempt = 0; attempt < 50 && resent.type !== 'ack'; attempt++) {
      await sleep(100);
      resent = await client.request({ type: 'send', room: 'paused', text: 'during the pause', mid: 'p-1' }, 10_000);
    }
    assert.equal(resent.type, 'ack');
    const page = await client.request({ type: 'history', room: 'paused' });
    const stored = (page.messages as Array<{ text: string; id: string }>).filter((m) => m.text === 'during the pause');
    assert.equal(stored.length, 1, 'stored once');
    assert.equal(stored[0]!.id, resent.id);
    // The paused command ran once Redis resumed, so the resend found it: a duplicate.
    assert.equal(resent.duplicate, true);
  });
});
