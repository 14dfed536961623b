// `npm run cluster -- --redis-cluster` as a user runs it, without gateways or the bridge: they run
// on a Redis Cluster only once the bus has its cluster backend, so this checks the Redis part: the
// cluster starts and is printed, and a killed master is reported while the rest keeps running.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeConnection } from './redis-cluster-command.js';
import { repoRoot, startProcess, waitFor } from './processes.js';
import { parseInfo } from './redis-cluster-view.js';

const cli = `${repoRoot}/packages/testkit/dist/cluster-cli.js`;

/** What the command itself prints, without the lines of its processes (`redis-7000 | ...`). */
const ownLines = (output: string) => output.split('\n').filter((line) => !/^[a-z0-9-]+ *\| /.test(line)).join('\n');

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

test('cluster --redis-cluster prints the nodes, and a killed master is reported while the rest keeps running', { timeout: 60_000 }, async () => {
  const run = startProcess(process.execPath, [cli, '--redis-cluster', '--gateways', '0', '--no-bridge']);
  try {
    await waitFor('the cluster to be up', async () => (run.output().includes('chat cluster is up') ? true : undefined), 45_000, 100);
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
    assert.equal(await Promise.race([run.exited, new Promise((r) => setTimeout(r, 200, 'running'))]), 'running');
  } finally {
    assert.equal(await run.stop('SIGTERM'), 0, run.output());
  }
  // Ctrl-C (SIGTERM here) leaves no Redis node behind.
  for (const [, pid] of ownLines(run.output()).matchAll(/pid (\d+)/g)) {
    assert.throws(() => process.kill(Number(pid), 0), /ESRCH/, `redis-server ${pid} is still running`);
  }
});
