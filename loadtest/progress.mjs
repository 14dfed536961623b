// Prints a scenario's progress while k6 runs it, every PROGRESS_S seconds (default 10): elapsed
// time, VUs, WebSocket sessions opened, frames sent and received so far. The figures come from
// the REST API each k6 process serves on its --address (GET /v1/metrics/<name>); a scenario run
// by several k6 processes (the connection shards) is summed over all of them. Nothing is read
// from k6's output, so its log, thresholds and summary stay as they are.
//
//   node loadtest/progress.mjs NAME HOST:PORT [HOST:PORT...]
//
// run.sh starts it beside k6 and stops it (SIGTERM) when k6 exits.
const [name, ...addresses] = process.argv.slice(2);
if (name === undefined || addresses.length === 0) {
  console.error('usage: node loadtest/progress.mjs NAME HOST:PORT [HOST:PORT...]');
  process.exit(64);
}
const everyMs = 1000 * Number(process.env.PROGRESS_S ?? 10);
if (!(everyMs > 0)) {
  console.error(`progress: PROGRESS_S must be a positive number of seconds, not ${process.env.PROGRESS_S}`);
  process.exit(64);
}
const started = Date.now();

/** One metric's sample from one k6 process; undefined when the metric has no sample yet, or k6 is not answering. */
async function sample(address, metric) {
  try {
    const response = await fetch(`http://${address}/v1/metrics/${metric}`, { signal: AbortSignal.timeout(2000) });
    if (!response.ok) return undefined;
    return (await response.json()).data.attributes.sample;
  } catch {
    return undefined;
  }
}

async function total(metric, field) {
  const samples = await Promise.all(addresses.map((address) => sample(address, metric)));
  return samples.reduce((sum, s) => sum + (s?.[field] ?? 0), 0);
}

const count = (n) => n.toLocaleString('en-US');

async function report() {
  const [vus, sessions, sent, received] = await Promise.all([
    total('vus', 'value'), total('ws_sessions', 'count'), total('ws_msgs_sent', 'count'), total('ws_msgs_received', 'count'),
  ]);
  const elapsedS = Math.round((Date.now() - started) / 1000);
  console.log(`${name}: ${elapsedS} s, ${count(vus)} VUs, ${count(sessions)} connections opened, ${count(sent)} frames sent, ${count(received)} received`);
}

const timer = setInterval(() => void report(), everyMs);
process.once('SIGTERM', () => {
  clearInterval(timer);
  process.exit(0);
});
