#!/usr/bin/env node
// npm run faults [-- --full] [--only a,b] [--seed N] [--soak-minutes N]
// Runs the fault matrix on real processes on 127.0.0.1, prints one row per fault, writes a JSON copy
// under faults/results/, and exits 1 when a promise of docs/protocol.md#faults broke.
import { parseArgs } from 'node:util';
import { ROWS, runMatrix, sizes } from './matrix.mjs';
import { formatTable, writeJson } from './lib/table.mjs';
import { rowError } from './lib/row.mjs';
import { soak } from './rows/soak.mjs';

const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    seed: { type: 'string' },
    'soak-minutes': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(`usage: npm run faults -- [--full] [--only <rows>] [--seed N] [--soak-minutes N]\nrows: ${Object.keys(ROWS).join(', ')}`);
  process.exit(0);
}
const seed = values.seed === undefined ? 20261128 : Number(values.seed);
const soakMinutes = Number(values['soak-minutes'] ?? 0);
if (!(soakMinutes >= 0)) throw new Error('--soak-minutes takes a number of minutes');
// `--only soak --soak-minutes N` runs the soak alone.
const names = values.only === undefined ? Object.keys(ROWS) : values.only.flatMap((s) => s.split(',')).filter((n) => n !== '' && n !== 'soak');
const unknown = names.filter((n) => ROWS[n] === undefined);
if (unknown.length > 0) {
  console.error(`unknown row(s) ${unknown.join(', ')}; rows: ${Object.keys(ROWS).join(', ')}, soak`);
  process.exit(2);
}
const opts = sizes(values.full, seed);

console.log(`fault matrix: ${values.full ? 'full' : 'bounded'} mode, seed ${seed}, rows ${names.join(', ')}${soakMinutes > 0 ? `, then ${soakMinutes} min of soak` : ''}`);
const started = Date.now();
const results = await runMatrix(names, opts, (line) => console.log(line));
if (soakMinutes > 0) {
  console.log(`soaking ${soakMinutes} min...`);
  const soakStarted = Date.now();
  results.push(await soak(opts, soakMinutes).catch((error) => rowError('soak', error, soakStarted)));
}
console.log(`\n${formatTable(results)}\n`);
const file = writeJson({ mode: values.full ? 'full' : 'bounded', seed, soakMinutes, startedAt: new Date(started).toISOString(), results });
const failed = results.filter((r) => !r.pass).map((r) => r.name);
console.log(`seed ${seed}; ${results.length - failed.length} passed, ${failed.length} failed${failed.length ? ` (${failed.join(', ')})` : ''}; JSON: ${file}; ${Math.round((Date.now() - started) / 1000)} s`);
process.exit(failed.length === 0 ? 0 : 1);
