// The coordinator's side of the load driver: forks worker processes (driver-worker.mjs) so that
// no process nears the ~19,900 open-file limit, gives each its own loopback source addresses, and
// calls their commands.
//
// Source addresses: a client socket bound to an address (as these are) takes its port from that
// address alone, and a closed one holds it for a minute in TIME_WAIT. So each worker spreads its
// sockets over ADDRESSES_PER_WORKER addresses, and every new set of workers takes a fresh /16 of
// 127.0.0.0/8, so one scenario never waits for the ports of the one before.
import { fork } from 'node:child_process';
import { Histogram } from './histogram.mjs';

const WORKER = new URL('./driver-worker.mjs', import.meta.url);
const ADDRESSES_PER_WORKER = 16;
let generation = 0;

export class DriverWorker {
  #child;
  #nextId = 0;
  #pending = new Map();

  constructor(index, addressBlock) {
    this.index = index;
    this.localAddresses = Array.from({ length: ADDRESSES_PER_WORKER }, (_, i) => `127.${addressBlock}.${index}.${i + 1}`);
    this.#child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', ({ id, ok, result, error }) => {
      const pending = this.#pending.get(id);
      this.#pending.delete(id);
      ok ? pending.resolve(result) : pending.reject(new Error(`driver worker ${index}: ${error}`));
    });
    this.#child.on('exit', (code) => {
      for (const { reject } of this.#pending.values()) reject(new Error(`driver worker ${index} exited ${code}`));
      this.#pending.clear();
    });
  }

  call(cmd, args = {}) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send({ id, cmd, args });
    });
  }

  stop() {
    this.#child.kill('SIGKILL');
  }
}

export function startWorkers(count) {
  const addressBlock = 10 + (generation++ % 240);
  return Array.from({ length: count }, (_, i) => new DriverWorker(i, addressBlock));
}

export function stopWorkers(workers) {
  for (const worker of workers) worker.stop();
}

/** Resets every worker's latency record; call at the start of a measured window. */
export async function resetAll(workers) {
  await Promise.all(workers.map((w) => w.call('reset')));
}

/** Merges the workers' latency records since the last reset. */
export async function reportAll(workers) {
  const reports = await Promise.all(workers.map((w) => w.call('report')));
  const sameNode = new Histogram();
  const crossNode = new Histogram();
  const all = new Histogram();
  const ack = new Histogram();
  let driverCpuMs = 0;
  let ackErrors = 0;
  for (const r of reports) {
    sameNode.merge(r.sameNode);
    crossNode.merge(r.crossNode);
    all.merge(r.sameNode);
    all.merge(r.crossNode);
    ack.merge(r.ack);
    driverCpuMs += r.cpuMs;
    ackErrors += r.ackErrors;
  }
  const firstAckError = reports.find((r) => r.firstAckError)?.firstAckError ?? null;
  return { all, sameNode, crossNode, ack, ackErrors, firstAckError, windowMs: Math.max(...reports.map((r) => r.windowMs)), driverCpuMs };
}
