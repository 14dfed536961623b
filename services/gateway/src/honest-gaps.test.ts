import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGateway, startRedis, type GatewayService, type RedisServer, type TestClient } from '@chat/testkit';
import { joined, messages } from './test-helpers.js';

describe('when Redis loses a room history, every member and every resuming client is told', () => {
  let redis: RedisServer;
  let nodes: GatewayService[];
  const open: TestClient[] = [];
  // At debug level, so that the operator's view of the loss (the feed's backfill and gap lines) is checked too.
  const env = { REDIS_PREFIX: `gaps${process.pid}:`, RATE_LIMIT: '1000', LOG_LEVEL: 'debug' };
  before(async () => {
    redis = await startRedis();
    nodes = await Promise.all([0, 1].map(() => startGateway({ redisUrl: redis.url, env })));
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
  });

  test('Redis restarted empty: members online get joined with gap true once, then the new messages; a resume from before gets gap true', async () => {
    const members = await Promise.all([0, 1].map(async (n) => (await joined(nodes[n]!.wsUrl, `m${n}`, 'lost')).client));
    open.push(...members);
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(await members[0]!.request({ type: 'send', room: 'lost', text: `before ${i}` }));
    for (const m of members) await messages(m, 'lost', 3);
    const lastSeen = String(sent.at(-1)!.id);

    await redis.kill();
    redis = await startRedis(redis.port);
    for (const m of members) {
      const gap = await m.next((f) => f.type === 'joined' && f.room === 'lost', 20_000);
      assert.equal(gap.gap, true, 'an unsolicited joined with gap true');
    }
    for (const node of nodes) {
      const feed = node.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg: string; room?: string });
      assert.ok(feed.some((l) => l.msg === 'room feed backfill' && l.room === 'lost'), `${node.nodeId} logs its backfill of the room`);
      assert.ok(feed.some((l) => l.msg === 'room feed gap' && l.room === 'lost'), `${node.nodeId} logs the gap it found`);
    }

    let ack = await members[1]!.request({ type: 'send', room: 'lost', text: 'after' }, 10_000);
    for (let attempt = 0; ack.type !== 'ack' && attempt < 50; attempt++) {
      await new Promise((r) => setTimeout(r, 200));
      ack = await members[1]!.request({ type: 'send', room: 'lost', text: 'after' }, 10_000);
    }
    assert.equal(ack.type, 'ack');
    for (const m of members) {
      const [next] = await messages(m, 'lost', 1);
      assert.equal(next!.id, ack.id);
      assert.equal(m.frames.filter((f) => f.type === 'joined').length, 0, 'the gap is reported once');
    }

    const { client: resumed, reply } = await joined(nodes[1]!.wsUrl, 'late', 'lost', lastSeen);
    open.push(resumed);
    assert.equal(reply.gap, true, 'a client resuming from before the loss');
    assert.deepEqual((reply.history as Array<{ id: string }>).map((m) => m.id), [ack.id]);
    const { client: current, reply: fine } = await joined(nodes[0]!.wsUrl, 'current', 'lost', String(ack.id));
    open.push(current);
    assert.equal(fine.gap, false, 'a client resuming from after the loss has no gap');
  });
});
