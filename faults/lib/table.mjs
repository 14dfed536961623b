// The matrix as aligned text (one row per fault) and as JSON under faults/results/ (git-ignored).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const COLUMNS = [
  ['fault', (r) => r.name],
  ['result', (r) => (r.pass ? 'PASS' : 'FAIL')],
  ['sent', (r) => r.sent],
  ['acked', (r) => r.acked],
  ['unavail', (r) => r.detail.unavailable ?? '-'],
  ['delivered', (r) => r.delivered],
  ['lost', (r) => r.lost],
  ['doubled', (r) => r.doubled],
  ['reordered', (r) => r.reordered],
  ['gaps', (r) => r.gaps],
  ['recover ms', (r) => (r.recoverMs < 0 ? '-' : r.recoverMs)],
  ['p99 ms before>during', (r) => (r.p99 ? `${r.p99.before}>${r.p99.during}` : '-')],
  ['rss MB before>after', (r) => `${r.rssBeforeMb}>${r.rssAfterMb}`],
  ['secs', (r) => r.seconds],
];

export function formatTable(rows) {
  const cells = [COLUMNS.map(([title]) => title), ...rows.map((r) => COLUMNS.map(([, get]) => String(get(r))))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  const lines = cells.map((line) => line.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const notes = rows.filter((r) => !r.pass || r.note).map((r) => [
    ...r.broken.map((b) => `  ${r.name}: BROKEN ${b}`),
    ...(r.note ? [`  ${r.name}: ${r.note}`] : []),
  ].join('\n'));
  return [...lines, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

export function writeJson(report) {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `faults-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
