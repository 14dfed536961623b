// Seeded hostile frames for row 11, from fast-check: the same seed gives the same frames, so a
// failure printed with its seed replays exactly. To add a shape, add an arbitrary to SHAPES.
import fc from 'fast-check';

const KNOWN = ['join', 'leave', 'send', 'direct', 'history', 'ping'];
const TWO_64 = 2n ** 64n;
const anything = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string({ maxLength: 80 }), fc.constantFrom('fuzz', '', null, -1, 1e308));
const text = (kind, data) => ({ kind, data, binary: false });
const json = (kind) => (value) => text(kind, JSON.stringify(value));

/** Ids that are not `<ms>-<seq>` below 2^64, and "0-0", which is valid but before everything. */
const badId = fc.oneof(
  fc.bigInt({ min: TWO_64, max: TWO_64 * 1024n }).map((n) => `${n}-0`),
  fc.bigInt({ min: TWO_64, max: TWO_64 * 1024n }).map((n) => `1-${n}`),
  fc.constantFrom('0-0', '-', '+', '$', '1-', '-1-0', '1e3-0', ' 1-1', '18446744073709551616-0', '0x10-0', '1-1-1'),
  fc.string({ maxLength: 30 }),
);

const SHAPES = [
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }).map(json('json-value')) },
  {
    weight: 6,
    arbitrary: fc.record({ type: fc.constantFrom(...KNOWN), room: anything, text: anything, since: anything, before: anything, limit: anything, to: anything, mid: anything, ref: anything }, { requiredKeys: ['type'] }).map(json('wrong-types')),
  },
  { weight: 4, arbitrary: fc.record({ type: fc.constantFrom('join', 'history'), room: fc.constant('fuzz'), since: badId, before: badId }, { requiredKeys: ['type', 'room'] }).map(json('bad-ids')) },
  { weight: 2, arbitrary: fc.integer({ min: 4001, max: 60_000 }).map((n) => json('huge-string')({ type: 'send', room: 'fuzz', text: 'x'.repeat(n) })) },
  { weight: 1, arbitrary: fc.integer({ min: 65, max: 60_000 }).map((n) => json('huge-string')({ type: 'join', room: 'r'.repeat(n) })) },
  { weight: 2, arbitrary: fc.integer({ min: 100, max: 30_000 }).map((d) => text('deep-nesting', `{"type":"join","room":${'['.repeat(d)}${']'.repeat(d)}}`)) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 30_000 }).map((d) => text('deep-nesting', `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }).filter((t) => !KNOWN.includes(t)).map((t) => json('unknown-type')({ type: t, room: 'fuzz' })) },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => ({
      kind: 'invalid-utf8', binary: false, data: Buffer.concat([Buffer.from('{"type":"ping","x":"'), Buffer.from([0xff, 0xc3]), Buffer.from(bytes), Buffer.from('"}')]),
    })),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((bytes) => ({ kind: 'binary', binary: true, data: Buffer.from(bytes) })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'binary', binary: true, data: Buffer.from('{"type":"ping"}') }) },
  { weight: 1, arbitrary: fc.integer({ min: 65_537, max: 200_000 }).map((n) => json('oversize')({ type: 'send', room: 'fuzz', text: 'y'.repeat(n) })) },
];

/** `count` frames from `seed`, the same every time for the same pair. */
export function hostileFrames(seed, count) {
  return fc.sample(fc.oneof(...SHAPES), { seed, numRuns: count });
}
