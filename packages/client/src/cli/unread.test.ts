import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import type { ReadState } from '../events.js';
import { MARK_INTERVAL_MS, Unread, type ReadingClient } from './unread.js';

/** A client that records the markRead calls; `last` is each room's newest message id. */
function fakeClient() {
  const last = new Map<string, string>();
  const marks: Array<[string, string]> = [];
  const client: ReadingClient = {
    state: 'connected',
    lastId: (room) => last.get(room),
    markRead: (room, id) => {
      marks.push([room, id]);
      return Promise.resolve<ReadState>({ room, id, unread: 0 });
    },
  };
  return { client, last, marks };
}

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
afterEach(() => mock.timers.reset());

test('the current room is marked at once, then at most once per interval, with the newest id at its end', () => {
  const { client, last, marks } = fakeClient();
  const unread = new Unread(client, () => undefined);
  last.set('den', '1-0');
  unread.onMessage('den', true);
  assert.deepEqual(marks, [['den', '1-0']]);
  last.set('den', '2-0');
  unread.onMessage('den', true);
  last.set('den', '3-0');
  unread.onMessage('den', true);
  mock.timers.tick(MARK_INTERVAL_MS - 1);
  assert.equal(marks.length, 1, 'one millisecond short of the interval');
  mock.timers.tick(1);
  assert.deepEqual(marks, [['den', '1-0'], ['den', '3-0']], 'the calls within the interval folded into one');
  mock.timers.tick(MARK_INTERVAL_MS);
  unread.mark('den');
  assert.equal(marks.length, 2, 'nothing newer: no second read of the same id');
});

test('other rooms count from the server\'s number, follow read events, and reset when marked', () => {
  const { client, last } = fakeClient();
  const unread = new Unread(client, () => undefined);
  unread.set('wire', 3, false);
  unread.onMessage('wire', false);
  assert.equal(unread.count('wire'), 4);
  unread.set('wire', 1, false); // another connection read up to there
  assert.equal(unread.count('wire'), 1);
  last.set('wire', '9-0');
  unread.mark('wire');
  assert.equal(unread.count('wire'), 0);
  unread.forget('wire');
  assert.equal(unread.count('wire'), 0);
});

test('quitting sends the folded read while connected, and not while reconnecting', () => {
  const { client, last, marks } = fakeClient();
  const unread = new Unread(client, () => undefined);
  last.set('den', '1-0');
  unread.mark('den');
  last.set('den', '2-0');
  unread.mark('den');
  unread.flush();
  assert.deepEqual(marks.at(-1), ['den', '2-0']);

  const offline = fakeClient();
  const waiting = new Unread({ ...offline.client, state: 'reconnecting' }, () => undefined);
  offline.last.set('den', '1-0');
  waiting.mark('den');
  offline.last.set('den', '2-0');
  waiting.mark('den');
  waiting.flush();
  assert.deepEqual(offline.marks, [['den', '1-0']]);
});
