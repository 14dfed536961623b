import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GatewayMetrics } from '@chat/runtime';
import type { Connection } from './connection.js';
import { Session } from './session.js';
import { SlowConsumers, backpressureCeiling } from './slow-consumers.js';

// A fake beside the real test in liveness.test.ts: it pins the policy without sockets.
const LIMIT = 64 * 1024;

class FakeConnection implements Connection {
  readonly id = 'c';
  buffered = 0;
  /** How often the checker read this socket's unsent bytes. */
  reads = 0;
  /** Answer of the next send: false is the transport refusing a frame at its ceiling. */
  accepts = true;
  closedWith: number | undefined;
  send(json: string): boolean {
    if (!this.accepts) return false;
    this.buffered += json.length;
    return true;
  }
  subscribe(): void {}
  unsubscribe(): void {}
  bufferedBytes(): number {
    this.reads += 1;
    return this.buffered;
  }
  close(code: number): void {
    this.closedWith = code;
  }
}

/** `count` sessions, all in room `r` unless `rooms` puts them elsewhere (one room per session). */
function setup(count = 1, rooms: string[] = Array.from({ length: count }, () => 'r')) {
  let dropped = 0;
  const metrics = { backpressureDropped: (n: number) => (dropped += n) } as unknown as GatewayMetrics;
  const members = new Map<string, Session[]>();
  const slow = new SlowConsumers((room) => members.get(room) ?? [], LIMIT, metrics);
  const conns = Array.from({ length: count }, () => new FakeConnection());
  const sessions = conns.map((conn, i) => {
    const session = new Session(conn, { user: 'u' }, '', 100, 10_000, slow);
    members.set(rooms[i]!, [...(members.get(rooms[i]!) ?? []), session]);
    return session;
  });
  return { slow, conns, sessions, dropped: () => dropped };
}

test('the ceiling is MAX_BACKPRESSURE plus as much again, at least 1 MiB more', () => {
  assert.equal(backpressureCeiling(1024 * 1024), 2 * 1024 * 1024);
  assert.equal(backpressureCeiling(LIMIT), LIMIT + 1024 * 1024);
});

test('a write that leaves a session over MAX_BACKPRESSURE closes it with 4008, one at the limit stays', () => {
  const { conns, sessions } = setup();
  conns[0]!.buffered = LIMIT - 2;
  assert.equal(sessions[0]!.write('{}'), true);
  assert.equal(conns[0]!.closedWith, undefined, 'exactly at the limit');
  sessions[0]!.write('{}');
  assert.equal(conns[0]!.closedWith, 4008);
  assert.equal(sessions[0]!.closeReason, 'slow_consumer');
});

test('room traffic makes every member of the rooms published to be checked once half the headroom has been published', () => {
  const { slow, conns } = setup(2);
  conns[1]!.buffered = LIMIT + 1;
  const halfHeadroom = (backpressureCeiling(LIMIT) - LIMIT) / 2;
  slow.published('r', halfHeadroom - 1);
  assert.equal(conns[1]!.closedWith, undefined, 'not yet');
  slow.published('r', 1);
  assert.equal(conns[1]!.closedWith, 4008);
  assert.equal(conns[0]!.closedWith, undefined, 'a session under the limit stays');
});

test('the timer\'s check closes a member over the limit of a room published to since the last check', () => {
  const { slow, conns } = setup();
  slow.published('r', 100);
  conns[0]!.buffered = LIMIT + 1;
  slow.sample();
  assert.equal(conns[0]!.closedWith, 4008);
});

test('a check reads only the members of rooms handed a frame since the last one, each room once', () => {
  const { slow, conns } = setup(3, ['busy', 'quiet', 'quiet']);
  slow.published('busy', 100);
  slow.published('busy', 100);
  slow.sample();
  assert.deepEqual(conns.map((c) => c.reads), [1, 0, 0]);
  slow.sample();
  assert.deepEqual(conns.map((c) => c.reads), [1, 0, 0], 'nothing published since: nothing read');
  slow.published('quiet', 100);
  conns[2]!.buffered = LIMIT + 1;
  slow.sample();
  assert.deepEqual(conns.map((c) => c.reads), [1, 1, 1]);
  assert.equal(conns[2]!.closedWith, 4008);
});

test('a frame refused at the ceiling marks the session a slow consumer and counts as dropped; one to a session closed otherwise does not', () => {
  const { conns, sessions, dropped } = setup(2);
  conns[0]!.accepts = false;
  assert.equal(sessions[0]!.write('{}'), false);
  assert.equal(sessions[0]!.closeReason, 'slow_consumer');
  assert.equal(dropped(), 1);
  sessions[1]!.close(4429, 'rate_limited', 'abuse');
  sessions[1]!.closed = true;
  assert.equal(sessions[1]!.write('{}'), false);
  assert.equal(dropped(), 1);
});
