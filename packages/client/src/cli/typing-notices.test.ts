import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypingNotices } from './typing-notices.js';

/** TypingNotices on a clock the test moves by hand. */
function noticesAt() {
  let now = 1_000_000;
  return { notices: new TypingNotices(() => now), advance: (ms: number) => (now += ms) };
}

const typing = (user: string, ttl = 5000, room = 'den') => ({ type: 'typing' as const, room, user, ttl });

test('a start prints one line; repeats within the ttl print nothing', () => {
  const { notices, advance } = noticesAt();
  assert.equal(notices.onTyping(typing('dan')), '* dan is typing in den…');
  advance(2000);
  assert.equal(notices.onTyping(typing('dan')), undefined);
  advance(4999);
  assert.equal(notices.onTyping(typing('dan')), undefined, 'the repeat kept it alive');
  assert.equal(notices.onTyping(typing('dan', 5000, 'wire')), '* dan is typing in wire…', 'each room apart');
});

test('after the ttl, a stop or a message, the next typing is a start again', () => {
  const { notices, advance } = noticesAt();
  notices.onTyping(typing('dan', 1000));
  advance(1000);
  assert.equal(notices.onTyping(typing('dan', 1000)), '* dan is typing in den…', 'the ttl ran out');
  assert.equal(notices.onTyping(typing('dan', 0)), undefined, 'a stop prints nothing');
  assert.equal(notices.onTyping(typing('dan')), '* dan is typing in den…');
  notices.onMessage('den', 'dan');
  assert.equal(notices.onTyping(typing('dan')), '* dan is typing in den…');
  notices.forget('den');
  assert.equal(notices.onTyping(typing('dan')), '* dan is typing in den…');
});
