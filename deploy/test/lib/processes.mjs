// Child processes for the topology test: started with their output kept in a log file and the last
// lines in memory (for failure messages), and always ended, even when the test process dies first.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

// Free ports and port probes are the test kit's (packages/testkit), shared with every other test.
export { freePort, portOpen as tcpOpen } from '@chat/testkit';

/** Polls `probe` until it returns a truthy value; throws `what` with the last error on timeout. */
export async function waitFor(what, probe, { timeoutMs = 20_000, intervalMs = 200 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function httpGet(url, timeoutMs = 2000) {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, text: await response.text() };
}

const everyGroup = new Set();
process.once('exit', () => {
  for (const group of everyGroup) group.killNow();
});

export class ProcessGroup {
  #logDir;
  #entries = new Map();

  constructor(logDir) {
    this.#logDir = logDir;
    everyGroup.add(this);
  }

  /** Starts `command`; its stdout and stderr go to LOGDIR/NAME.log. */
  start(name, command, args, { env, cwd }) {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(join(this.#logDir, `${name}.log`));
    const entry = { child, lines: [], exit: null };
    entry.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        entry.exit = { code, signal };
        resolve(entry.exit);
      });
      child.once('error', (error) => {
        entry.lines.push(`spawn failed: ${error.message}`);
        entry.exit = { code: -1, signal: null };
        resolve(entry.exit);
      });
    });
    const keep = (chunk) => {
      log.write(chunk);
      entry.lines.push(...chunk.toString().split('\n').filter(Boolean));
      if (entry.lines.length > 200) entry.lines.splice(0, entry.lines.length - 200);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    this.#entries.set(name, entry);
    return entry;
  }

  get(name) {
    const entry = this.#entries.get(name);
    if (!entry) throw new Error(`no process named ${name}`);
    return entry;
  }

  /** The last lines a process printed, for an assertion message. */
  tail(name, count = 25) {
    const entry = this.#entries.get(name);
    if (!entry) return `(${name} was not started)`;
    const state = entry.exit ? `exited ${JSON.stringify(entry.exit)}` : 'running';
    return `--- ${name} (${state}), last lines:\n${entry.lines.slice(-count).join('\n')}`;
  }

  /** Throws, with its output, if a process has already exited. */
  assertRunning(name) {
    const entry = this.get(name);
    if (entry.exit) throw new Error(`${name} exited early\n${this.tail(name)}`);
  }

  /** SIGTERM to everything still running, SIGKILL to what outlives `graceMs`. */
  async stopAll(graceMs = 2000) {
    const running = [...this.#entries.values()].filter((entry) => !entry.exit);
    for (const entry of running) entry.child.kill('SIGTERM');
    const timer = new Promise((resolve) => setTimeout(resolve, graceMs));
    await Promise.race([Promise.all(running.map((entry) => entry.exited)), timer]);
    this.killNow();
    await Promise.all(running.map((entry) => entry.exited));
    everyGroup.delete(this);
  }

  killNow() {
    for (const entry of this.#entries.values()) {
      if (!entry.exit) entry.child.kill('SIGKILL');
    }
  }
}
