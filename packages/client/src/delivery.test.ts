import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '@chat/protocol';
import { resendDelayMs } from './delivery.js';

test('a send refused for slow mode is resent after the server\'s retryAfterMs, never before, with up to 100 ms of jitter', () => {
  assert.equal(resendDelayMs(ErrorCode.SlowMode, 0, () => 0, 1500), 1500);
  assert.equal(resendDelayMs(ErrorCode.SlowMode, 3, () => 1, 1500), 1600, 'the server says how long: no backoff of its own');
  assert.equal(resendDelayMs(ErrorCode.SlowMode, 0, () => 0), 1000, 'a server that did not say: one second');
});

test('banned and muted are final: the send rejects at once', () => {
  for (const code of [ErrorCode.Banned, ErrorCode.Muted, ErrorCode.Forbidden]) assert.equal(resendDelayMs(code, 0, () => 0.5, 1000), undefined, code);
  assert.equal(resendDelayMs(ErrorCode.Unavailable, 0, () => 0), 250, 'unavailable keeps its own backoff');
});
