// deploy/prometheus: promtool (Debian's prometheus package) checks the configuration, the alert
// rules and the PromQL of every dashboard panel; the rest checks what issue 4 asks them to watch.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { alertRules, alertSignal, concreteQuery, dashboardQueries } from './lib/queries.mjs';
import { prometheusLoopbackConfig } from './lib/variants.mjs';
import { readRepoFile, repoPath, run, systemTool } from './lib/tools.mjs';

const promtool = () => systemTool('promtool', 'prometheus');
const config = parse(readRepoFile('deploy/prometheus/prometheus.yml'));

function withTempDir(body) {
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-check-'));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('promtool check config accepts prometheus.yml and the rule files it names', async () => {
  const { code, stdout, stderr } = await run(promtool(), ['check', 'config', repoPath('deploy/prometheus/prometheus.yml')]);
  assert.equal(code, 0, `${stdout}${stderr}`);
  assert.match(stdout, /SUCCESS: 1 rule files found/);
});

test('promtool check rules accepts the alert rules', async () => {
  const { code, stdout, stderr } = await run(promtool(), ['check', 'rules', repoPath('deploy/prometheus/alerts.yml')]);
  assert.equal(code, 0, `${stdout}${stderr}`);
});

test('promtool check config accepts the loopback variant the topology test runs', () =>
  withTempDir(async (dir) => {
    const variant = prometheusLoopbackConfig(readRepoFile('deploy/prometheus/prometheus.yml'), {
      rulesDir: repoPath('deploy/prometheus'),
      intervalSeconds: 1,
      dnsTargets: { gateway: ['127.0.0.1:1', '127.0.0.1:2'], bridge: ['127.0.0.1:3'] },
      staticTargets: { 'haproxy:8404': '127.0.0.1:4', 'localhost:9090': '127.0.0.1:5' },
    });
    writeFileSync(join(dir, 'prometheus.yml'), variant);
    const { code, stdout, stderr } = await run(promtool(), ['check', 'config', join(dir, 'prometheus.yml')]);
    assert.equal(code, 0, `${stdout}${stderr}`);
  }));

test('every gateway and bridge replica is scraped directly through DNS service discovery', () => {
  const job = (name) => config.scrape_configs.find((scrape) => scrape.job_name === name);
  assert.deepEqual(job('gateway').dns_sd_configs, [{ names: ['gateway'], type: 'A', port: 8080, refresh_interval: '10s' }]);
  assert.deepEqual(job('bridge').dns_sd_configs, [{ names: ['bridge'], type: 'A', port: 9464, refresh_interval: '10s' }]);
  assert.ok(job('haproxy'), 'HAProxy is scraped too');
  assert.ok(!JSON.stringify(config).includes('haproxy:8080'), 'never through the load balancer');
});

test('the alert rules cover a node down, delivery p99, slow consumers closed, the bridge and Redis', () => {
  const exprs = Object.fromEntries(alertRules().map((rule) => [rule.alert, rule.expr]));
  const covers = (metric) => Object.values(exprs).some((expr) => expr.includes(metric));
  assert.ok(covers('up{job=~"gateway|bridge'), 'node down');
  assert.ok(covers('histogram_quantile(0.99') && covers('chat_delivery_latency_seconds_bucket'), 'delivery p99');
  assert.ok(covers('chat_connections_closed_total{reason="slow_consumer"}'), 'slow consumers closed with 4008');
  assert.ok(covers('chat_bridge_mqtt_connected'), 'bridge disconnected');
  assert.ok(covers('chat_bus_connected'), 'Redis unreachable');
  for (const rule of alertRules()) {
    assert.ok(rule.for && rule.labels?.severity && rule.annotations?.summary, `${rule.alert} has for, severity and summary`);
    assert.notEqual(alertSignal(rule.expr), rule.expr, `${rule.alert}: \`signal OPERATOR threshold\`, so the topology test can run the signal`);
  }
});

test('every dashboard query and alert signal is valid PromQL (promtool)', () =>
  withTempDir(async (dir) => {
    // promtool has no "check query"; recording rules carry any expression through its parser.
    const rules = [
      ...dashboardQueries().map((query, i) => ({ record: `dashboard:query_${i}`, expr: concreteQuery(query.expr) })),
      ...alertRules().map((rule, i) => ({ record: `alert:signal_${i}`, expr: alertSignal(rule.expr) })),
    ];
    writeFileSync(join(dir, 'queries.yml'), stringify({ groups: [{ name: 'queries', rules }] }));
    const { code, stdout, stderr } = await run(promtool(), ['check', 'rules', join(dir, 'queries.yml')]);
    assert.equal(code, 0, `${stdout}${stderr}`);
    assert.match(stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  }));
