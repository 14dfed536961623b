/**
 * The contract of changes to stored messages (edits, deletes, reactions), run against every bus and
 * history implementation: the in-process stores, one Redis, a Redis Cluster. Exists for tests only;
 * a new kind of change gets its assertions here, and every backend is held to them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compareIds, type MessageChange, type MessageState } from '@chat/protocol';
import type { ChangeDraft, RoomEvent } from './bus.js';
import type { Backend, BackendOptions } from './contract-suite.js';

const HISTORY_LIMIT = 12;
const MAX_REACTIONS = 3;

let rooms = 0;
const freshRoom = () => `changes-${process.pid}-${++rooms}`;
/** A message's state but its rev, which tests check on their own. */
const shown = (state: MessageState | undefined) => {
  if (state === undefined) return undefined;
  const { rev: _rev, ...rest } = state;
  return rest;
};

function changeDraft(room: string, from: string, change: MessageChange, extra: Partial<ChangeDraft> = {}): ChangeDraft {
  return { room, from, change, moderator: false, maxReactions: MAX_REACTIONS, ts: Date.now(), receivedAt: Date.now(), ...extra };
}

export function runChangeContract(name: string, create: (options: BackendOptions) => Promise<Backend>): void {
  describe(`${name}: edits, deletes and reactions`, () => {
    let b: Backend;
    const events: RoomEvent[] = [];
    before(async () => {
      b = await create({ historyLimit: HISTORY_LIMIT, presenceTtlMs: 600, idempotencyMs: 60_000 });
      b.bus.listen({ room: (e) => events.push(e), user() {}, resync() {}, status() {} });
    });
    after(() => b.close());

    const post = async (room: string, from: string, text: string) =>
      (await b.bus.publish({ room, from, text, ts: Date.now(), receivedAt: Date.now() })).id;
    const live = (room: string) =>
      events.flatMap((e) => (e.kind === 'message' && e.message.room === room ? [{ prev: e.prev, ...JSON.parse(e.message.event) }] : []));

    test('an edit by the author is stored as an event of its own, delivered live in order, and history shows the message edited', async () => {
      const room = freshRoom();
      await b.bus.subscribeRoom(room);
      const first = await post(room, 'alice', 'helo');
      const edit = await b.bus.publish(changeDraft(room, 'alice', { kind: 'edit', target: first, text: 'hello' }, { ts: 1234 }));
      assert.equal(edit.refused, undefined);
      assert.ok(compareIds(edit.id, first) > 0, 'the edit takes the next id in the room');
      const second = await post(room, 'bob', 'hi');
      await until('three events live', () => live(room).length === 3);
      assert.deepEqual(live(room)[1], { prev: first, type: 'edit', room, id: edit.id, target: first, from: 'alice', text: 'hello', ts: 1234 });
      assert.deepEqual(live(room).map((e) => e.id), [first, edit.id, second]);

      const latest = await b.history.latest(room, 10);
      assert.deepEqual(latest.map((m) => m.id), [first, second], 'history holds the messages, not the changes');
      assert.deepEqual(latest[0]!.state, { rev: edit.id, text: 'hello', edited: 1234 });
      assert.equal(latest[1]!.state, undefined, 'an unchanged message has no state');
      assert.deepEqual((await b.history.before(room, second, 5)).map((m) => [m.id, m.state?.text]), [[first, 'hello']]);

      const resumed = await b.history.after(room, first, 10);
      assert.deepEqual(resumed.messages.map((m) => m.id), [edit.id, second], 'a resume replays the change itself');
      assert.equal(JSON.parse(resumed.messages[0]!.event).type, 'edit');
      assert.deepEqual(shown((await b.history.after(room, '', 10)).messages[0]!.state), { text: 'hello', edited: 1234 }, 'and marks messages with their latest state');
    });

    test('only the author edits or deletes, unless a moderator; a missing, trimmed or deleted target is not found', async () => {
      const room = freshRoom();
      const first = await post(room, 'alice', 'mine');
      assert.equal((await b.bus.publish(changeDraft(room, 'bob', { kind: 'edit', target: first, text: 'yours' }))).refused, 'forbidden');
      assert.equal((await b.bus.publish(changeDraft(room, 'bob', { kind: 'delete', target: first }))).refused, 'forbidden');
      const moderated = await b.bus.publish(changeDraft(room, 'mod', { kind: 'edit', target: first, text: '[removed link]' }, { moderator: true }));
      assert.equal(moderated.refused, undefined);
      assert.equal((await b.bus.publish(changeDraft(room, 'alice', { kind: 'edit', target: moderated.id, text: 'x' }))).refused, 'not_found', 'a change is not a message');
      assert.equal((await b.bus.publish(changeDraft(room, 'alice', { kind: 'edit', target: '1-0', text: 'x' }))).refused, 'not_found');
      assert.equal((await b.bus.publish(changeDraft(freshRoom(), 'alice', { kind: 'delete', target: first }))).refused, 'not_found', 'another room');

      const deleted = await b.bus.publish(changeDraft(room, 'alice', { kind: 'delete', target: first }));
      assert.equal(deleted.refused, undefined);
      for (const change of [{ kind: 'edit', target: first, text: 'back' }, { kind: 'delete', target: first }, { kind: 'reaction', target: first, emoji: 'wave', on: true }] as const) {
        assert.equal((await b.bus.publish(changeDraft(room, 'alice', change))).refused, 'not_found', `${change.kind} of a deleted message`);
      }
      assert.deepEqual((await b.history.latest(room, 10)).map((m) => [m.id, m.state]), [[first, { rev: deleted.id, deleted: true }]], 'a tombstone keeps its place');

      const old = await post(room, 'alice', 'old');
      for (let i = 0; i < HISTORY_LIMIT; i++) await post(room, 'bob', `filler ${i}`);
      assert.equal((await b.bus.publish(changeDraft(room, 'alice', { kind: 'edit', target: old, text: 'late' }))).refused, 'not_found', 'trimmed');
    });

    test('reactions toggle per user; the same toggle again changes nothing; at most MAX_REACTIONS distinct emoji', async () => {
      const room = freshRoom();
      const target = await post(room, 'alice', 'vote');
      const react = (user: string, emoji: string, on = true) => b.bus.publish(changeDraft(room, user, { kind: 'reaction', target, emoji, on }));
      const bob = await react('bob', '👍');
      const again = await react('bob', '👍');
      assert.deepEqual([again.unchanged, again.id], [true, bob.id], 'acked with the newest change of the message');
      assert.equal((await react('carol', 'nope', false)).unchanged, true, 'removing what is not there');
      await react('carol', '👍');
      await react('carol', 'tada');
      const third = await react('bob', '🇫🇷');
      assert.equal(third.refused, undefined, 'exactly MAX_REACTIONS is allowed');
      assert.equal((await react('dave', 'one-more')).refused, 'too_many_reactions');
      assert.equal((await react('dave', 'tada')).refused, undefined, 'an emoji already there is not a new one');
      await react('bob', '👍', false);
      assert.deepEqual(shown((await b.history.latest(room, 1))[0]!.state), { reactions: { '👍': ['carol'], tada: ['carol', 'dave'], '🇫🇷': ['bob'] } });
      await react('carol', '👍', false);
      assert.equal((await react('dave', 'one-more')).refused, undefined, 'an emoji nobody uses any more frees its place');
      const deleted = await b.bus.publish(changeDraft(room, 'alice', { kind: 'delete', target }));
      assert.equal(deleted.refused, undefined);
      assert.deepEqual((await b.history.latest(room, 1))[0]!.state, { rev: deleted.id, deleted: true }, 'a tombstone has no reactions');
    });

    test('a change repeated under one idempotency key is stored once and the repeat gets the first id', async () => {
      const room = freshRoom();
      const target = await post(room, 'alice', 'typo');
      const edit = () => b.bus.publish(changeDraft(room, 'alice', { kind: 'edit', target, text: 'fixed' }, { idempotencyKey: 'u:alice:e1' }));
      const first = await edit();
      const repeat = await edit();
      assert.deepEqual([repeat.id, repeat.duplicate], [first.id, true]);
      assert.deepEqual((await b.history.after(room, target, 10)).messages.map((m) => m.id), [first.id]);
    });

    test('changes take no place in the unread count', async () => {
      const room = freshRoom();
      const target = await post(room, 'alice', 'one');
      await b.markers.mark(room, 'bob', target);
      await b.bus.publish(changeDraft(room, 'alice', { kind: 'edit', target, text: 'uno' }));
      await b.bus.publish(changeDraft(room, 'carol', { kind: 'reaction', target, emoji: 'ok', on: true }));
      await post(room, 'alice', 'two');
      assert.equal((await b.markers.position(room, 'bob')).unread, 1);
      assert.equal((await b.markers.position(room, 'dan')).unread, 2, 'no marker: the messages history holds');
      // Four entries so far; nine more make thirteen: the first message is trimmed, the edit is the oldest entry.
      for (let i = 0; i < HISTORY_LIMIT - 3; i++) {
        assert.equal((await b.bus.publish(changeDraft(room, 'carol', { kind: 'reaction', target, emoji: 'ok', on: i % 2 === 1 }))).refused, undefined);
      }
      assert.equal((await b.markers.position(room, 'dan')).unread, 1, 'the first message trimmed, a change now the oldest entry');
      await b.bus.publish(changeDraft(room, 'carol', { kind: 'reaction', target: (await b.history.latest(room, 1))[0]!.id, emoji: 'ok', on: true }));
      assert.equal((await b.markers.position(room, 'dan')).unread, 1);
    });
  });
}

async function until(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
