#!/usr/bin/env node
// npm run faults [-- --full] [--only a,b] [--seed N] [--soak-minutes N]
// Runs the fault matrix on real processes on 127.0.0.1, prints one row per fault, writes a JSON copy
// under faults/results/, and exits 1 when a promise of SPEC section 8 broke.
import { parseArgs } from 'node:util';
import { ROWS, runMatrix, sizes } from './matrix.mjs';
import { formatTable, writeJson } from './lib/table.mjs';

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
const names = values.only === undefined ? Object.keys(ROWS) : values.only.flatMap((s) => s.split(',')).filter(Boolean);
const soakMs = Number(values['soak-minutes'] ?? 0) * 60_000;
const opts = sizes(values.full, seed);

console.log(`fault matrix: ${values.full ? 'full' : 'bounded'} mode, seed ${seed}, rows ${names.join(', ')}`);
const started = Date.now();
const rounds = [];
for (let round = 0; round < 10_000; round++) {
  const results = await runMatrix(names, opts, (line) => console.log(line));
  rounds.push(results);
  console.log(`\n${soakMs > 0 ? `round ${round + 1}\n` : ''}${formatTable(results)}\n`);
  if (Date.now() - started >= soakMs) break;
}
const last = rounds.at(-1);
const drift = rounds.length > 1
  ? Object.fromEntries(names.map((n, i) => [n, Math.round((last[i].rssAfterMb - rounds[0][i].rssAfterMb) * 10) / 10]))
  : undefined;
if (drift) console.log(`memory drift over ${rounds.length} rounds (gateway RSS after, last minus first, MB): ${JSON.stringify(drift)}`);
const file = writeJson({ mode: values.full ? 'full' : 'bounded', seed, startedAt: new Date(started).toISOString(), rounds, drift });
const failed = rounds.flat().filter((r) => !r.pass).map((r) => r.name);
console.log(`seed ${seed}; ${rounds.flat().length - failed.length} passed, ${failed.length} failed; JSON: ${file}; ${Math.round((Date.now() - started) / 1000)} s`);
process.exit(failed.length === 0 ? 0 : 1);
