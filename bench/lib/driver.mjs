// The coordinator's side of the load driver: forks worker processes (driver-worker.mjs), each
// bound to its own loopback source address so that no process nears the ~19,900 open-file limit
// and no address runs out of ephemeral ports, and calls their commands.
import { fork } from 'node:child_process';
import { Histogram } from './histogram.mjs';

const WORKER = new URL('./driver-worker.mjs', import.meta.url);

export class DriverWorker {
  #child;
  #nextId = 0;
  #pending = new Map();

  constructor(index) {
    this.index = index;
    this.localAddress = `127.0.0.${index + 2}`;
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

  get pid() {
    return this.#child.pid;
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
  return Array.from({ length: count }, (_, i) => new DriverWorker(i));
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
  let driverCpuMs = 0;
  for (const r of reports) {
    sameNode.merge(r.sameNode);
    crossNode.merge(r.crossNode);
    all.merge(r.sameNode);
    all.merge(r.crossNode);
    driverCpuMs += r.cpuMs;
  }
  return { all, sameNode, crossNode, windowMs: Math.max(...reports.map((r) => r.windowMs)), driverCpuMs };
}
