import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, type ClientFrame } from '@chat/protocol';
import { ConnectionLostError, QueueFullError, SendTimeoutError, ServerError, TimeoutError } from './errors.js';
import { Outbox, type OutboxOptions } from './outbox.js';
import { sleep, waitFor } from './testing/wait.js';

function collect(): { frames: ClientFrame[]; write: (f: ClientFrame) => boolean } {
  const frames: ClientFrame[] = [];
  return { frames, write: (f) => (frames.push(f), true) };
}
const always = (): boolean => true;

/** An outbox whose resends, when due, go straight to `wire` (as the client's flush does while connected). */
function outbox(options: Partial<OutboxOptions> = {}, ready: (room: string | undefined) => boolean = always):
{ outbox: Outbox; wire: ReturnType<typeof collect>; wakes: number[] } {
  const wire = collect();
  const wakes: number[] = [];
  const o: Outbox = new Outbox({
    maxQueued: 10, timeoutMs: 1000, sendTimeoutMs: 5000, random: () => 0,
    wake: () => {
      wakes.push(Date.now());
      o.flush(wire.write, ready);
    },
    ...options,
  });
  return { outbox: o, wire, wakes };
}

const send = (text: string, mid = `m-${text}`, room = 'lobby') => ({ type: 'send', room, text, mid }) as const;

test('a request resolves with the reply that carries its ref', async () => {
  const { outbox: o, wire } = outbox();
  const sent = o.request(send('hi'), 'lobby');
  o.flush(wire.write, always);
  assert.deepEqual(wire.frames, [{ type: 'send', room: 'lobby', text: 'hi', mid: 'm-hi', ref: 'r1' }]);
  assert.equal(o.settle({ type: 'ack', ref: 'r2', id: '1-0' }), false);
  assert.equal(o.settle({ type: 'ack', ref: 'r1', id: '1-0', duplicate: true }), true);
  assert.deepEqual(await sent, { type: 'ack', ref: 'r1', id: '1-0', duplicate: true });
  assert.equal(o.inFlight, 0);
});

test('a final refusal rejects a send at once with a ServerError carrying the code, and it is never resent', async () => {
  const finals = [ErrorCode.BadRequest, ErrorCode.TooLarge, ErrorCode.NotJoined, ErrorCode.Forbidden,
    ErrorCode.TooManyRooms, ErrorCode.UserOffline, ErrorCode.UnknownType];
  const { outbox: o, wire, wakes } = outbox({ timeoutMs: 50 });
  for (const code of finals) {
    const sent = o.request({ type: 'direct', to: 'bob', text: code, mid: `m-${code}` });
    o.flush(wire.write, always);
    o.settle({ type: 'error', code, message: 'no', ref: wire.frames.at(-1)?.ref ?? '' });
    await assert.rejects(sent, (e: unknown) => e instanceof ServerError && e.code === code);
  }
  await sleep(120);
  assert.equal(wire.frames.length, finals.length, 'each written once');
  assert.deepEqual(wakes, []);
});

test('a send written before the connection dropped is written again, unchanged, and resolves with its ack', async () => {
  const { outbox: o, wire } = outbox();
  const sent = o.request(send('a'), 'lobby');
  const ping = o.request({ type: 'ping' });
  o.flush(wire.write, always);
  o.connectionLost();
  await assert.rejects(ping, ConnectionLostError, 'a ping is not resent');
  assert.equal(o.queued, 1);
  const next = collect();
  o.flush(next.write, always);
  assert.deepEqual(next.frames, [wire.frames[0]], 'the same frame: same mid, same ref');
  o.settle({ type: 'ack', ref: 'r1', id: '7-0' });
  assert.equal((await sent).type, 'ack');
});

test('after unavailable a send is written again with the same mid, later sends of its room wait behind it', async () => {
  const { outbox: o, wire, wakes } = outbox();
  const first = o.request(send('1'), 'lobby');
  o.flush(wire.write, always);
  o.settle({ type: 'error', code: ErrorCode.Unavailable, message: 'bus', ref: 'r1' });
  const second = o.request(send('2'), 'lobby');
  const other = o.request(send('x', 'm-x', 'other'), 'other');
  const started = Date.now();
  o.flush(wire.write, always);
  assert.deepEqual(wire.frames.map((f) => f.type === 'send' && f.text), ['1', 'x'], '"2" waits behind "1"');
  await waitFor('the resend', () => wire.frames.length === 4);
  assert.ok((wakes[0] ?? 0) - started >= 240, 'after the delay (250 ms with no jitter)');
  assert.deepEqual(wire.frames.map((f) => f.type === 'send' && f.text), ['1', 'x', '1', '2']);
  assert.deepEqual(wire.frames[2], wire.frames[0]);
  for (const [ref, id] of [['r1', '1-0'], ['r2', '2-0'], ['r3', '3-0']] as const) o.settle({ type: 'ack', ref, id });
  await Promise.all([first, second, other]);
});

test('after rate_limited a send waits a second before it is written again', async () => {
  const { outbox: o, wire } = outbox();
  const sent = o.request(send('a'), 'lobby');
  o.flush(wire.write, always);
  o.settle({ type: 'error', code: ErrorCode.RateLimited, message: 'slow down', ref: 'r1' });
  await sleep(800);
  assert.equal(wire.frames.length, 1);
  await waitFor('the resend', () => wire.frames.length === 2);
  o.settle({ type: 'ack', ref: 'r1', id: '1-0' });
  await sent;
});

