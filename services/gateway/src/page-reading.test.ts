/**
 * The chat page's reading helpers (services/gateway/public), run in Node: they are plain ES modules
 * that touch the DOM only when asked to draw. What they do in a page is tested in Chromium by
 * packages/client/src/e2e/web-page-reading.test.ts; here, the wording and the throttle's edge.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';

interface MarkingClient {
  lastId(room: string): string | undefined;
  markRead(room: string, id: string): Promise<unknown>;
}
interface ReadMarksModule {
  MARK_INTERVAL_MS: number;
  ReadMarks: new (client: MarkingClient, intervalMs?: number) => { mark(room: string): void; flush(): void; forget(room: string): void };
  newMessagesLine(joined: { read?: string | null; unread?: number; history: unknown[] }, since?: string): { after: string; count: number } | undefined;
  describeNew(count: number): string;
  describeUnread(count: number): string;
}
interface TypingLineModule { describeTypers(users: string[]): string }
interface ReceiptsModule { describeReaders(users: string[]): string }

const page = (file: string): Promise<unknown> => import(new URL(`../public/${file}`, import.meta.url).href);
const marks = (await page('read-marks.js')) as ReadMarksModule;
const typing = (await page('typing-line.js')) as TypingLineModule;
const receipts = (await page('receipts.js')) as ReceiptsModule;

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
afterEach(() => mock.timers.reset());

test('the typing line names one or two typers, and says "several" from three', () => {
  assert.equal(typing.describeTypers([]), '');
  assert.equal(typing.describeTypers(['alice']), 'alice is typing…');
  assert.equal(typing.describeTypers(['alice', 'bob']), 'alice and bob are typing…');
  assert.equal(typing.describeTypers(['alice', 'bob', 'carol']), 'several people are typing…');
});

test('"seen by" names three readers, then counts the rest', () => {
  assert.equal(receipts.describeReaders(['bob']), 'seen by bob');
  assert.equal(receipts.describeReaders(['a', 'b', 'c']), 'seen by a, b, c');
  assert.equal(receipts.describeReaders(['a', 'b', 'c', 'd', 'e']), 'seen by a, b, c +2');
});

test('the new-messages line sits at the read marker, else after the id kept before a reload, else nowhere', () => {
  assert.deepEqual(marks.newMessagesLine({ read: '5-0', unread: 2, history: [] }, '7-0'), { after: '5-0', count: 2 });
  assert.deepEqual(marks.newMessagesLine({ read: null, unread: 9, history: [{}, {}] }, '7-0'), { after: '7-0', count: 2 });
  assert.equal(marks.newMessagesLine({ read: null, unread: 9, history: [{}] }), undefined, 'a first visit');
  assert.equal(marks.describeNew(0), 'Nothing new since your last visit');
  assert.equal(marks.describeNew(1), '1 new message since your last visit');
  assert.equal(marks.describeNew(3), '3 new messages since your last visit');
  assert.equal(marks.describeUnread(1), '1 new message');
  assert.equal(marks.describeUnread(4), '4 new messages');
});

test('a room is marked at once, then at most once per interval, with the newest id when the interval ends', () => {
  const last = new Map<string, string>();
  const sent: string[] = [];
  const reads = new marks.ReadMarks({ lastId: (room) => last.get(room), markRead: (_room, id) => (sent.push(id), Promise.resolve()) });
  last.set('lobby', '1-0');
  reads.mark('lobby');
  last.set('lobby', '2-0');
  reads.mark('lobby');
  last.set('lobby', '3-0');
  reads.mark('lobby');
  mock.timers.tick(marks.MARK_INTERVAL_MS - 1);
  assert.deepEqual(sent, ['1-0'], 'one millisecond short of the interval');
  mock.timers.tick(1);
  assert.deepEqual(sent, ['1-0', '3-0']);
  mock.timers.tick(marks.MARK_INTERVAL_MS);
  reads.mark('lobby');
  assert.deepEqual(sent, ['1-0', '3-0'], 'the same id is not marked twice');
  last.set('lobby', '4-0');
  reads.mark('lobby');
  last.set('lobby', '5-0');
  reads.mark('lobby');
  reads.flush(); // the page is going away
  assert.deepEqual(sent, ['1-0', '3-0', '4-0', '5-0']);
});
