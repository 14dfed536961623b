/** What both services do around their work: read configuration, name the node, stop on a signal, tell the time. */
import { hostname } from 'node:os';
import { ConfigError } from './env.js';

/** Reads a service's configuration, or exits 2 with the problem (which names the variable). */
export function readConfigOrExit<T>(service: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service}: invalid configuration: ${error.message}\n`);
    process.exit(2);
  }
}

/** The host name made safe as a node id ([A-Za-z0-9_.-], at most 64), or `fallback` when nothing is left. */
export function safeHostname(fallback: string): string {
  const name = hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64);
  return name === '' ? fallback : name;
}

/** Runs `stop` once, on the first SIGTERM or SIGINT; a second signal while it runs is ignored. */
export function stopOnSignals(stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    void stop(signal);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

/**
 * Wall-clock time with sub-millisecond resolution, comparable across processes on one machine:
 * a message's `receivedAt` is taken with it in one service and its delivery latency in another.
 */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