test('a send with no reply within timeoutMs is written again, and the ack of either attempt settles it', async () => {
  const { outbox: o, wire } = outbox({ timeoutMs: 60 });
  const sent = o.request(send('a'), 'lobby');
  o.flush(wire.write, always);
  await waitFor('two resends', () => wire.frames.length === 3);
  assert.ok(wire.frames.every((f) => f.type === 'send' && f.mid === 'm-a' && f.ref === 'r1'));
  o.settle({ type: 'error', code: ErrorCode.Unavailable, message: 'late answer to an earlier attempt', ref: 'r1' });
  o.settle({ type: 'ack', ref: 'r1', id: '1-0', duplicate: true });
  assert.equal((await sent).type, 'ack');
});

test('a send not acked by the deadline rejects with SendTimeoutError, which names its mid', async () => {
  const ready = (room: string | undefined): boolean => room !== 'closed';
  const { outbox: o, wire } = outbox({ timeoutMs: 40, sendTimeoutMs: 150 }, ready);
  const written = o.request(send('a'), 'lobby');
  const queued = o.request(send('b', 'm-b', 'closed'), 'closed');
  o.flush(wire.write, ready);
  await assert.rejects(written, (e: unknown) => e instanceof SendTimeoutError && e.code === 'timeout' && e.mid === 'm-a' && e.written);
  await assert.rejects(queued, (e: unknown) => e instanceof SendTimeoutError && e.mid === 'm-b' && !e.written);
  const writes = wire.frames.length;
  assert.ok(writes >= 2, `resent until the deadline (${writes} writes)`);
  await sleep(100);
  assert.equal(wire.frames.length, writes, 'nothing after the deadline');
  assert.equal(o.queued + o.inFlight, 0);
});

test('the offline queue is bounded', async () => {
  const { outbox: o } = outbox({ maxQueued: 2 });
  const first = o.request({ type: 'ping' });
  const second = o.request({ type: 'ping' });
  await assert.rejects(o.request({ type: 'ping' }), QueueFullError);
  assert.equal(o.queued, 2);
  o.flush(collect().write, always);
  assert.equal(o.queued, 0);
  const third = o.request({ type: 'ping' });
  assert.equal(o.queued, 1, 'in-flight requests do not count against the queue');
  o.rejectAll(new Error('done'));
  await Promise.allSettled([first, second, third]);
});

test('a queued history request that times out is never written', async () => {
  const { outbox: o } = outbox({ timeoutMs: 20 });
  const asked = o.request({ type: 'history', room: 'lobby' }, 'lobby');
  await assert.rejects(asked, (e: unknown) => e instanceof TimeoutError && /never sent/.test(e.message));
  const wire = collect();
  o.flush(wire.write, always);
  assert.deepEqual(wire.frames, []);
  assert.equal(o.queued, 0);
});

test('a written history request that gets no reply times out and says it may have taken effect', async () => {
  const { outbox: o } = outbox({ timeoutMs: 20 });
  const asked = o.request({ type: 'history', room: 'lobby' }, 'lobby');
  o.flush(collect().write, always);
  await assert.rejects(asked, /may still take effect/);
  assert.equal(o.settle({ type: 'history', ref: 'r1', room: 'lobby', messages: [] }), false, 'a late reply is ignored');
});

test('queued requests go out in order once their room is ready, and stop at a failed write', () => {
  const { outbox: o } = outbox();
  for (const [room, text] of [['a', '1'], ['b', '2'], ['a', '3'], ['b', '4']] as const) {
    o.request(send(text, `m${text}`, room), room).catch(() => undefined);
  }
  const wire = collect();
  o.flush(wire.write, (room) => room === 'a');
  assert.deepEqual(wire.frames.map((f) => f.type === 'send' && f.text), ['1', '3']);
  let budget = 1;
  const flaky = (f: ClientFrame): boolean => budget-- > 0 && wire.write(f);
  o.flush(flaky, always);
  assert.deepEqual(wire.frames.map((f) => f.type === 'send' && f.text), ['1', '3', '2']);
  o.flush(wire.write, always);
  assert.deepEqual(wire.frames.map((f) => f.type === 'send' && f.text), ['1', '3', '2', '4']);
  o.rejectAll(new Error('done'));
});

test('after a drop, sends in flight and sends queued go out together in the order they were made', async () => {
  const { outbox: o } = outbox();
  const first = o.request(send('written'), 'lobby');
  o.flush(collect().write, always);
  const second = o.request(send('queued'), 'lobby');
  o.connectionLost();
  assert.equal(o.queued, 2);
  const wire = collect();
  o.flush(wire.write, always);
  assert.deepEqual(wire.frames.map((f) => f.type === 'send' && f.text), ['written', 'queued']);
  o.settle({ type: 'ack', ref: 'r1', id: '8-0' });
  o.settle({ type: 'ack', ref: 'r2', id: '9-0' });
  assert.deepEqual((await Promise.all([first, second])).map((r) => r.type === 'ack' && r.id), ['8-0', '9-0']);
});
