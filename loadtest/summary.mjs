// Prints one line per threshold of every summary export in a results folder (k6's
// --summary-export format, which devices.mjs also writes) and exits 1 when any failed.
//   node loadtest/summary.mjs loadtest/results/<stamp>
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const rows = [];

/** The figure a threshold expression tests, read from the metric's exported stats. */
function observed(metric, expr) {
  const stat = expr.match(/^(p\(\d+(?:\.\d+)?\)|avg|min|max|med|count|rate|value)/)?.[1];
  const value = stat === 'rate' ? metric.value ?? metric.rate : metric[stat];
  return typeof value === 'number' ? Number(value.toFixed(3)) : '?';
}

for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const { metrics } = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  for (const [name, metric] of Object.entries(metrics)) {
    for (const [expr, crossed] of Object.entries(metric.thresholds ?? {})) {
      rows.push([file.replace(/\.json$/, ''), name, expr, String(observed(metric, expr)), crossed ? 'FAIL' : 'pass']);
    }
  }
}

rows.sort((a, b) => a.slice(0, 3).join(' ').localeCompare(b.slice(0, 3).join(' ')));
const header = ['scenario', 'metric', 'threshold', 'observed', 'result'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
console.log(line(header));
for (const row of rows) console.log(line(row));
const failures = rows.filter((r) => r[4] === 'FAIL').length;
console.log(`${rows.length - failures} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
