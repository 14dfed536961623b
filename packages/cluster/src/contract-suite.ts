/**
 * One contract for every implementation of the cluster ports: the same assertions run against the
 * in-process stores and against Redis. Exists for tests only; to cover a new port or behaviour,
 * add a test here and both implementations are held to it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compareIds } from '@chat/protocol';
import type { Bus, RoomEvent, UserEvent } from './bus.js';
import type { HistoryStore } from './history-store.js';
import type { PresenceStore } from './presence-store.js';
import { RoomFeed, type FeedSink } from './room-feed.js';

export interface Backend {
  bus: Bus;
  history: HistoryStore;
  presence: PresenceStore;
  /** Stores a message without publishing it: what a node that missed pub/sub traffic would face. */
  appendSilently(room: string, body: string): Promise<string>;
  close(): Promise<void>;
}

export interface BackendOptions {
  historyLimit: number;
  presenceTtlMs: number;
}

let roomCounter = 0;
const freshRoom = () => `room-${process.pid}-${++roomCounter}`;
const draft = (room: string, text: string) => ({ room, from: 'alice', text, ts: Date.now(), receivedAt: Date.now() });
const until = async (what: string, check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

export function runClusterContract(name: string, create: (options: BackendOptions) => Promise<Backend>): void {
  describe(`${name} meets the cluster contract`, () => {
    let b: Backend;
    const roomEvents: RoomEvent[] = [];
    const userEvents: UserEvent[] = [];
    before(async () => {
      b = await create({ historyLimit: 5, presenceTtlMs: 600 });
      b.bus.listen({ room: (e) => roomEvents.push(e), user: (e) => userEvents.push(e), resync() {}, status() {} });
    });
    after(() => b.close());

    test('publish stores a message and delivers it to a subscribed room with the id before it', async () => {
      const room = freshRoom();
      await b.bus.subscribeRoom(room);
      const first = await b.bus.publish(draft(room, 'one'));
      const second = await b.bus.publish(draft(room, 'two'));
      assert.ok(compareIds(first.id, second.id) < 0, 'ids increase');
      assert.deepEqual(JSON.parse(second.event), { type: 'message', room, id: second.id, from: 'alice', text: 'two', ts: JSON.parse(second.event).ts });
      await until('both messages', () => roomEvents.filter((e) => e.kind === 'message' && e.message.room === room).length === 2);
      const got = roomEvents.filter((e): e is Extract<RoomEvent, { kind: 'message' }> => e.kind === 'message' && e.message.room === room);
      assert.deepEqual(got.map((e) => [e.prev, e.message.id]), [['', first.id], [first.id, second.id]]);
    });

    test('a room that is not subscribed gets nothing', async () => {
      const room = freshRoom();
      await b.bus.publish(draft(room, 'unheard'));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(roomEvents.filter((e) => e.kind === 'message' && e.message.room === room).length, 0);
    });

    test('direct reports false when nobody holds the user, and reaches the user and the sender otherwise', async () => {
      assert.equal(await b.bus.direct('nobody', 'alice', '{}', 'c1', Date.now()), false);
      await b.bus.subscribeUser('bob');
      await b.bus.subscribeUser('alice');
      assert.equal(await b.bus.direct('bob', 'alice', '{"x":1}', 'c1', Date.now()), true);
      await until('two copies', () => userEvents.length === 2);
      assert.deepEqual(userEvents.map((e) => [e.user, e.originConn, e.event]).sort(), [['alice', 'c1', '{"x":1}'], ['bob', 'c1', '{"x":1}']]);
    });

    test('history keeps the newest HISTORY_LIMIT messages and pages backwards, oldest first', async () => {
      const room = freshRoom();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await b.bus.publish(draft(room, `m${i}`))).id);
      assert.deepEqual((await b.history.latest(room, 10)).map((m) => m.id), ids.slice(2), 'exactly 5 kept');
      assert.deepEqual((await b.history.latest(room, 2)).map((m) => m.id), ids.slice(5));
      assert.deepEqual((await b.history.before(room, ids[6], 2)).map((m) => m.id), ids.slice(4, 6));
      assert.deepEqual((await b.history.before(room, undefined, 3)).map((m) => m.id), ids.slice(4));
      assert.equal(await b.history.tip(room), ids[6]);
      assert.equal(await b.history.tip(freshRoom()), '');
    });

    test('after() replays what followed an id, and reports a gap once that id was trimmed away', async () => {
      const room = freshRoom();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await b.bus.publish(draft(room, `m${i}`))).id);
      assert.deepEqual(await b.history.after(room, ids[2]!, 100).then((r) => [r.gap, r.messages.map((m) => m.id)]), [false, ids.slice(3)]);
      ids.push((await b.bus.publish(draft(room, 'm5'))).id); // trims ids[0]
      assert.equal((await b.history.after(room, ids[0]!, 100)).gap, false, 'ids[0] itself was trimmed, but nothing after it is missing');
      ids.push((await b.bus.publish(draft(room, 'm6'))).id); // trims ids[1]
      const read = await b.history.after(room, ids[0]!, 100);
      assert.equal(read.gap, true, 'ids[1] is gone');
      assert.deepEqual(read.messages.map((m) => m.id), ids.slice(2));
      assert.equal((await b.history.after(freshRoom(), '1-0', 10)).gap, true, 'a room with no log cannot replay anything');
    });

    test('presence announces a user first joining and last leaving across nodes', async () => {
      const room = freshRoom();
      await b.bus.subscribeRoom(room);
      assert.equal(await b.presence.join(room, 'carol', 'node-a'), true);
      assert.equal(await b.presence.join(room, 'carol', 'node-b'), false);
      assert.deepEqual(await b.presence.members(room), ['carol']);
      assert.equal(await b.presence.leave(room, 'carol', 'node-a'), false);
      assert.equal(await b.presence.leave(room, 'carol', 'node-b'), true);
      assert.deepEqual(await b.presence.members(room), []);
      await until('two presence events', () => roomEvents.filter((e) => e.kind === 'presence' && e.room === room).length === 2);
      assert.deepEqual(roomEvents.filter((e) => e.kind === 'presence' && e.room === room).map((e) => e.kind === 'presence' && e.event.state), ['join', 'leave']);
    });

    test('the users of a node that stops heartbeating are reaped after the ttl, with their leave events', async () => {
      const room = freshRoom();
      await b.bus.subscribeRoom(room);
      await b.presence.join(room, 'dave', 'dead-node');
      await b.presence.join(room, 'erin', 'live-node');
      await b.presence.join(room, 'fay', 'dead-node');
      await b.presence.join(room, 'fay', 'live-node');
      await b.presence.reap();
      assert.deepEqual((await b.presence.members(room)).sort(), ['dave', 'erin', 'fay'], 'nothing reaped before the ttl');
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 250));
        await b.presence.heartbeat('live-node');
      }
      await b.presence.reap();
      await b.presence.reap();
      assert.deepEqual((await b.presence.members(room)).sort(), ['erin', 'fay']);
      await until('dave leaves', () => roomEvents.some((e) => e.kind === 'presence' && e.room === room && e.event.user === 'dave' && e.event.state === 'leave'));
      await new Promise((r) => setTimeout(r, 50));
      const leaves = roomEvents.filter((e) => e.kind === 'presence' && e.room === room && e.event.state === 'leave');
      assert.deepEqual(leaves.map((e) => e.kind === 'presence' && e.event.user), ['dave'], 'fay is still held by a live node; dave leaves once');
    });
  });

  describe(`${name} under a RoomFeed`, () => {
    let b: Backend;
    let feed: RoomFeed;
    const delivered = new Map<string, string[]>();
    const gaps: string[] = [];
    const sink: FeedSink = {
      messages: (room, messages) => delivered.set(room, [...(delivered.get(room) ?? []), ...messages.map((m) => m.id)]),
      presence() {},
      gap: (room) => gaps.push(room),
    };
    before(async () => {
      b = await create({ historyLimit: 50, presenceTtlMs: 5000 });
      feed = new RoomFeed(b.bus, b.history, sink, { recentSize: 8, backfillMax: 50, catchUpMs: 500 });
      b.bus.listen({ room: (e) => feed.onRoomEvent(e), user() {}, resync: () => feed.resync(), status() {} });
    });
    after(() => b.close());

    test('a message missed on pub/sub is backfilled from history before anything newer', async () => {
      const room = freshRoom();
      await feed.open(room);
      const a = (await b.bus.publish(draft(room, 'a'))).id;
      const missed = await b.appendSilently(room, JSON.stringify({ from: 'x', text: 'missed', ts: 1 }));
      const c = (await b.bus.publish(draft(room, 'c'))).id;
      await until('three deliveries', () => (delivered.get(room) ?? []).length === 3);
      assert.deepEqual(delivered.get(room), [a, missed, c]);
    });

    test('resync after a lost subscription delivers what was stored meanwhile, once', async () => {
      const room = freshRoom();
      await feed.open(room);
      const a = (await b.bus.publish(draft(room, 'a'))).id;
      const quiet = await b.appendSilently(room, JSON.stringify({ from: 'x', text: 'during outage', ts: 1 }));
      feed.resync();
      feed.resync();
      await until('two deliveries', () => (delivered.get(room) ?? []).length === 2);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(delivered.get(room), [a, quiet]);
    });

    test('a hole larger than the history limit is reported as a gap, then what history holds is delivered', async () => {
      const room = freshRoom();
      await feed.open(room);
      const seen = (await b.bus.publish(draft(room, 'seen'))).id;
      await until('first delivered', () => (delivered.get(room) ?? []).length === 1);
      const silent: string[] = [];
      for (let i = 0; i < 55; i++) silent.push(await b.appendSilently(room, JSON.stringify({ from: 'x', text: `lost ${i}`, ts: 1 })));
      const last = (await b.bus.publish(draft(room, 'after the hole'))).id;
      await until('backfill delivered', () => (delivered.get(room) ?? []).at(-1) === last);
      assert.ok(gaps.includes(room), 'gap reported');
      assert.deepEqual(delivered.get(room), [seen, ...silent.slice(6), last], 'then exactly the 50 messages history still holds');
    });

    test('a join snapshot plus live delivery holds every message exactly once', async () => {
      const room = freshRoom();
      await feed.open(room);
      const sent: string[] = [];
      for (let i = 0; i < 3; i++) sent.push((await b.bus.publish(draft(room, `before ${i}`))).id);
      await until('backlog delivered', () => (delivered.get(room) ?? []).length === 3);
      let attachedAt = -1;
      const burst = Promise.all(Array.from({ length: 5 }, (_, i) => b.bus.publish(draft(room, `during ${i}`))));
      const snap = await feed.snapshot(room, sent[0], 20, () => { attachedAt = (delivered.get(room) ?? []).length; });
      sent.push(...(await burst).map((m) => m.id));
      await until('burst delivered', () => (delivered.get(room) ?? []).length === 8);
      const live = (delivered.get(room) ?? []).slice(attachedAt);
      assert.deepEqual([...snap.history.map((m) => m.id), ...live], sent.slice(1));
      assert.equal(snap.gap, false);
    });
  });
}
