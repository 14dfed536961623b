import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseCode } from '@chat/protocol';
import { Backoff } from './backoff.js';
import { isTerminal, retryPlan } from './link.js';

test('backoff doubles from 500 ms and stays at the 15 s cap', () => {
  const longest = new Backoff({ random: () => 0 });
  const delays = Array.from({ length: 8 }, () => longest.next());
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
});

test('jitter takes off at most half of each delay', () => {
  const shortest = new Backoff({ random: () => 0.999999 });
  const delays = Array.from({ length: 6 }, () => shortest.next());
  assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 7500]);
  const random = new Backoff();
  for (let n = 0; n < 50; n += 1) {
    const ceiling = random.ceilingMs(random.attempt);
    const delay = random.next();
    assert.ok(delay >= ceiling / 2 && delay <= ceiling, `${delay} within [${ceiling / 2}, ${ceiling}]`);
  }
});

test('reset starts the schedule over', () => {
  const backoff = new Backoff({ random: () => 0, initialMs: 100, maxMs: 1000, multiplier: 3 });
  assert.deepEqual([backoff.next(), backoff.next(), backoff.next(), backoff.next()], [100, 300, 900, 1000]);
  backoff.reset();
  assert.equal(backoff.attempt, 0);
  assert.equal(backoff.next(), 100);
});

test('impossible schedules are refused', () => {
  assert.throws(() => new Backoff({ initialMs: 2000, maxMs: 1000 }), RangeError);
  assert.throws(() => new Backoff({ jitter: 1.5 }), RangeError);
});

test('a draining node is left at once for the next one', () => {
  const backoff = new Backoff({ random: () => 0 });
  assert.deepEqual(retryPlan(CloseCode.Draining, true, backoff), { delayMs: 0, sameNode: false });
  assert.equal(backoff.attempt, 0);
});

test('an expired token reconnects at once to the same node', () => {
  assert.deepEqual(retryPlan(CloseCode.TokenExpired, true, new Backoff()), { delayMs: 0, sameNode: true });
});

test('rate-limit abuse waits the longest delay', () => {
  assert.deepEqual(retryPlan(CloseCode.RateLimited, true, new Backoff({ maxMs: 9000 })), { delayMs: 9000, sameNode: false });
});

test('a dropped connection and a failed attempt back off and move on', () => {
  const backoff = new Backoff({ random: () => 0 });
  assert.deepEqual(retryPlan(1006, true, backoff), { delayMs: 500, sameNode: false });
  assert.deepEqual(retryPlan(CloseCode.Draining, false, backoff), { delayMs: 1000, sameNode: false });
});

test('a slow consumer (4008) is resumed like a dropped connection; only 4403 stops reconnecting', () => {
  const backoff = new Backoff({ random: () => 0 });
  assert.deepEqual(retryPlan(CloseCode.SlowConsumer, true, backoff), { delayMs: 500, sameNode: false });
  assert.equal(isTerminal(CloseCode.SlowConsumer), false);
  assert.equal(isTerminal(CloseCode.Disconnected), true);
  for (const code of [1000, 1001, 1006, 1011, 4401, 4429]) assert.equal(isTerminal(code), false, String(code));
});
