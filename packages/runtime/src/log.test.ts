import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from './log.js';

test('at info, debug writes nothing and says so; at debug, one JSON line per call', () => {
  const written: string[] = [];
  const info = createLogger('info', { node: 'n1' }, (line) => written.push(line));
  assert.equal(info.debugEnabled, false);
  info.debug('hidden', { user: 'alice' });
  info.info('shown', { error: new RangeError('bad') });
  assert.equal(written.length, 1);
  assert.deepEqual({ ...JSON.parse(written[0]!), time: 'x' }, { time: 'x', level: 'info', node: 'n1', msg: 'shown', error: 'RangeError: bad' });

  const debug = createLogger('debug', {}, (line) => written.push(line));
  assert.equal(debug.debugEnabled, true);
  debug.debug('joined room', { room: 'r' });
  assert.equal(written.length, 2);
  assert.equal(written[1]!.endsWith('\n'), true);
  assert.deepEqual(JSON.parse(written[1]!).room, 'r');
});

test('warn and error levels drop everything below them', () => {
  const written: string[] = [];
  const log = createLogger('error', {}, (line) => written.push(line));
  log.info('no');
  log.warn('no');
  log.error('yes');
  assert.deepEqual(written.map((line) => JSON.parse(line).msg), ['yes']);
});
