/**
 * One contract for every implementation of the cluster ports: the same assertions run against the
 * in-process stores and against Redis. Exists for tests only; to cover a new port or behaviour,
 * add a test here and both implementations are held to it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compareIds } from '@chat/protocol';
import type { BridgeStores } from './bridge-stores.js';
import type { Bus, RoomEvent, UserEvent } from './bus.js';
import { openCluster, type ClusterOptions } from './cluster.js';
import type { HistoryStore } from './history-store.js';
import type { ModerationStore } from './moderation-store.js';
import type { PresenceStore } from './presence-store.js';
import type { ReadMarkers } from './read-markers.js';
import { RoomFeed, type FeedSink } from './room-feed.js';
import type { RoomTap } from './room-tap.js';

export interface Backend {
  bus: Bus;
  history: HistoryStore;
  presence: PresenceStore;
  openTap(name: string): RoomTap;
  bridgeStores(leaseMs: number): BridgeStores;
  markers: ReadMarkers;
  moderation: ModerationStore;
  /** Stores a message without publishing it: what a node that missed pub/sub traffic would face. */
  appendSilently(room: string, body: string): Promise<string>;
  /**
   * Makes the log forget its newest `count` messages (Infinity: the whole log), as Redis restarted
   * empty or failed over to a replica that lagged would.
   */
  loseNewest(room: string, count: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A Backend on Redis (one Redis or a Redis Cluster, as `options` name it): opens the stores, waits
 * until they are connected, and reaches into the room logs for the test hooks.
 */
export async function redisBackend(options: ClusterOptions): Promise<Backend> {
  const cluster = openCluster(options);
  await until('the bus connected', () => cluster.bus.connected, 10_000);
  const redis = cluster.redis!.command;
  return {
    ...cluster,
    appendSilently: async (room, body) => {
      const [log, tip] = [cluster.keys.roomLog(room), cluster.keys.roomTip(room)];
      const prev = (await redis.xrevrange(log, '+', '-', 'COUNT', 1))[0]?.[0] ?? '';
      const id = (await redis.xadd(log, 'MAXLEN', options.historyLimit, '*', 'p', prev, 'b', body)) as string;
      await redis.set(tip, id);
      return id;
    },
    // A replica that never got the newest appends never got their writes of the tip either: the
    // tip goes with them, and the next append reads the newest id left in the log.
    loseNewest: async (room, count) => {
      const log = cluster.keys.roomLog(room);
      await redis.del(cluster.keys.roomTip(room));
      if (count === Infinity) await redis.del(log);
      else for (const [id] of await redis.xrevrange(log, '+', '-', 'COUNT', count)) await redis.xdel(log, id);
    },
  };
}

export interface BackendOptions {
  historyLimit: number;
  presenceTtlMs: number;
  idempotencyMs: number;
}

let roomCounter = 0;
const freshRoom = () => `room-${process.pid}-${++roomCounter}`;
const draft = (room: string, text: string, idempotencyKey?: string) => {
  const base = { room, from: 'alice', text, ts: Date.now(), receivedAt: Date.now() };
  return idempotencyKey === undefined ? base : { ...base, idempotencyKey };
};
let directCounter = 0;
const directDraft = (to: string, from: string, event: string, originConn: string, idempotencyKey?: string) => {
  const base = { to, from, event, originConn, receivedAt: Date.now(), id: `d${++directCounter}` };
  return idempotencyKey === undefined ? base : { ...base, idempotencyKey };
};
const IDEMPOTENCY_MS = 600;
const until = async (what: string, check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** A feed sink that records, per room, the ids it was handed and 'GAP' where a gap was reported. */
function recorder(): { delivered: Map<string, string[]>; gaps: string[]; sink: FeedSink } {
  const delivered = new Map<string, string[]>();
  const gaps: string[] = [];
  const record = (room: string, ids: string[]) => delivered.set(room, [...(delivered.get(room) ?? []), ...ids]);
  const sink: FeedSink = {
    messages: (room, messages) => {
      record(room, messages.map((m) => m.id));
    },
    presence() {},
    signal() {},
    gap: async (room) => {
      gaps.push(room);
      record(room, ['GAP']);
    },
  };
  return { delivered, gaps, sink };
}

export function runClusterContract(name: string, create: (options: BackendOptions) => Promise<Backend>): void {
  describe(`${name} meets the cluster contract`, () => {
    let b: Backend;
    const roomEvents: RoomEvent[] = [];
    const userEvents: UserEvent[] = [];
    before(async () => {
      b = await create({ historyLimit: 5, presenceTtlMs: 600, idempotencyMs: IDEMPOTENCY_MS });
      b.bus.listen({ room: (e) => roomEvents.push(e), user: (e) => userEvents.push(e), resync() {}, status() {} });
    });
    after(() => b.close());

    test('publish stores a message and delivers it to a subscribed room with the id before it', async () => {
      const room = freshRoom();
      await b.bus.subscribeRoom(room);
      const first = await b.bus.publish(draft(room, 'one'));
      const second = await b.bus.publish(draft(room, 'two'));
      assert.ok(compareIds(first.id, second.id) < 0, 'ids increase');
      await until('both messages', () => roomEvents.filter((e) => e.kind === 'message' && e.message.room === room).length === 2);
      const got = roomEvents.filter((e): e is Extract<RoomEvent, { kind: 'message' }> => e.kind === 'message' && e.message.room === room);
      const event = JSON.parse(got[1]!.message.event);
      assert.deepEqual(event, { type: 'message', room, id: second.id, from: 'alice', text: 'two', ts: event.ts });
      assert.deepEqual(got.map((e) => [e.prev, e.message.id]), [['', first.id], [first.id, second.id]]);
    });

    test('a signal reaches the room\'s subscribers now and is never stored', async () => {
      const room = freshRoom();
      await b.bus.subscribeRoom(room);
      await b.bus.signal(room, '{"type":"typing","room":"x"}');
      await until('the signal', () => roomEvents.some((e) => e.kind === 'signal' && e.room === room));
      assert.deepEqual(roomEvents.filter((e) => (e.kind === 'message' ? e.message.room : e.room) === room), [{ kind: 'signal', room, json: '{"type":"typing","room":"x"}' }]);
      assert.deepEqual(await b.history.latest(room, 10), []);
      assert.equal(await b.history.tip(room), '');
      await b.bus.signal(freshRoom(), '{"type":"typing"}'); // nobody listens: no error
    });

    test('a signal about a user says so, for nodes to spare that user\'s own connections', async () => {
      const room = freshRoom();
      await b.bus.subscribeRoom(room);
      await b.bus.signal(room, '{"type":"typing","room":"r","user":"ann ann"}', 'ann');
      await until('the signal', () => roomEvents.some((e) => e.kind === 'signal' && e.room === room));
      assert.deepEqual(roomEvents.filter((e) => e.kind === 'signal' && e.room === room), [{ kind: 'signal', room, json: '{"type":"typing","room":"r","user":"ann ann"}', exceptUser: 'ann' }]);
    });

    test('read markers: none at first (unread is what history holds), then they move only forward and count what follows', async () => {
      const room = freshRoom();
      const ids: string[] = [];
      assert.deepEqual(await b.markers.position(room, 'ann'), { id: null, unread: 0 });
      for (let i = 0; i < 7; i++) ids.push((await b.bus.publish(draft(room, `m${i}`))).id);
      assert.deepEqual(await b.markers.position(room, 'ann'), { id: null, unread: 5 }, 'history holds 5 of the 7');
      assert.deepEqual(await b.markers.mark(room, 'ann', ids[4]!), { id: ids[4], unread: 2, moved: true });
      assert.deepEqual(await b.markers.mark(room, 'ann', ids[3]!), { id: ids[4], unread: 2, moved: false }, 'never backwards');
      assert.deepEqual(await b.markers.mark(room, 'ann', ids[4]!), { id: ids[4], unread: 2, moved: false });
      assert.deepEqual(await b.markers.position(room, 'bob'), { id: null, unread: 5 }, 'markers are per user');
      for (let i = 0; i < 3; i++) ids.push((await b.bus.publish(draft(room, `more${i}`))).id);
      assert.deepEqual(await b.markers.position(room, 'ann'), { id: ids[4], unread: 5 }, 'counted past what history still holds');
      const [ms, seq] = ids[8]!.split('-') as [string, string];
      const between = `${ms}-${BigInt(seq) + 1n}`; // after ids[8], before ids[9] (or equal ms with a later seq)
      const marked = await b.markers.mark(room, 'ann', compareIds(between, ids[9]!) < 0 ? between : ids[8]!);
      assert.deepEqual(marked, { id: ids[8], unread: 1, moved: true }, 'an id between two messages marks the older one');
      assert.deepEqual(await b.markers.mark(room, 'ann', '18446744073709551615-0'), { id: ids[9], unread: 0, moved: true }, 'an id past the newest marks the newest');
      assert.deepEqual(await b.markers.mark(room, 'bob', ids[0]!), { id: null, unread: 5, moved: false }, 'a trimmed id moves nothing');
      assert.deepEqual(await b.markers.mark(room, 'bob', '1-0'), { id: null, unread: 5, moved: false });
      assert.deepEqual(await b.markers.mark(freshRoom(), 'bob', ids[0]!), { id: null, unread: 0, moved: false }, 'a room with no messages');
    });

    test('a room that is not subscribed gets nothing', async () => {
      const room = freshRoom();
      await b.bus.publish(draft(room, 'unheard'));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(roomEvents.filter((e) => e.kind === 'message' && e.message.room === room).length, 0);
    });

    test('direct reports false when nobody holds the user, and reaches the user and the sender otherwise', async () => {
      assert.equal((await b.bus.direct(directDraft('nobody', 'alice', '{}', 'c1'))).reached, false);
      await b.bus.subscribeUser('bob');
      await b.bus.subscribeUser('alice');
      const sent = directDraft('bob', 'alice', '{"x":1}', 'c1');
      assert.deepEqual(await b.bus.direct(sent), { reached: true, id: sent.id, duplicate: false });
      await until('two copies', () => userEvents.length === 2);
      assert.deepEqual(userEvents.map((e) => [e.user, e.originConn, e.event]).sort(), [['alice', 'c1', '{"x":1}'], ['bob', 'c1', '{"x":1}']]);
    });

    test('a direct repeated under one idempotency key is delivered once and acked with the first id', async () => {
      await b.bus.subscribeUser('gus');
      const before = userEvents.length;
      const offline = await b.bus.direct(directDraft('nobody-here', 'hal', '{"n":0}', 'c9', 'k-offline'));
      assert.equal(offline.reached, false);
      const first = directDraft('gus', 'hal', '{"n":1}', 'c9', 'k-direct');
      const again = directDraft('gus', 'hal', '{"n":2}', 'c9', 'k-direct');
      assert.deepEqual(await b.bus.direct(first), { reached: true, id: first.id, duplicate: false });
      assert.deepEqual(await b.bus.direct(again), { reached: true, id: first.id, duplicate: true });
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(userEvents.slice(before).map((e) => e.event), ['{"n":1}'], 'the repeat reached nobody');
      await b.bus.subscribeUser('nobody-here');
      const retried = directDraft('nobody-here', 'hal', '{"n":3}', 'c9', 'k-offline');
      assert.equal((await b.bus.direct(retried)).duplicate, false, 'an undelivered direct keeps no key');
    });

    test('sync reaches the nodes holding the user, marked as sync, and nobody when the user is held nowhere', async () => {
      await b.bus.subscribeUser('sync-user');
      const before = userEvents.length;
      await b.bus.sync('sync-nobody', '{"type":"read"}', 'c0');
      await b.bus.sync('sync-user', '{"type":"read","room":"r","id":"1-0","unread":0}', 'c7');
      await until('the sync', () => userEvents.length > before);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(userEvents.slice(before).map((e) => [e.user, e.originConn, e.event, e.sync]), [['sync-user', 'c7', '{"type":"read","room":"r","id":"1-0","unread":0}', true]]);
    });

    test('a message published twice under one idempotency key is stored and delivered once, and the repeat gets the first id', async () => {
      const room = freshRoom();
      await b.bus.subscribeRoom(room);
      const first = await b.bus.publish(draft(room, 'once', 'u:alice:m1'));
      const again = await b.bus.publish(draft(room, 'once (resent)', 'u:alice:m1'));
      const other = await b.bus.publish(draft(room, 'another', 'u:alice:m2'));
      assert.deepEqual([first.duplicate, again.duplicate, other.duplicate], [false, true, false]);
      assert.equal(again.id, first.id);
      assert.deepEqual((await b.history.latest(room, 10)).map((m) => m.id), [first.id, other.id]);
      await new Promise((r) => setTimeout(r, 100));
      const got = roomEvents.filter((e) => e.kind === 'message' && e.message.room === room);
      assert.equal(got.length, 2, 'the repeat was not published');
      const elsewhere = await b.bus.publish(draft(freshRoom(), 'same key, other room', 'u:alice:m1'));
      assert.equal(elsewhere.duplicate, false, 'keys are per room');
    });

    test('messages handed over together are stored and delivered in the order given, a key repeated among them once', async () => {
      const room = freshRoom();
      const second = freshRoom();
      await b.bus.subscribeRoom(room);
      const published = await Promise.all([
        b.bus.publish(draft(room, 't0', 'u:alice:t0')),
        b.bus.publish(draft(room, 't1')),
        b.bus.publish(draft(second, 'elsewhere', 'u:alice:t0')),
        b.bus.publish(draft(room, 't0 (resent at once)', 'u:alice:t0')),
        b.bus.publish(draft(room, 't2', 'u:alice:t2')),
      ]);
      assert.deepEqual(published.map((p) => p.duplicate), [false, false, false, true, false]);
      assert.equal(published[3]!.id, published[0]!.id);
      const stored = [published[0]!, published[1]!, published[4]!].map((p) => p.id);
      assert.deepEqual((await b.history.latest(room, 10)).map((m) => [m.id, JSON.parse(m.event).text]), stored.map((id, i) => [id, ['t0', 't1', 't2'][i]]));
      await until('the three messages delivered', () => roomEvents.filter((e) => e.kind === 'message' && e.message.room === room).length >= 3);
      const got = roomEvents.flatMap((e) => (e.kind === 'message' && e.message.room === room ? [e.message.id] : []));
      assert.deepEqual(got, stored, 'delivered once each, in order');
      assert.deepEqual((await b.history.latest(second, 10)).map((m) => m.id), [published[2]!.id], 'keys are per room');
    });

    test('an idempotency key is forgotten after the window, and the same key then stores again', async () => {
      const room = freshRoom();
      const first = await b.bus.publish(draft(room, 'x', 'u:alice:late'));
      await new Promise((r) => setTimeout(r, IDEMPOTENCY_MS + 150));
      const later = await b.bus.publish(draft(room, 'x', 'u:alice:late'));
      assert.equal(later.duplicate, false);
      assert.notEqual(later.id, first.id);
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

    test('after() reports a gap when the log lost the id, as after Redis restarted empty or failed over to a lagging replica', async () => {
      const room = freshRoom();
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await b.bus.publish(draft(room, `m${i}`))).id);
      await b.loseNewest(room, 2);
      const lagging = await b.history.after(room, ids[3]!, 100);
      assert.deepEqual([lagging.gap, lagging.tip], [true, ids[1]], 'a replica that never got ids[2] and ids[3]');
      assert.equal((await b.history.after(room, ids[1]!, 100)).gap, false, 'what the replica holds still resumes');
      const next = (await b.bus.publish(draft(room, 'after the failover'))).id;
      const resumed = await b.history.after(room, ids[3]!, 100);
      assert.equal(resumed.gap, true, 'a message stored after the loss does not follow on from the lost one');
      assert.deepEqual(resumed.messages.map((m) => m.id), [next]);
      await b.loseNewest(room, Infinity);
      const empty = await b.history.after(room, next, 100);
      assert.deepEqual([empty.gap, empty.tip, empty.messages.length], [true, '', 0], 'restarted empty');
      // A restart takes longer than a millisecond: a new log's ids start after the lost ones (see README).
      await new Promise((r) => setTimeout(r, 5));
      const fresh = (await b.bus.publish(draft(room, 'first of a new log'))).id;
      assert.equal((await b.history.after(room, next, 100)).gap, true);
      assert.equal((await b.history.after(room, fresh, 100)).gap, false);
      assert.equal((await b.history.after(room, '', 100)).gap, false, 'reading from the start never has a gap');
    });

    test('a loss found by a node is recorded: every resume from before it is a gap, a client cannot record one', async () => {
      const room = freshRoom();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await b.bus.publish(draft(room, `m${i}`))).id);
      await b.loseNewest(room, 2); // a replica that never got ids[3] and ids[4]
      assert.equal((await b.history.after(room, ids[1]!, 100)).gap, false, 'from the replica alone, ids[1] looks whole');
      const [ms, seq] = ids[2]!.split('-').map(Number) as [number, number];
      const madeUp = `${ms}-${seq + 1000}`; // after ids[2], never stored
      assert.equal((await b.history.after(room, madeUp, 100)).gap, true);
      assert.equal((await b.history.after(room, ids[1]!, 100)).gap, false, 'a client\'s made-up since records nothing');
      const found = await b.history.after(room, ids[4]!, 100, { recordLoss: true }); // a node whose cursor was ids[4]
      assert.deepEqual([found.gap, found.tip], [true, ids[2]]);
      for (const since of [ids[0]!, ids[1]!, ids[2]!]) assert.equal((await b.history.after(room, since, 100)).gap, true, `${since}: a resume from before the loss`);
      const next = (await b.bus.publish(draft(room, 'after the failover'))).id;
      assert.equal((await b.history.after(room, next, 100)).gap, false, 'a resume from after the loss');
    });

    test('a lower bound (not a delivered id) has a gap only where the log is known to have lost messages after it', async () => {
      const room = freshRoom();
      const start = `${Date.now() - 1000}-0`;
      assert.equal((await b.history.after(room, start, 10, { bound: true })).gap, false, 'no log: nothing lost');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await b.bus.publish(draft(room, `m${i}`))).id);
      assert.equal((await b.history.after(room, start, 10, { bound: true })).gap, false, 'a log that begins after the bound');
      assert.equal((await b.history.after(room, start, 10)).gap, true, 'the same id as a delivered one is not in the log');
      for (let i = 0; i < 2; i++) ids.push((await b.bus.publish(draft(room, `more${i}`))).id); // trims ids[0], ids[1]
      assert.equal((await b.history.after(room, start, 10, { bound: true })).gap, true, 'messages after the bound were trimmed');
      assert.equal((await b.history.after(room, ids[1]!, 10, { bound: true })).gap, false);
    });

    test('history paging before the smallest id, and resuming after the largest, answer empty', async () => {
      const room = freshRoom();
      await b.bus.publish(draft(room, 'only'));
      assert.deepEqual(await b.history.before(room, '0-0', 10), []);
      const read = await b.history.after(room, '18446744073709551615-18446744073709551615', 10);
      assert.deepEqual(read.messages, []);
    });

    test('the rooms that stored a message are listed by name, a page at a time', async () => {
      const mine = ['c', 'a', 'b'].map((letter) => `list-${process.pid}-${letter}`);
      for (const room of mine) await b.bus.publish(draft(room, 'listed'));
      let all: string[] = [];
      await until('all three listed', () => {
        void b.history.rooms(10_000).then((page) => (all = page.rooms));
        return mine.every((room) => all.includes(room));
      });
      assert.deepEqual(all, [...all].sort(), 'sorted by name');
      assert.deepEqual(all.filter((room) => room.startsWith(`list-${process.pid}-`)), [...mine].sort());
      const at = all.indexOf(mine[1]!); // 'a', the first of mine
      assert.deepEqual(await b.history.rooms(at + 1), { rooms: all.slice(0, at + 1), more: true });
      assert.deepEqual(await b.history.rooms(all.length), { rooms: all, more: false }, 'exactly all: no more');
      assert.deepEqual(await b.history.rooms(all.length - 1), { rooms: all.slice(0, -1), more: true }, 'one short: more');
      assert.equal(all.includes(freshRoom()), false, 'a room nobody wrote in is not listed');
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

    test('a room\'s member count is its present users, each counted once however many nodes hold it', async () => {
      const room = freshRoom();
      assert.equal(await b.presence.count(room), 0);
      await b.presence.join(room, 'gil', 'node-a');
      await b.presence.join(room, 'gil', 'node-b');
      await b.presence.join(room, 'hal', 'node-b');
      assert.equal(await b.presence.count(room), 2);
      await b.presence.leave(room, 'gil', 'node-a');
      assert.equal(await b.presence.count(room), 2, 'gil is still held by node-b');
      await b.presence.leave(room, 'gil', 'node-b');
      await b.presence.leave(room, 'hal', 'node-b');
      assert.equal(await b.presence.count(room), 0);
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
    const { delivered, gaps, sink } = recorder();
    before(async () => {
      b = await create({ historyLimit: 50, presenceTtlMs: 5000, idempotencyMs: IDEMPOTENCY_MS });
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
      assert.deepEqual(delivered.get(room), [seen, 'GAP', ...silent.slice(6), last], 'then exactly the 50 messages history still holds');
    });

    test('members online through a loss of the log get one gap, before anything stored after it', async () => {
      const room = freshRoom();
      await feed.open(room);
      const a = (await b.bus.publish(draft(room, 'a'))).id;
      await until('a delivered', () => (delivered.get(room) ?? []).length === 1);
      await b.loseNewest(room, Infinity);
      feed.resync();
      await until('gap reported', () => gaps.includes(room));
      feed.resync();
      await new Promise((r) => setTimeout(r, 100));
      const c = (await b.bus.publish(draft(room, 'c'))).id;
      await until('c delivered', () => (delivered.get(room) ?? []).includes(c));
      assert.deepEqual(delivered.get(room), [a, 'GAP', c], 'one gap, then the new log');
      const snapshot = await feed.snapshot(room, undefined, 10, () => undefined);
      assert.deepEqual(snapshot.history.map((m) => m.id), [c], 'a join sees nothing of before the loss');
      assert.equal((await feed.snapshot(room, a, 10, () => undefined)).gap, true, 'a client resuming from before the loss gets a gap');
    });

    test('a live message that does not follow the last one delivered, after a lagging failover, is a gap', async () => {
      const room = freshRoom();
      await feed.open(room);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await b.bus.publish(draft(room, `m${i}`))).id);
      await until('three delivered', () => (delivered.get(room) ?? []).length === 3);
      await b.loseNewest(room, 2);
      const next = (await b.bus.publish(draft(room, 'on the replica'))).id;
      await until('next delivered', () => (delivered.get(room) ?? []).includes(next));
      assert.deepEqual(delivered.get(room), [...ids, 'GAP', next]);
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

  describe(`${name}: the room tap, and a RoomFeed that resumes from a cursor`, () => {
    let b: Backend;
    let tap: RoomTap;
    const seen = new Map<string, { prev: string; id: string }[]>();
    const announced = new Set<string>();
    /** What the tap brings goes on to whichever feed a test set here. */
    let follow: RoomFeed | undefined;
    // A feed over the tap subscribes to nothing itself: the tap brings every room.
    const tapped = { subscribeRoom: async () => {}, unsubscribeRoom: async () => {} };
    before(async () => {
      b = await create({ historyLimit: 50, presenceTtlMs: 5000, idempotencyMs: IDEMPOTENCY_MS });
      tap = b.openTap('contract-tap');
      await tap.start({
        message: (room, prev, id, event) => {
          seen.set(room, [...(seen.get(room) ?? []), { prev, id }]);
          follow?.onRoomEvent({ kind: 'message', message: { room, id, event }, prev, receivedAt: 0 });
        },
        // A new room's first messages may have gone by before the tap followed it: check its log.
        room: (room) => {
          announced.add(room);
          follow?.check(room);
        },
        resync: () => follow?.resync(),
      });
    });
    after(async () => {
      await tap.close();
      await b.close();
    });

    test('the tap follows every room, with no member anywhere, each message naming the one before; rooms() lists them', async () => {
      const rooms = [freshRoom(), freshRoom()];
      const firsts = await Promise.all(rooms.map(async (room) => (await b.bus.publish(draft(room, 'first'))).id));
      await until('both rooms announced', () => rooms.every((room) => announced.has(room)));
      const ids: string[][] = [[], []];
      for (let i = 0; i < 3; i++) {
        for (const [k, room] of rooms.entries()) ids[k]!.push((await b.bus.publish(draft(room, `m${i}`))).id);
      }
      const last3 = (room: string) => (seen.get(room) ?? []).filter((m) => !firsts.includes(m.id));
      await until('both rooms tapped', () => rooms.every((room) => last3(room).length === 3));
      for (const [k, room] of rooms.entries()) {
        assert.deepEqual(last3(room).map((m) => m.id), ids[k]);
        assert.deepEqual(last3(room).map((m) => m.prev), [firsts[k], ...ids[k]!.slice(0, 2)]);
      }
      const listed = await tap.rooms();
      assert.ok(rooms.every((room) => listed.includes(room)), 'rooms() lists both');
    });

    test('a feed opened at a cursor reads the log after it page by page, then goes live, each message once, in order', async () => {
      const room = freshRoom();
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) ids.push((await b.bus.publish(draft(room, `stored ${i}`))).id);
      const { delivered, sink } = recorder();
      follow = new RoomFeed(tapped, b.history, sink, { recentSize: 0, backfillMax: 3, catchUpMs: 0 });
      await follow.open(room, { cursor: ids[1]! });
      assert.deepEqual(delivered.get(room), ids.slice(2), 'six stored messages, read three at a time');
      for (let i = 0; i < 3; i++) ids.push((await b.bus.publish(draft(room, `live ${i}`))).id);
      await until('live ones', () => (delivered.get(room) ?? []).length === 9);
      assert.deepEqual(delivered.get(room), ids.slice(2));
      await follow.closeAll();
    });

    test('a feed opened at a lower bound delivers whatever follows it, and no gap for a log that starts later', async () => {
      const before = `${Date.now() - 1000}-0`;
      const room = freshRoom();
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await b.bus.publish(draft(room, `m${i}`))).id);
      const { delivered, sink } = recorder();
      follow = new RoomFeed(tapped, b.history, sink, { recentSize: 0, backfillMax: 3, catchUpMs: 0 });
      await follow.open(room, { cursor: before, bound: true });
      const late = (await b.bus.publish(draft(room, 'late'))).id;
      await until('the late one', () => (delivered.get(room) ?? []).includes(late));
      assert.deepEqual(delivered.get(room), [...ids, late]);
      await follow.closeAll();
    });

    test('a sink that asks for time holds what follows until it is ready, losing and reordering nothing', async () => {
      const room = freshRoom();
      const delivered: string[] = [];
      let ready: () => void = () => {};
      let holding = true;
      follow = new RoomFeed(tapped, b.history, {
        messages: (_room, messages) => {
          delivered.push(...messages.map((m) => m.id));
          if (!holding) return undefined;
          holding = false;
          return new Promise<void>((resolve) => { ready = resolve; });
        },
        presence() {},
        signal() {},
        gap: async () => assert.fail('no gap'),
      }, { recentSize: 0, backfillMax: 50, catchUpMs: 0 });
      await b.bus.publish(draft(room, 'before'));
      await until('the room announced', () => announced.has(room));
      await follow.open(room, { cursor: await b.history.tip(room) });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await b.bus.publish(draft(room, `m${i}`))).id);
      await until('the first', () => delivered.length >= 1);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(delivered, ids.slice(0, 1), 'nothing more while the sink waits');
      ready();
      await until('the rest', () => delivered.length === 5);
      assert.deepEqual(delivered, ids);
      await follow.closeAll();
      follow = undefined;
    });
  });

  describe(`${name}: the bridge's lease and shared state`, () => {
    let b: Backend;
    before(async () => {
      b = await create({ historyLimit: 50, presenceTtlMs: 5000, idempotencyMs: IDEMPOTENCY_MS });
    });
    after(() => b.close());

    test('one holder at a time, with a new fencing token per term; a deposed token cannot save cursors', async () => {
      const { lease, state } = b.bridgeStores(60_000);
      const origin = await state.ensureOrigin();
      assert.equal(await state.ensureOrigin(), origin, 'the origin is fixed once');
      const first = await lease.acquire('a');
      assert.ok(first !== undefined);
      assert.equal(await lease.acquire('b'), undefined, 'held');
      assert.equal(await lease.renew(first), true);
      assert.equal(await state.saveCursors(first, new Map([['r', '5-0']])), true);
      await lease.release(first);
      const second = await lease.acquire('b');
      assert.ok(second !== undefined && second !== first);
      assert.equal(await lease.renew(first), false, 'the old token no longer renews');
      assert.equal(await state.saveCursors(first, new Map([['r', '9-0']])), false, 'nor saves');
      assert.deepEqual(await state.loadCursors(), { origin, cursors: new Map([['r', '5-0']]) });
      await state.addDeviceRoom('dev-1', 'lobby');
      assert.deepEqual(await state.deviceRooms(['dev-1', 'dev-2']), new Map([['dev-1', ['lobby']], ['dev-2', []]]));
      await lease.release(second);
    });
  });

  describe(`${name}: moderation`, () => {
    let b: Backend;
    const evictions: string[] = [];
    before(async () => {
      b = await create({ historyLimit: 5, presenceTtlMs: 5000, idempotencyMs: IDEMPOTENCY_MS });
      b.bus.listen({ room() {}, user() {}, resync() {}, status() {}, evict: (room, user, reason) => evictions.push(`${room} ${user} ${reason}`) });
    });
    after(() => b.close());

    test('bans and mutes are kept with their end and reason, listed while in force, replaced, lifted, and expire', async () => {
      const room = freshRoom();
      const m = b.moderation;
      assert.deepEqual(await m.rules(room), { bans: new Map(), mutes: new Map(), slowSeconds: 0, moderators: new Set() });
      await m.restrict(room, 'bans', 'zed', 0, 'spam, twice');
      await m.restrict(room, 'bans', 'amy', Date.now() + 60_000, '');
      await m.restrict(room, 'mutes', 'bob', Date.now() + 150, '');
      const bans = await m.list(room, 'bans');
      assert.deepEqual(bans.map((r) => [r.user, r.until === 0, r.reason]), [['amy', false, ''], ['zed', true, 'spam, twice']], 'sorted by user; a reason with spaces survives');
      assert.deepEqual((await m.rules(room)).bans.get('zed'), { user: 'zed', until: 0, reason: 'spam, twice' });
      assert.deepEqual((await m.list(room, 'mutes')).map((r) => r.user), ['bob']);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(await m.list(room, 'mutes'), [], 'a timed mute ends by itself');
      assert.equal(await m.lift(room, 'mutes', 'bob'), false, 'nothing in force to lift');
      await m.restrict(room, 'bans', 'zed', Date.now() + 60_000, 'shortened');
      assert.equal((await m.list(room, 'bans')).find((r) => r.user === 'zed')?.reason, 'shortened', 'a new ban replaces the old');
      assert.equal(await m.lift(room, 'bans', 'zed'), true);
      assert.deepEqual((await m.list(room, 'bans')).map((r) => r.user), ['amy']);
      assert.deepEqual((await m.rules(freshRoom())).bans, new Map(), 'rooms are apart');
    });

    test('slow mode: the interval is stored, and each member gets one slot per interval, told how long is left', async () => {
      const room = freshRoom();
      const m = b.moderation;
      await m.setSlowMode(room, 30);
      assert.equal((await m.rules(room)).slowSeconds, 30);
      assert.equal(await m.takeSlot(room, 'ann', 300), 0);
      const left = await m.takeSlot(room, 'ann', 300);
      assert.ok(left > 0 && left <= 300, `${left} ms left`);
      assert.equal(await m.takeSlot(room, 'bob', 300), 0, 'per member');
      await new Promise((r) => setTimeout(r, 350));
      assert.equal(await m.takeSlot(room, 'ann', 300), 0, 'a new interval once the last is over');
      await m.setSlowMode(room, 0);
      assert.equal((await m.rules(room)).slowSeconds, 0, 'off');
    });

    test('moderators granted and revoked, each change reported once', async () => {
      const room = freshRoom();
      const m = b.moderation;
      assert.equal(await m.setModerator(room, 'mia', true), true);
      assert.equal(await m.setModerator(room, 'mia', true), false);
      assert.deepEqual((await m.rules(room)).moderators, new Set(['mia']));
      assert.deepEqual([await m.isModerator(room, 'mia'), await m.isModerator(room, 'max'), await m.isModerator(freshRoom(), 'mia')], [true, false, false]);
      assert.equal(await m.setModerator(room, 'mia', false), true);
      assert.equal(await m.setModerator(room, 'mia', false), false);
      assert.deepEqual((await m.rules(room)).moderators, new Set());
      assert.equal(await m.isModerator(room, 'mia'), false);
    });

    test('an eviction reaches the listener of a node holding the user, and no other', async () => {
      const room = freshRoom();
      await b.bus.subscribeUser('held');
      await b.bus.evict(room, 'held', 'kicked');
      await b.bus.evict(room, 'elsewhere', 'banned');
      await b.bus.evict(room, 'held', 'banned');
      await until('two evictions', () => evictions.length >= 2);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(evictions, [`${room} held kicked`, `${room} held banned`]);
    });
  });
}
