import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerError } from './errors.js';
import type { ChatClient, ChatClientOptions, LeftFrame, ModerationEvent, PresenceCountEvent } from './index.js';
import { createNodeClient } from './node.js';
import { startCluster, type RealCluster } from './testing/real-cluster.js';
import { waitFor } from './testing/wait.js';

const clients: ChatClient[] = [];
function connect(options: ChatClientOptions): ChatClient {
  const client = createNodeClient({ requestTimeoutMs: 5000, ...options });
  clients.push(client);
  return client;
}
const refusedWith = (code: string) => (e: unknown) => e instanceof ServerError && e.code === code;

test('moderation and large rooms through real gateways: refusals are final or timed as the codes say, events reach members', async () => {
  const chat = await startCluster(['m1', 'm2'], { LARGE_ROOM: '3', PRESENCE_COUNT_INTERVAL_MS: '200' });
  try {
    const [m1, m2] = chat.gateways as [RealCluster['gateways'][0] & object, RealCluster['gateways'][0] & object];
    assert.equal((await fetch(`${m1.url}/api/rooms/hall/moderators/mia`, { method: 'PUT' })).status, 200);
    const mia = connect({ url: m1.wsUrl, user: 'mia' });
    const bob = connect({ url: m2.wsUrl, user: 'bob' });
    const ann = connect({ url: m2.wsUrl, user: 'ann' });
    await Promise.all([mia, bob, ann].map((c) => c.connect()));
    await Promise.all([mia, bob, ann].map((c) => c.join('hall')));
    const seen: ModerationEvent[] = [];
    ann.on('moderation', (e) => seen.push(e));
    const left: LeftFrame[] = [];
    bob.on('left', (f) => left.push(f));

    await assert.rejects(bob.kick('hall', 'mia'), refusedWith('forbidden'));
    await mia.mute('hall', 'bob');
    const started = Date.now();
    await assert.rejects(bob.send('hall', 'hello?'), refusedWith('muted'));
    assert.ok(Date.now() - started < 1000, 'muted is final: no resend');
    await mia.unmute('hall', 'bob');
    await mia.slowMode('hall', 1);
    await bob.send('hall', 'one');
    const before = Date.now();
    await bob.send('hall', 'two, resent after retryAfterMs');
    assert.ok(Date.now() - before >= 700, `slow_mode waited ${Date.now() - before} ms before the resend`);
    await mia.slowMode('hall', 0);

    await mia.kick('hall', 'bob');
    await waitFor('bob to be told', () => left.length === 1);
    assert.deepEqual(left, [{ type: 'left', room: 'hall', reason: 'kicked' }]);
    assert.deepEqual(bob.rooms(), [], 'a kicked room is not rejoined');
    await bob.join('hall');
    await mia.ban('hall', 'bob', { reason: 'again' });
    await waitFor('the ban to reach bob', () => left.length === 2);
    await assert.rejects(bob.join('hall'), refusedWith('banned'));
    await waitFor('ann to see every action', () => seen.length === 6);
    assert.deepEqual(seen.map((e) => [e.action, e.user, e.by]), [
      ['mute', 'bob', 'mia'], ['unmute', 'bob', 'mia'], ['slowmode', undefined, 'mia'], ['slowmode', undefined, 'mia'], ['kick', 'bob', 'mia'], ['ban', 'bob', 'mia'],
    ]);

    // Large rooms: above LARGE_ROOM (3) members, counts instead of per-user presence.
    const counts: PresenceCountEvent[] = [];
    mia.on('presenceCount', (e) => counts.push(e));
    const more = ['cy', 'dee', 'eve'].map((user) => connect({ url: m2.wsUrl, user }));
    for (const c of more) {
      await c.connect();
      await c.join('hall');
    }
    await waitFor('a count of 5', () => counts.at(-1)?.count === 5);
    assert.equal(mia.memberCount('hall'), 5);
    const joinedLate = await connect({ url: m1.wsUrl, user: 'fay' }).connect().then(() => clients.at(-1)!.join('hall'));
    assert.deepEqual([joinedLate.members, joinedLate.count], [['ann', 'cy', 'dee'], 6]);
    const first = await mia.memberPage('hall', { limit: 4 });
    assert.deepEqual(first, { members: ['ann', 'cy', 'dee', 'eve'], next: 'eve' });
    assert.deepEqual(await mia.memberPage('hall', { after: first.next! }), { members: ['fay', 'mia'] });
  } finally {
    for (const c of clients.splice(0)) c.close();
    await chat.stop();
  }
});
