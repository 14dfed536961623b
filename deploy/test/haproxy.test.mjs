// deploy/haproxy/haproxy.cfg: accepted by HAProxy itself (Debian's haproxy, `haproxy -c`), as
// written for Docker and as the loopback variant the topology test runs, and tuned for WebSockets.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { freePort, waitFor } from './lib/processes.mjs';
import { haproxyLoopbackConfig } from './lib/variants.mjs';
import { readRepoFile, run, systemTool } from './lib/tools.mjs';

const configFile = 'deploy/haproxy/haproxy.cfg';
const config = readRepoFile(configFile);

/** Lines of one section (`backend gateways`, `defaults`, ...), trimmed. */
function section(header) {
  const lines = config.split('\n');
  const start = lines.findIndex((line) => line.trim() === header);
  assert.ok(start >= 0, `${configFile} has a \`${header}\` section`);
  const body = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    if (line.trim() && !line.trim().startsWith('#')) body.push(line.trim());
  }
  return body;
}

function seconds(value) {
  const match = value.match(/^(\d+)(ms|s|m|h)?$/);
  assert.ok(match, `a duration: ${value}`);
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2] ?? 'ms'];
}

test('haproxy -c accepts the configuration', async () => {
  const { code, stdout, stderr } = await run(systemTool('haproxy', 'haproxy'), ['-c', '-f', configFile]);
  assert.equal(code, 0, `${stdout}${stderr}`);
});

test('haproxy -c accepts the loopback variant the topology test runs', async () => {
  const variant = haproxyLoopbackConfig(config, { binds: { 8080: 18080, 8404: 18404 }, gateways: [18081, 18082, 18083] });
  assert.doesNotMatch(variant, /^\s*(resolvers|server-template)\b/m);
  assert.equal(variant.match(/^\s*server gw\d 127\.0\.0\.1:\d+ check/gm)?.length, 3);
  const dir = mkdtempSync(join(tmpdir(), 'haproxy-variant-'));
  try {
    writeFileSync(join(dir, 'haproxy.cfg'), variant);
    const { code, stdout, stderr } = await run(systemTool('haproxy', 'haproxy'), ['-c', '-f', join(dir, 'haproxy.cfg')]);
    assert.equal(code, 0, `${stdout}${stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('gateways are balanced by leastconn and checked on /readyz over HTTP/1.1 with a Host header', () => {
  const backend = section('backend gateways');
  assert.ok(backend.includes('balance leastconn'));
  assert.ok(backend.includes('option httpchk'));
  const send = backend.find((line) => line.startsWith('http-check send'));
  assert.match(send ?? '', /meth GET uri \/readyz ver HTTP\/1\.1 hdr Host \S+/, 'uWebSockets.js ignores HTTP/1.0 checks without Host');
  assert.ok(backend.includes('http-check expect status 200'));
  assert.ok(!backend.some((line) => line.includes('shutdown-sessions')), 'the gateway closes its own clients with 1001 when it drains');
});

test('one slow /readyz answer does not take a gateway out of rotation: fall 2 or more, a check timeout within the interval', () => {
  const backend = section('backend gateways');
  const defaults = backend.find((line) => line.startsWith('default-server')) ?? '';
  const option = (name) => defaults.match(new RegExp(`\\b${name} (\\S+)`))?.[1];
  assert.ok(Number(option('fall')) >= 2, `default-server fall ${option('fall')} (HAProxy's default is 3)`);
  // Without `timeout check`, HAProxy bounds a check by its interval (inter).
  const timeoutCheck = [...section('defaults'), ...backend].find((line) => line.startsWith('timeout check'));
  if (timeoutCheck !== undefined) assert.ok(seconds(timeoutCheck.split(/\s+/)[2]) <= seconds(option('inter')));
});

test('gateway replicas are found through Docker DNS, enough slots for scaling', () => {
  const template = section('backend gateways').find((line) => line.startsWith('server-template'));
  const [, , slots, address, ...options] = template.split(/\s+/);
  assert.equal(address, 'gateway:8080');
  assert.ok(Number(slots) >= 10, `${slots} slots`);
  assert.ok(options.includes('check') && options.join(' ').includes('resolvers docker') && options.join(' ').includes('init-addr none'));
  assert.ok(section('resolvers docker').includes('nameserver dns 127.0.0.11:53'));
});

test('a WebSocket tunnel outlives the gateway heartbeat', () => {
  const tunnel = section('defaults').find((line) => line.startsWith('timeout tunnel'));
  assert.ok(tunnel, 'timeout tunnel is set (otherwise timeout client/server cut idle sockets)');
  // The gateway pings every 25 s and closes clients silent for 50 s.
  assert.ok(seconds(tunnel.split(/\s+/)[2]) > 60, tunnel);
});

test('HAProxy serves its Prometheus exporter on the port Prometheus scrapes', () => {
  const stats = section('frontend stats');
  assert.ok(stats.includes('http-request use-service prometheus-exporter if { path /metrics }'));
  const port = stats.find((line) => line.startsWith('bind')).split(':')[1];
  const prometheus = parse(readRepoFile('deploy/prometheus/prometheus.yml'));
  const job = prometheus.scrape_configs.find((scrape) => scrape.job_name === 'haproxy');
  assert.deepEqual(job.static_configs[0].targets, [`haproxy:${port}`]);
  assert.ok(section('frontend chat').includes('bind :8080'));
});

test('a token in the query string never reaches HAProxy\'s log, while the request itself is logged', async () => {
  // A stand-in gateway: answers the health check and every request with 200.
  const backend = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n'));
  await new Promise((listening) => backend.listen(0, '127.0.0.1', listening));
  const [chat, stats] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'haproxy-log-'));
  const variant = haproxyLoopbackConfig(config, { binds: { 8080: chat, 8404: stats }, gateways: [backend.address().port] });
  writeFileSync(join(dir, 'haproxy.cfg'), variant);
  const haproxy = spawn(systemTool('haproxy', 'haproxy'), ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((done) => haproxy.once('exit', done));
  let log = '';
  haproxy.stdout.on('data', (chunk) => (log += chunk));
  haproxy.stderr.on('data', (chunk) => (log += chunk));
  const secret = 'secret-looking-value.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
  try {
    await waitFor('HAProxy to proxy to the stand-in gateway', async () => (await fetch(`http://127.0.0.1:${chat}/healthz`)).status === 200);
    const response = await fetch(`http://127.0.0.1:${chat}/ws?token=${secret}&user=alice`, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(response.status, 200);
    const line = await waitFor('HAProxy to log the request', async () => log.split('\n').find((entry) => entry.includes('"GET /ws ')));
    assert.match(line, / 200 .*"GET \/ws HTTP\/1\.1"$/, line);
    assert.ok(!log.includes('secret-looking-value') && !log.includes('token='), `the token is in HAProxy's log:\n${log}`);
  } finally {
    haproxy.kill('SIGTERM');
    await exited;
    backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
