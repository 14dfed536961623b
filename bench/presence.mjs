// Presence frames delivered while one room fills to --members members, before and after counts-only
// presence (docs/protocol.md §4.4): once with LARGE_ROOM far above the room's size (every join is told
// to every member: the square of the size), once with LARGE_ROOM at its default (1000). Redis and two
// gateways run on 127.0.0.1; the members are spread over --workers processes, each connecting from a
// loopback address of its own (a process holds at most ~19,900 open files), and joining at a paced
// rate. Each worker counts the presence frames its connections receive, per second.
//
//   npm run build --silent && node bench/presence.mjs [--members 10000] [--rate 250] [--workers 4]
//                                                     [--fill-timeout 150] [--modes per-user,counts]
import { parseArgs } from 'node:util';
import { fill, PRESENCE_MODES } from './lib/presence-fill.mjs';

const { values } = parseArgs({ options: {
  members: { type: 'string', default: '10000' },
  rate: { type: 'string', default: '250' },
  workers: { type: 'string', default: '4' },
  'fill-timeout': { type: 'string', default: '150' },
  modes: { type: 'string', default: 'per-user,counts' },
} });
const members = Number(values.members);
const rate = Number(values.rate);
const workers = Number(values.workers);
const fillTimeoutMs = Number(values['fill-timeout']) * 1000;
const results = [];
for (const [mode, largeRoom] of values.modes.split(',').map((name) => PRESENCE_MODES[name] ?? [name, name])) {
  console.log(`\n== ${mode}: ${members} members joining at ${rate}/s over ${workers} processes`);
  results.push({ mode, ...(await fill({ members, rate, workers, largeRoom, fillTimeoutMs })) });
}
console.log('\nmode | members reached | fill s | presence frames | frames/s mean | frames/s peak | closed | refused | failed');
for (const r of results) {
  console.log(`${r.mode} | ${r.joined} | ${r.fillSec.toFixed(1)} | ${r.frames} | ${Math.round(r.frames / r.fillSec)} | ${r.peak} | ${r.closed} | ${r.refused} | ${r.failed}`);
}
