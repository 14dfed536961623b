/**
 * The SDK against real gateway processes on a real Redis (docs/protocol.md#connect): nodes are SIGKILLed,
 * drained with SIGTERM, and tokens expire for real. Nothing here is faked.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CloseCode } from '@chat/protocol';
import { QueueFullError } from './errors.js';
import type { ChatClient, ChatClientOptions } from './index.js';
import { createNodeClient } from './node.js';
import { record } from './testing/recorder.js';
import { signToken, startCluster, type RealCluster } from './testing/real-cluster.js';
import { sleep, waitFor } from './testing/wait.js';

const clients: ChatClient[] = [];
function connect(options: ChatClientOptions): ChatClient {
  const client = createNodeClient({ backoff: { initialMs: 100, maxMs: 1000 }, ...options });
  clients.push(client);
  return client;
}

let cluster: RealCluster;
before(async () => {
  cluster = await startCluster(['g1', 'g2', 'g3']);
});
after(async () => {
  for (const client of clients) client.close();
  await cluster?.stop();
});

function gateway(name: string) {
  const found = cluster.gateways.find((g) => g.nodeId === name);
  assert.ok(found, `gateway ${name}`);
  return found;
}

test('after its node is SIGKILLed a client resumes on another node with nothing lost or doubled', async () => {
  const [g1, g2] = [gateway('g1'), gateway('g2')];
  const alice = connect({ url: [g1.wsUrl, g2.wsUrl], user: 'alice' });
  const bob = connect({ url: g2.wsUrl, user: 'bob' });
  const seen = record(alice);
  await Promise.all([alice.connect(), bob.connect()]);
  assert.equal(alice.node, 'g1');
  await Promise.all([alice.join('kill'), bob.join('kill')]);

  const sent: string[] = [];
  for (let i = 0; i < 40; i += 1) {
    sent.push((await bob.send('kill', `m${i}`)).id);
    if (i === 10) await g1.kill();
    await sleep(15);
  }
  await waitFor('alice to receive all 40', () => seen.ids('kill').length >= 40, 15_000);
  await sleep(200); // a duplicate would arrive now
  assert.equal(alice.node, 'g2');
  assert.deepEqual(seen.ids('kill'), sent, 'every message once, in order');
  const resumed = seen.joined.filter((j) => j.room === 'kill' && j.resumed);
  assert.equal(resumed.length, 1);
  assert.equal(resumed[0]?.gap, false);
});

test('a draining node (SIGTERM) moves its clients to another node at once, losing nothing', async () => {
  const [g2, g3] = [gateway('g2'), gateway('g3')];
  const carol = connect({ url: [g3.wsUrl, g2.wsUrl], user: 'carol' });
  const bob = connect({ url: g2.wsUrl, user: 'bob' });
  const seen = record(carol);
  await Promise.all([carol.connect(), bob.connect()]);
  assert.equal(carol.node, 'g3');
  await Promise.all([carol.join('drain'), bob.join('drain')]);

  const stopped = g3.stop('SIGTERM');
  const sent: string[] = [];
  for (let i = 0; i < 30; i += 1) {
    sent.push((await bob.send('drain', `d${i}`)).id);
    await sleep(40);
  }
  assert.equal(await stopped, 0, 'a drained node exits 0');
  await waitFor('carol to receive all 30', () => seen.ids('drain').length >= 30, 10_000);
  assert.equal(carol.node, 'g2');
  assert.deepEqual(seen.ids('drain'), sent);
  const moved = seen.statuses.find((s) => s.code === CloseCode.Draining);
  assert.ok(moved, `a 1001 close was seen: ${JSON.stringify(seen.statuses)}`);
  assert.equal(moved.retryInMs, 0, 'no backoff after 1001');
});

test('sends made while no node is reachable are queued, bounded, and go out when one comes back', async () => {
  const g1 = await cluster.add('g1b');
  const g2 = gateway('g2');
  const dave = connect({ url: g1.wsUrl, user: 'dave', maxQueued: 3, requestTimeoutMs: 20_000 });
  const bob = connect({ url: g2.wsUrl, user: 'bob' });
  const seen = record(bob);
  await Promise.all([dave.connect(), bob.connect()]);
  await Promise.all([dave.join('queue'), bob.join('queue')]);

  await g1.kill();
  await waitFor('dave to notice', () => dave.state === 'reconnecting');
  const queued = ['q1', 'q2', 'q3'].map((text) => dave.send('queue', text));
  await assert.rejects(dave.send('queue', 'q4'), QueueFullError);
  await cluster.add('g1c', g1.port);
  const ids = (await Promise.all(queued)).map((s) => s.id);
  await waitFor('bob to see the queued sends', () => seen.texts('queue').length >= 3, 10_000);
  assert.deepEqual(seen.texts('queue'), ['q1', 'q2', 'q3']);
  assert.deepEqual(seen.ids('queue'), ids);
  assert.equal(dave.node, 'g1c');
});

test('with auth on, a short-lived token is refreshed and the client survives its expiry', async () => {
  const secret = 'integration-secret-of-at-least-32-bytes';
  const auth = await startCluster(['a1', 'a2'], { AUTH_JWT_SECRET: secret });
  try {
    const [a1, a2] = auth.gateways as [NonNullable<RealCluster['gateways'][0]>, NonNullable<RealCluster['gateways'][0]>];
    const fetchedAt: number[] = [];
    const erin = connect({
      url: a1.wsUrl,
      token: signToken('erin', 3, secret),
      getToken: () => {
        fetchedAt.push(Date.now());
        return signToken('erin', 3, secret);
      },
    });
    const bob = connect({ url: a2.wsUrl, token: signToken('bob', 600, secret) });
    const seen = record(erin);
    const welcome = await erin.connect();
    assert.equal(welcome.user, 'erin');
    await bob.connect();
    await Promise.all([erin.join('auth'), bob.join('auth')]);
    const firstWelcomeAt = Date.now();

    const sent: string[] = [];
    while (!seen.statuses.some((s) => s.code === CloseCode.TokenExpired) || erin.state !== 'connected' || sent.length < 10) {
      assert.ok(Date.now() - firstWelcomeAt < 15_000, `no 4401 then reconnect within 15 s: ${JSON.stringify(seen.statuses)}`);
      sent.push((await bob.send('auth', `t${sent.length}`)).id);
      await sleep(100);
    }
    const expiredAt = Date.now();
    await waitFor('erin to receive everything', () => seen.ids('auth').length >= sent.length, 10_000);
    assert.deepEqual(seen.ids('auth'), sent, 'nothing lost or doubled across the token swap');
    assert.ok(fetchedAt.length >= 1 && (fetchedAt[0] ?? Infinity) < expiredAt, 'a token was fetched ahead of expiry');
    assert.match((await erin.send('auth', 'still here')).id, /^\d+-\d+$/);
  } finally {
    await auth.stop();
  }
});

test('a resume after more messages than the server keeps reports a gap and replays what is kept', async () => {
  const small = await startCluster(['h1', 'h2'], { HISTORY_LIMIT: '5' });
  try {
    const [h1, h2] = small.gateways as [NonNullable<RealCluster['gateways'][0]>, NonNullable<RealCluster['gateways'][0]>];
    const frank = connect({ url: [h1.wsUrl, h2.wsUrl], user: 'frank' });
    const bob = connect({ url: h2.wsUrl, user: 'bob' });
    const seen = record(frank);
    const gaps: string[] = [];
    frank.on('gap', (g) => gaps.push(g.room));
    await Promise.all([frank.connect(), bob.connect()]);
    await Promise.all([frank.join('gap'), bob.join('gap')]);
    await bob.send('gap', 'seen');
    await waitFor('frank to see the first message', () => seen.texts('gap').length === 1);
    await h1.kill();
    const sent: string[] = [];
    for (let i = 0; i < 12; i += 1) sent.push((await bob.send('gap', `g${i}`)).id);
    await waitFor('frank to resume', () => seen.joined.some((j) => j.resumed), 10_000);
    const resumed = seen.joined.find((j) => j.resumed);
    assert.equal(resumed?.gap, true);
    assert.deepEqual(gaps, ['gap']);
    assert.deepEqual(resumed?.history.map((m) => m.id), sent.slice(-5), 'the 5 kept messages, once, in order');
  } finally {
    await small.stop();
  }
});

test('typing, typers and read markers through real gateways: another node sees the typer, the user\'s other device the marker', async () => {
  const chat = await startCluster(['c1', 'c2']);
  try {
    const [c1, c2] = chat.gateways as [NonNullable<RealCluster['gateways'][0]>, NonNullable<RealCluster['gateways'][0]>];
    const ann = connect({ url: c1.wsUrl, user: 'ann' });
    const annPhone = connect({ url: c2.wsUrl, user: 'ann' });
    const bob = connect({ url: c2.wsUrl, user: 'bob' });
    await Promise.all([ann.connect(), annPhone.connect(), bob.connect()]);
    await Promise.all([ann.join('chatty'), bob.join('chatty')]);
    const phoneReads: unknown[] = [];
    annPhone.on('read', (r) => phoneReads.push(r));

    assert.equal(bob.typing('chatty'), true);
    await waitFor('ann to see bob typing', () => ann.typers('chatty').includes('bob'));
    assert.equal(bob.stopTyping('chatty'), true);
    await waitFor('the stop to reach ann', () => ann.typers('chatty').length === 0);

    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await bob.send('chatty', `m${i}`)).id);
    const joinedLater = await annPhone.join('chatty');
    assert.deepEqual([joinedLater.read, joinedLater.unread], [null, 3]);
    assert.deepEqual(await ann.markRead('chatty', ids[1]!), { room: 'chatty', id: ids[1], unread: 1 });
    await waitFor('the phone to hear the marker', () => phoneReads.length === 1);
    assert.deepEqual(phoneReads, [{ room: 'chatty', id: ids[1], unread: 1 }]);
  } finally {
    await chat.stop();
  }
});
