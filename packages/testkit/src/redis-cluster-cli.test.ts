// `npm run cluster -- --redis-cluster` as a user runs it, with one gateway and no bridge: the
// cluster starts and is printed, and a killed master is reported while the rest keeps running and
// the gateway keeps storing messages once the master's replica has taken over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeConnection } from './redis-cluster-command.js';
import { freePort, repoRoot, startProcess, waitFor } from './processes.js';
import { parseInfo } from './redis-cluster-view.js';

const cli = `${repoRoot}/packages/testkit/dist/cluster-cli.js`;

/** What the command itself prints, without the lines of its processes (`redis-7000 | ...`). */
const ownLines = (output: string) => output.split('\n').filter((line) => !/^[a-z0-9-]+ *\| /.test(line)).join('\n');

/** The command's own lines and the last lines of its processes: what a failure needs to be read. */
const tail = (output: string) => `own lines:\n${ownLines(output)}\n\nlast lines:\n${output.split('\n').slice(-40).join('\n')}`;

test('cluster --help lists the flags and exits 0', { timeout: 10_000 }, async () => {
  const run = startProcess(process.execPath, [cli, '--help']);
  assert.equal(await run.exited, 0);
  for (const flag of ['--redis-cluster', '--gateways', '--no-bridge', '--help']) assert.match(run.output(), new RegExp(flag));
});

test('cluster rejects an unknown flag with the usage', { timeout: 10_000 }, async () => {
  const run = startProcess(process.execPath, [cli, '--redis-clustr']);
  assert.equal(await run.exited, 2);
  assert.match(run.output(), /Unknown option '--redis-clustr'[\s\S]*usage:/);
});

test('cluster --redis-cluster prints the nodes, and a killed master is reported while the rest keeps running and serving', { timeout: 150_000 }, async () => {
  const gatewayPort = await freePort();
  const run = startProcess(process.execPath, [cli, '--redis-cluster', '--gateways', '1', '--no-bridge'], { ...process.env, GATEWAY_PORTS: String(gatewayPort) });
  try {
    // Starting six Redis nodes and a gateway can take long on a loaded machine; the command exiting
    // instead fails at once, with what it printed.
    const up = waitFor('the cluster to be up', async () => (run.output().includes('chat cluster is up') ? true : undefined), 90_000, 100);
    const exited = run.exited.then((code) => { throw new Error(`the cluster command exited with ${code} before it was up`); });
    await Promise.race([up, exited]).catch((error: Error) => { throw new Error(`${error.message}\n${tail(run.output())}`); });
    const out = ownLines(run.output());
    const seeds = /REDIS_CLUSTER_NODES=([0-9.:,]+)/.exec(out)?.[1]?.split(',') ?? [];
    assert.equal(seeds.length, 6, out);
    const masters = [...out.matchAll(/master {2}127\.0\.0\.1:(\d+) {2}pid (\d+)/g)].map((m) => ({ port: Number(m[1]), pid: Number(m[2]) }));
    assert.equal(masters.length, 3, out);
    assert.equal([...out.matchAll(/replica 127\.0\.0\.1:\d+/g)].length, 3, out);
    assert.doesNotMatch(out, /redis:\s+redis:\/\//, 'no single Redis beside the cluster');

    const [victim] = masters;
    process.kill(victim!.pid, 'SIGKILL');
    await waitFor('the failover to be reported', async () => (/now serves the slots of 127\.0\.0\.1:\d+/.test(run.output()) ? true : undefined), 20_000, 100);
    assert.match(run.output(), new RegExp(`127\\.0\\.0\\.1:${victim!.port} \\(pid ${victim!.pid}\\) exited`));
    const survivor = new NodeConnection(masters[1]!.port);
    try {
      assert.equal(parseInfo(String(await survivor.command('CLUSTER', 'INFO'))).cluster_state, 'ok');
    } finally {
      survivor.close();
    }
    const stored = await waitFor('the gateway to store a message after the failover', async () => {
      const response = await fetch(`http://127.0.0.1:${gatewayPort}/api/rooms/after-failover/messages`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'still here' }),
      });
      return response.status === 202 ? true : undefined;
    }, 20_000, 250);
    assert.equal(stored, true);
    assert.equal(await Promise.race([run.exited, new Promise((r) => setTimeout(r, 200, 'running'))]), 'running');
  } finally {
    assert.equal(await run.stop('SIGTERM'), 0, tail(run.output()));
  }
  // Ctrl-C (SIGTERM here) leaves no Redis node behind.
  for (const [, pid] of ownLines(run.output()).matchAll(/pid (\d+)/g)) {
    assert.throws(() => process.kill(Number(pid), 0), /ESRCH/, `redis-server ${pid} is still running`);
  }
});
