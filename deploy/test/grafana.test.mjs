// deploy/grafana: provisioning that Grafana loads on its first start, and a dashboard with the
// panels issue 4 lists. No Grafana here to load it; its queries run in topology.test.mjs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { dashboardFile, dashboardQueries } from './lib/queries.mjs';
import { readRepoFile } from './lib/tools.mjs';

const dashboard = JSON.parse(readRepoFile(dashboardFile));
const datasources = parse(readRepoFile('deploy/grafana/provisioning/datasources/prometheus.yml'));
const providers = parse(readRepoFile('deploy/grafana/provisioning/dashboards/chat-cluster.yml'));
const grafana = parse(readRepoFile('docker-compose.yml')).services.grafana;
const panels = dashboard.panels.filter((panel) => panel.type !== 'row');

test('the datasource is the compose Prometheus, under the uid every panel uses', () => {
  const [source] = datasources.datasources;
  assert.equal(source.type, 'prometheus');
  assert.equal(source.url, 'http://prometheus:9090');
  assert.equal(source.isDefault, true);
  for (const panel of panels) {
    assert.deepEqual(panel.datasource, { type: 'prometheus', uid: source.uid }, panel.title);
    for (const target of panel.targets) assert.equal(target.datasource.uid, source.uid, `${panel.title} ${target.refId}`);
  }
});

test('the dashboard provider reads the folder compose mounts the dashboards into', () => {
  const path = providers.providers[0].options.path;
  assert.ok(grafana.volumes.includes(`./deploy/grafana/dashboards:${path}:ro`), `${path} is mounted`);
  assert.ok(grafana.volumes.includes('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro'));
  assert.ok(grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH.startsWith(path));
});

test('the dashboard has a panel for each view of the cluster issue 4 lists', () => {
  const queries = dashboardQueries();
  const panelFor = (what, predicate) =>
    assert.ok(queries.some((query) => predicate(query.expr)), `a panel shows ${what}`);
  panelFor('connections per node', (expr) => /chat_connections\b(?!_)/.test(expr) && expr.includes('by (node)'));
  panelFor('connects per second', (expr) => expr.includes('rate(chat_connections_opened_total'));
  panelFor('disconnects per second', (expr) => expr.includes('rate(chat_connections_closed_total'));
  panelFor('frames in per second', (expr) => expr.includes('rate(chat_frames_received_total'));
  panelFor('messages delivered per second', (expr) => expr.includes('rate(chat_messages_delivered_total'));
  panelFor('delivery latency p50', (expr) => expr.startsWith('histogram_quantile(0.5,') && expr.includes('chat_delivery_latency_seconds_bucket'));
  panelFor('delivery latency p99', (expr) => expr.startsWith('histogram_quantile(0.99,') && expr.includes('chat_delivery_latency_seconds_bucket'));
  panelFor('bus publish latency', (expr) => expr.includes('chat_bus_publish_seconds_bucket'));
  panelFor('backpressure drops', (expr) => expr.includes('chat_backpressure_dropped_total'));
  panelFor('slow consumers closed', (expr) => expr.includes('chat_connections_closed_total{reason="slow_consumer"'));
  panelFor('bridge throughput by direction', (expr) => expr.includes('chat_bridge_messages_total') && expr.includes('by (direction)'));
  panelFor('event-loop lag', (expr) => expr.includes('nodejs_eventloop_lag'));
  panelFor('memory per node', (expr) => expr.includes('process_resident_memory_bytes') && expr.includes('node'));
});

test('panels have unique ids and tile the 24-column grid without overlapping', () => {
  const ids = dashboard.panels.map((panel) => panel.id);
  assert.equal(new Set(ids).size, ids.length);
  const boxes = dashboard.panels.map(({ title, gridPos: { x, y, w, h } }) => ({ title, x, y, w, h }));
  for (const box of boxes) assert.ok(box.x >= 0 && box.x + box.w <= 24 && box.h > 0, box.title);
  for (const [i, a] of boxes.entries()) {
    for (const b of boxes.slice(i + 1)) {
      const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
      assert.ok(!overlap, `"${a.title}" overlaps "${b.title}"`);
    }
  }
  assert.equal(dashboard.uid, 'chat-cluster');
});

test('a multi-select node variable, All included, matching every series when All is chosen', () => {
  const variable = dashboard.templating.list.find((v) => v.name === 'node');
  assert.ok(variable, 'the dashboard has a `node` variable');
  assert.equal(variable.type, 'query');
  assert.equal(variable.multi, true);
  assert.equal(variable.includeAll, true);
  // Without allValue, Grafana sends All as a list of the known values, which drops the HAProxy
  // series (they have no node label) and any node that appeared after the list was read.
  assert.equal(variable.allValue, '.*');
  assert.match(variable.query.query, /^label_values\(.+, node\)$/);
  assert.deepEqual(variable.datasource, panels[0].datasource);
});

test('every metric of every panel query is filtered by node=~"$node"', () => {
  for (const { panel, refId, expr } of dashboardQueries()) {
    const metrics = metricSelectors(expr);
    assert.ok(metrics.length > 0, `${panel} ${refId} reads a metric`);
    for (const { name, labels } of metrics) {
      assert.ok(labels.split(',').some((matcher) => matcher.trim() === 'node=~"$node"'), `${panel} ${refId}: ${name}{${labels}} is not filtered by node=~"$node"`);
    }
  }
});

/**
 * Each metric a PromQL expression reads, with its label matchers. The numbers, `by (...)` label
 * lists and `[range]`s are dropped first; an identifier then is a function when `(` follows it, and
 * a metric otherwise.
 */
function metricSelectors(expr) {
  const plain = expr.replace(/\b(by|without)\s*\([^)]*\)/g, '').replace(/\[[^\]]*\]/g, '');
  const selectors = [];
  for (const [, name, braces, call] of plain.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{[^}]*\})?\s*(\()?/g)) {
    if (call === undefined || braces !== undefined) selectors.push({ name, labels: braces === undefined ? '' : braces.slice(1, -1) });
  }
  return selectors;
}
