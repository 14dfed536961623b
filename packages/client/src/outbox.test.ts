import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, type ClientFrame } from '@chat/protocol';
import { ConnectionLostError, QueueFullError, ServerError, TimeoutError } from './errors.js';
import { Outbox } from './outbox.js';

function collect(): { frames: ClientFrame[]; write: (f: ClientFrame) => boolean } {
  const frames: ClientFrame[] = [];
  return { frames, write: (f) => (frames.push(f), true) };
}
const always = (): boolean => true;

test('a request resolves with the reply that carries its ref', async () => {
  const outbox = new Outbox({ maxQueued: 10, timeoutMs: 1000 });
  const sent = outbox.request({ type: 'send', room: 'lobby', text: 'hi' }, 'lobby');
  const wire = collect();
  outbox.flush(wire.write, always);
  assert.deepEqual(wire.frames, [{ type: 'send', room: 'lobby', text: 'hi', ref: 'r1' }]);
  assert.equal(outbox.settle({ type: 'ack', ref: 'r2', id: '1-0' }), false);
  assert.equal(outbox.settle({ type: 'ack', ref: 'r1', id: '1-0' }), true);
  assert.deepEqual(await sent, { type: 'ack', ref: 'r1', id: '1-0' });
  assert.equal(outbox.inFlight, 0);
});

test('an error frame rejects its request with a ServerError carrying the code', async () => {
  const outbox = new Outbox({ maxQueued: 10, timeoutMs: 1000 });
  const sent = outbox.request({ type: 'direct', to: 'bob', text: 'hi' });
  outbox.flush(collect().write, always);
  outbox.settle({ type: 'error', code: ErrorCode.UserOffline, message: 'bob is offline', ref: 'r1' });
  await assert.rejects(sent, (e: unknown) => e instanceof ServerError && e.code === ErrorCode.UserOffline);
});

test('the offline queue is bounded', async () => {
  const outbox = new Outbox({ maxQueued: 2, timeoutMs: 1000 });
  const first = outbox.request({ type: 'ping' });
  const second = outbox.request({ type: 'ping' });
  await assert.rejects(outbox.request({ type: 'ping' }), QueueFullError);
  assert.equal(outbox.queued, 2);
  outbox.flush(collect().write, always);
  assert.equal(outbox.queued, 0);
  const third = outbox.request({ type: 'ping' });
  assert.equal(outbox.queued, 1, 'in-flight requests do not count against the queue');
  outbox.rejectAll(new Error('done'));
  await Promise.allSettled([first, second, third]);
});

test('a queued request that times out is never written', async () => {
  const outbox = new Outbox({ maxQueued: 10, timeoutMs: 20 });
  const sent = outbox.request({ type: 'send', room: 'lobby', text: 'late' }, 'lobby');
  await assert.rejects(sent, (e: unknown) => e instanceof TimeoutError && /never sent/.test(e.message));
  const wire = collect();
  outbox.flush(wire.write, always);
  assert.deepEqual(wire.frames, []);
  assert.equal(outbox.queued, 0);
});

test('a written request that gets no reply times out and says it may have taken effect', async () => {
  const outbox = new Outbox({ maxQueued: 10, timeoutMs: 20 });
  const sent = outbox.request({ type: 'send', room: 'lobby', text: 'lost' }, 'lobby');
  outbox.flush(collect().write, always);
  await assert.rejects(sent, /may still take effect/);
  assert.equal(outbox.settle({ type: 'ack', ref: 'r1', id: '1-0' }), false, 'a late ack is ignored');
});

test('queued requests go out in order once their room is ready, and stop at a failed write', () => {
  const outbox = new Outbox({ maxQueued: 10, timeoutMs: 1000 });
  for (const [room, text] of [['a', '1'], ['b', '2'], ['a', '3'], ['b', '4']] as const) {
    outbox.request({ type: 'send', room, text }, room).catch(() => undefined);
  }
  const wire = collect();
  outbox.flush(wire.write, (room) => room === 'a');
  assert.deepEqual(wire.frames.map((f) => f.type === 'send' && f.text), ['1', '3']);
  let budget = 1;
  const flaky = (f: ClientFrame): boolean => budget-- > 0 && wire.write(f);
  outbox.flush(flaky, always);
  assert.deepEqual(wire.frames.map((f) => f.type === 'send' && f.text), ['1', '3', '2']);
  outbox.flush(wire.write, always);
  assert.deepEqual(wire.frames.map((f) => f.type === 'send' && f.text), ['1', '3', '2', '4']);
  outbox.rejectAll(new Error('done'));
});

test('a lost connection fails requests in flight and keeps queued ones', async () => {
  const outbox = new Outbox({ maxQueued: 10, timeoutMs: 1000 });
  const inFlight = outbox.request({ type: 'send', room: 'a', text: 'written' }, 'a');
  outbox.flush(collect().write, always);
  const queued = outbox.request({ type: 'send', room: 'a', text: 'queued' }, 'a');
  outbox.connectionLost();
  await assert.rejects(inFlight, ConnectionLostError);
  assert.equal(outbox.queued, 1);
  const wire = collect();
  outbox.flush(wire.write, always);
  outbox.settle({ type: 'ack', ref: 'r2', id: '9-0' });
  assert.equal((await queued).type, 'ack');
});
