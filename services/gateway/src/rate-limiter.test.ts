import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RATE_LIMITED_REPLY_EVERY_MS, RateLimiter } from './rate-limiter.js';

test('a connection may burst to twice its rate, then is limited until tokens refill', () => {
  const limiter = new RateLimiter(10, 10_000, 0);
  for (let i = 0; i < 20; i++) assert.equal(limiter.take(0), 'ok', `frame ${i} of the burst`);
  assert.equal(limiter.take(0), 'limited');
  assert.equal(limiter.take(100), 'ok', 'one token back after 100 ms at 10/s');
  assert.equal(limiter.take(100), 'limited');
});

test('being limited without a one-second pause for the abuse window makes a connection abusive', () => {
  const limiter = new RateLimiter(1, 3_000, 0);
  limiter.take(0);
  limiter.take(0);
  let verdict = '';
  for (let t = 0; t <= 3_000; t += 100) verdict = limiter.take(t);
  assert.equal(verdict, 'abusive');
});

test('a pause of over a second resets the abuse window', () => {
  const limiter = new RateLimiter(1, 3_000, 0);
  for (let t = 0; t <= 2_000; t += 100) limiter.take(t);
  let verdict = limiter.take(3_500);
  assert.equal(verdict, 'ok', 'tokens refilled during the pause');
  while (verdict === 'ok') verdict = limiter.take(3_500);
  assert.equal(verdict, 'limited', 'the streak that began at 0 s no longer counts');
  assert.equal(limiter.take(4_000), 'limited', 'a new streak started at 3.5 s');
});

test('a limited connection may be told rate_limited at most once per second', () => {
  const limiter = new RateLimiter(1, 10_000, 0);
  assert.equal(limiter.mayReply(0), true, 'the first drop is answered');
  assert.equal(limiter.mayReply(1), false);
  assert.equal(limiter.mayReply(RATE_LIMITED_REPLY_EVERY_MS - 1), false, 'not within the second');
  assert.equal(limiter.mayReply(RATE_LIMITED_REPLY_EVERY_MS), true, 'again once the second has passed');
  assert.equal(limiter.mayReply(RATE_LIMITED_REPLY_EVERY_MS + 500), false);
});
