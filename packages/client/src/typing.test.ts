import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypingState } from './typing.js';

/** A TypingState on a clock the test moves by hand. */
function typingAt(intervalMs: number) {
  let now = 1_000_000;
  const state = new TypingState(intervalMs, () => now);
  return { state, advance: (ms: number) => (now += ms) };
}

test('typing goes out at most once per interval and room, and again at once after a stop', () => {
  const { state, advance } = typingAt(2000);
  assert.equal(state.shouldSend('a'), true);
  assert.equal(state.shouldSend('b'), true, 'each room has its own throttle');
  advance(1999);
  assert.equal(state.shouldSend('a'), false, 'one millisecond short of the interval');
  advance(1);
  assert.equal(state.shouldSend('a'), true, 'the interval is over');
  assert.equal(state.shouldStop('a'), true);
  assert.equal(state.shouldStop('a'), false, 'nothing left to stop');
  assert.equal(state.shouldSend('a'), true, 'news again after a stop');
  assert.equal(state.shouldStop('never-typed'), false);
});

test('typers are shown until their ttl runs out, their stop or their message, per room', () => {
  const { state, advance } = typingAt(2000);
  state.onTyping({ type: 'typing', room: 'a', user: 'bob', ttl: 5000 });
  state.onTyping({ type: 'typing', room: 'a', user: 'amy', ttl: 1000 });
  state.onTyping({ type: 'typing', room: 'b', user: 'cy', ttl: 5000 });
  assert.deepEqual(state.typers('a'), ['amy', 'bob']);
  advance(999);
  assert.deepEqual(state.typers('a'), ['amy', 'bob']);
  advance(1);
  assert.deepEqual(state.typers('a'), ['bob'], 'amy expired at her ttl');
  state.onTyping({ type: 'typing', room: 'a', user: 'bob', ttl: 5000 });
  advance(4999);
  assert.deepEqual(state.typers('a'), ['bob'], 'a repeat extends the ttl');
  state.onTyping({ type: 'typing', room: 'a', user: 'bob', ttl: 0 });
  assert.deepEqual(state.typers('a'), [], 'ttl 0 is a stop');
  state.onMessage('b', 'cy');
  assert.deepEqual(state.typers('b'), [], 'a message ends its sender\'s typing');
  state.onTyping({ type: 'typing', room: 'c', user: 'dee', ttl: 5000 });
  state.forget('c');
  assert.deepEqual(state.typers('c'), []);
});
