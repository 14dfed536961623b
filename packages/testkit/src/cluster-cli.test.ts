// `npm run cluster` as an operator runs it (on free ports here): every process's output shows,
// each line after the process's name, and a process that dies leaves the others serving.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, repoRoot, startProcess, waitFor } from './processes.js';

const cli = `${repoRoot}/packages/testkit/dist/cluster-cli.js`;

test('cluster prefixes each process line with its name, and a killed gateway is reported while the rest keeps serving', { timeout: 120_000 }, async () => {
  const gatewayPorts = [await freePort(), await freePort(), await freePort()];
  const bridgePort = await freePort();
  const run = startProcess(process.execPath, [cli], { ...process.env, GATEWAY_PORTS: gatewayPorts.join(','), BRIDGE_PORT: String(bridgePort), LOG_LEVEL: 'info', NO_COLOR: '1' });
  try {
    await waitFor('the cluster to be up', async () => (run.output().includes('chat cluster is up') ? true : undefined), 90_000, 100)
      .catch((error: Error) => assert.fail(`${error.message}\n${run.output()}`));
    const gateways = [...run.output().matchAll(/(gateway-\d): (http:\/\/127\.0\.0\.1:\d+) {2}pid (\d+)/g)].map(([, name, url, pid]) => ({ name: name!, url: url!, pid: Number(pid) }));
    assert.deepEqual(gateways.map((g) => g.name), ['gateway-1', 'gateway-2', 'gateway-3'], run.output());
    assert.deepEqual(gateways.map((g) => Number(new URL(g.url).port)), gatewayPorts);

    const [first, victim, third] = gateways as [typeof gateways[0], typeof gateways[0], typeof gateways[0]];
    process.kill(victim.pid, 'SIGKILL');
    await waitFor('the exit to be reported', async () => (run.output().includes(`gateway-2 (pid ${victim.pid}) was killed by SIGKILL; the others keep running`) ? true : undefined), 10_000, 100)
      .catch((error: Error) => assert.fail(`${error.message}\n${run.output()}`));
    for (const url of [first.url, third.url, `http://127.0.0.1:${bridgePort}`]) {
      assert.equal((await fetch(`${url}/healthz`)).status, 200, `${url} still answers`);
    }
    assert.equal((await fetch(`${first.url}/readyz`)).status, 200);
    assert.equal(await Promise.race([run.exited, new Promise((r) => setTimeout(r, 500, 'running'))]), 'running');

    const out = run.output();
    for (const name of ['redis', 'mosquitto', 'gateway-1', 'gateway-2', 'gateway-3', 'bridge-1']) {
      assert.match(out, new RegExp(`^${name} *\\| \\S`, 'm'), `a line of ${name}, prefixed`);
    }
    // The names are padded to one width, so the columns line up.
    const widths = new Set([...out.matchAll(/^([a-z0-9-]+ *)\| /gm)].map(([, label]) => label!.length));
    assert.equal(widths.size, 1, `one prefix width: ${[...widths].join(', ')}`);
    assert.match(out, /^gateway-1 *\| \{"time":.*"msg":"gateway listening"/m);
    assert.doesNotMatch(out, /\x1b\[/, 'no color codes when stdout is not a terminal');
  } finally {
    assert.equal(await run.stop('SIGTERM'), 0, run.output());
  }
  for (const [, pid] of run.output().matchAll(/pid (\d+)/g)) {
    assert.throws(() => process.kill(Number(pid), 0), /ESRCH/, `process ${pid} is still running`);
  }
});
