// docs/openapi.yaml against a running gateway and the bridge's ops server, both ways: every route the
// code serves is documented, and every documented route answers, with a status documented for it.
// Also the metric names of docs/protocol.md against what /metrics really exposes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createBridgeMetrics, serveOps } from '@chat/runtime';
import { connectClient, startGateway } from '@chat/testkit';
import { API_ROUTES } from '../../services/gateway/dist/http-api.js';
import { loadOpenApi, protocolMd, repoDir } from './lib/documents.mjs';

const API_KEY = 'docs-test-key';
const BRIDGE_OPS_PORT = ':9464';
const sample = { room: 'docs-room', user: 'docs-user' };
const api = await loadOpenApi();
const md = protocolMd();
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** Every documented operation: method, path, its documented statuses and whether it needs the API key. */
const operations = Object.entries(api.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m] !== undefined).map((method) => ({
  method, path, item,
  statuses: Object.keys(item[method].responses),
  secured: (item[method].security ?? api.security ?? []).length > 0,
  idempotent: (item[method].parameters ?? []).some((p) => p.name === 'Idempotency-Key'),
})));

/** The routes uws-transport.ts registers by name (its catch-alls `/*` and `/api/*` aside) and those http-api.ts matches by name. */
function routesInSource() {
  const transport = readFileSync(join(repoDir, 'services/gateway/src/uws-transport.ts'), 'utf8');
  const api = readFileSync(join(repoDir, 'services/gateway/src/http-api.ts'), 'utf8');
  const registered = [...transport.matchAll(/\.app\.(get|post|put|del|patch|any|ws)(?:<\w+>)?\('([^']+)'/g)]
    .map(([, method, path]) => ({ method: method === 'ws' ? 'get' : method, path }))
    .filter(({ path }) => !path.includes('*'));
  const named = [...api.matchAll(/head\.path === '([^']+)'/g)].map(([, path]) => ({ method: 'get', path }));
  return [...registered, ...named];
}

function call(base, { method, path, secured, idempotent }, withKey = true) {
  const url = `${base}${path.replace(/\{(\w+)\}/g, (_, name) => sample[name])}`;
  const headers = { 'content-type': 'application/json' };
  if (secured && withKey) headers.authorization = `Bearer ${API_KEY}`;
  if (idempotent) headers['idempotency-key'] = `docs-${method}-${path}`;
  const body = method === 'post' && path.endsWith('/messages') ? JSON.stringify({ text: 'from the docs test' }) : undefined;
  return fetch(url, { method: method.toUpperCase(), headers, body });
}

test('docs/openapi.yaml validates as OpenAPI 3.1', () => {
  assert.equal(api.openapi, '3.1.0');
});

test('every route the gateway code serves is documented with its method', () => {
  const documented = new Set(operations.map((o) => `${o.method} ${o.path}`));
  const inCode = [...API_ROUTES.map((r) => ({ method: r.method.toLowerCase(), path: r.path })), ...routesInSource()];
  assert.ok(inCode.length >= 10, `found the code's routes (${inCode.length})`);
  for (const { method, path } of inCode) assert.ok(documented.has(`${method} ${path}`), `${method.toUpperCase()} ${path} is served but not in docs/openapi.yaml`);
  for (const { method, path } of operations) assert.ok(md.includes(`${method.toUpperCase()} ${path}`), `protocol.md lists ${method.toUpperCase()} ${path}`);
});

describe('a real gateway with API_KEY set', () => {
  let gw;
  let online;
  before(async () => {
    gw = await startGateway({ env: { API_KEY } });
    online = await connectClient(gw.wsUrl, { user: sample.user });
  });
  after(async () => {
    await online.close();
    await gw.stop();
  });

  test('answers every documented route with a status documented for it', async () => {
    for (const operation of operations.filter((o) => o.path !== '/ws')) {
      const res = await call(gw.url, operation);
      await res.arrayBuffer();
      const what = `${operation.method.toUpperCase()} ${operation.path} answered ${res.status}`;
      assert.ok(res.status !== 404 && res.status !== 405, `${what}: the route does not exist`);
      assert.ok(operation.statuses.includes(String(res.status)), `${what}, documented: ${operation.statuses.join(', ')}`);
    }
    const ws = operations.find((o) => o.path === '/ws');
    assert.ok(ws.statuses.includes('101'));
    const client = await connectClient(gw.wsUrl, { user: 'docs-probe' });
    assert.equal(client.welcome.type, 'welcome', 'GET /ws upgrades');
    await client.close();
  });

  test('answers 401 without the key on every route documented as secured, and only on those', async () => {
    const secured = operations.filter((o) => o.secured);
    assert.deepEqual(secured.map((o) => o.path).filter((p) => !p.startsWith('/api/')), [], 'only /api routes need the key');
    assert.ok(operations.filter((o) => o.path.startsWith('/api/')).every((o) => o.secured), 'every /api route is documented as secured');
    for (const operation of secured) {
      const res = await call(gw.url, operation, false);
      assert.equal(res.status, 401, `${operation.method} ${operation.path}`);
      assert.ok(operation.statuses.includes('401'));
      assert.equal((await res.json()).error.code, 'unauthorized');
    }
  });

  test('answers 404 on routes that are not documented', async () => {
    for (const path of ['/nothing-here', '/api/rooms/docs-room/nothing', '/api/teams']) {
      const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${API_KEY}` } });
      assert.equal(res.status, 404, path);
    }
  });

  test('exposes exactly the chat_ metrics protocol.md lists (with the bridge\'s)', async () => {
    const gateway = await (await fetch(`${gw.url}/metrics`)).text();
    const bridge = await createBridgeMetrics('docs').render();
    const exposed = [...`${gateway}\n${bridge}`.matchAll(/^# TYPE (chat_\w+) /gm)].map((m) => m[1]);
    const listed = [...md.matchAll(/^\| `(chat_\w+)(?:\{[^}]*\})?` \|/gm)].map((m) => m[1]);
    assert.deepEqual([...new Set(listed)].sort(), [...new Set(exposed)].sort());
  });
});

describe('the bridge\'s ops server', () => {
  let ready = true;
  let server;
  let base;
  before(async () => {
    server = await serveOps(0, '127.0.0.1', () => ready, createBridgeMetrics('docs'));
    base = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => server.close());

  test('serves exactly the routes documented for its port, with documented statuses', async () => {
    const onBridge = (o) => (o.item.servers ?? []).some((s) => s.url.endsWith(BRIDGE_OPS_PORT));
    assert.deepEqual(operations.filter(onBridge).map((o) => o.path).sort(), ['/healthz', '/metrics', '/readyz']);
    for (const state of [true, false]) {
      ready = state;
      for (const operation of operations.filter(onBridge)) {
        const res = await call(base, operation);
        await res.arrayBuffer();
        assert.ok(operation.statuses.includes(String(res.status)), `${operation.path} answered ${res.status} (ready: ${state})`);
      }
    }
    assert.equal((await fetch(`${base}/readyz`)).status, 503, 'not ready is documented as 503');
    for (const operation of operations.filter((o) => !onBridge(o) && o.method === 'get')) {
      assert.equal((await call(base, operation)).status, 404, `${operation.path} is not on the bridge`);
    }
  });
});
