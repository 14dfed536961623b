import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coreOnMemory, settle } from './testing-core.js';

test('the core alone: join, send with a mid twice, the message reaches every member once and the repeat is acked as a duplicate', async (t) => {
  const { gateway, connect, stop } = coreOnMemory();
  t.after(stop);
  const ann = connect('ann');
  const bob = connect('bob');
  gateway.receive(ann.session, JSON.stringify({ type: 'join', room: 'lobby', ref: 'j1' }));
  await settle();
  gateway.receive(bob.session, JSON.stringify({ type: 'join', room: 'lobby', ref: 'j2' }));
  await settle();
  assert.deepEqual(ann.conn.of('joined').map((f) => [f.room, f.gap, f.ref]), [['lobby', false, 'j1']]);
  gateway.receive(ann.session, JSON.stringify({ type: 'send', room: 'lobby', text: 'hi', mid: 'm1', ref: 's1' }));
  await settle();
  gateway.receive(ann.session, JSON.stringify({ type: 'send', room: 'lobby', text: 'hi', mid: 'm1', ref: 's2' }));
  await settle();
  const [first, again] = ann.conn.of('ack');
  assert.deepEqual([first!.ref, again!.ref, again!.duplicate, again!.id], ['s1', 's2', true, first!.id]);
  for (const member of [ann, bob]) assert.deepEqual(member.conn.of('message').map((f) => f.id), [first!.id]);
  assert.deepEqual(ann.conn.of('presence').map((f) => [f.user, f.state]), [['bob', 'join']]);
  assert.deepEqual(bob.conn.of('joined')[0]!.members, ['ann', 'bob']);
});

test('the core alone: a leave ends delivery and presence, and a closed session leaves every room', async (t) => {
  const { gateway, connect, stop } = coreOnMemory();
  t.after(stop);
  const ann = connect('ann');
  const cy = connect('cy');
  for (const { session } of [ann, cy]) {
    for (const room of ['a', 'b']) gateway.receive(session, JSON.stringify({ type: 'join', room }));
    await settle();
  }
  gateway.receive(cy.session, JSON.stringify({ type: 'leave', room: 'a', ref: 'l' }));
  gateway.closed(cy.session, 1000);
  await settle();
  gateway.receive(ann.session, JSON.stringify({ type: 'send', room: 'a', text: 'x' }));
  gateway.receive(ann.session, JSON.stringify({ type: 'send', room: 'b', text: 'y' }));
  await settle();
  assert.equal(cy.conn.of('message').length, 0);
  assert.deepEqual(ann.conn.of('presence').filter((f) => f.user === 'cy').map((f) => [f.room, f.state]).sort(),
    [['a', 'join'], ['a', 'leave'], ['b', 'join'], ['b', 'leave']]);
  assert.deepEqual(cy.conn.of('left').map((f) => f.ref), ['l']);
});

test('the core alone: an operator\'s disconnect closes every connection of the user with 4403 and counts them', async (t) => {
  const { gateway, connect, stop } = coreOnMemory();
  t.after(stop);
  const first = connect('eve');
  const second = connect('eve');
  const other = connect('frank');
  assert.equal(await gateway.bus.disconnect('eve'), 2);
  assert.deepEqual([first.conn.closedWith, second.conn.closedWith, other.conn.closedWith], [4403, 4403, undefined]);
  assert.equal(await gateway.bus.disconnect('nobody'), 0);
});

test('the welcome follows the user\'s listing in the directory: a direct sent on seeing it finds the user', async (t) => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const { gateway, connect, stop } = coreOnMemory({}, { subscribeUser: async (user, listed) => { if (user === 'bo') await held; await listed(user); } });
  t.after(stop);
  const al = connect('al');
  const bo = connect('bo');
  await settle();
  assert.equal(al.conn.of('welcome').length, 1);
  assert.equal(bo.conn.of('welcome').length, 0, 'no welcome before bo is listed');
  const boAgain = connect('bo');
  await settle();
  assert.equal(boAgain.conn.of('welcome').length, 0, 'a second connection waits for the same listing');
  release();
  await settle();
  assert.deepEqual([bo.conn.of('welcome').length, boAgain.conn.of('welcome').length], [1, 1]);
  gateway.receive(al.session, JSON.stringify({ type: 'direct', to: 'bo', text: 'hi', ref: 'd1' }));
  await settle();
  assert.deepEqual(al.conn.frames.filter((f) => f.ref === 'd1').map((f) => f.type), ['ack']);
  assert.deepEqual(bo.conn.of('direct').map((f) => f.text), ['hi']);
});

test('a listing that fails still lets the welcome through (the failure is logged)', async (t) => {
  const { connect, stop } = coreOnMemory({}, { subscribeUser: async () => { throw new Error('directory down'); } });
  t.after(stop);
  const cy = connect('cy');
  await settle();
  assert.equal(cy.conn.of('welcome').length, 1);
});
