// The bounded fault matrix inside `npm test`: every row of docs/protocol.md#faults on real processes, each
// asserted by its promise. Rows whose feature is not merged yet fail here by design: the failure
// names the promise that broke. `npm run faults` prints the same rows as a table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROWS, runMatrix, sizes } from './matrix.mjs';
import { formatTable } from './lib/table.mjs';

const SEED = 20261128;
const results = new Map();

test('the bounded fault matrix runs every row', { timeout: 240_000 }, async () => {
  const rows = await runMatrix(Object.keys(ROWS), sizes(false, SEED));
  for (const row of rows) results.set(row.name, row);
  console.log(formatTable(rows));
  assert.equal(rows.length, Object.keys(ROWS).length);
});

for (const name of Object.keys(ROWS)) {
  test(`fault row ${name} keeps its promise`, () => {
    const row = results.get(name);
    assert.ok(row, `row ${name} did not run`);
    assert.deepEqual(row.broken, [], `${name} broke: ${row.broken.join('; ')}`);
  });
}
