/**
 * The operator's page (GET /admin) in a real Chromium, on node 1 of three gateways on a real Redis
 * with API_KEY set, while WebSocket clients sit in rooms on all three nodes: a wrong key is refused
 * with the 401 in words, the right key shows the nodes with their connections, the rooms with their
 * members, a room's members and messages; a message published from the page reaches a member on
 * node 3, and a user on node 2 disconnected from the page is closed with 4403. Every step leaves a
 * screenshot admin-*.png in the directory the run prints.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { connectClient, startGateway, type GatewayService, type TestClient } from '@chat/testkit';
import { startCluster, type RealCluster } from '../testing/real-cluster.js';
import { launchChromium, requireChromium, screenshot } from './browser.js';

const WAIT = { timeout: 15_000 };
const KEY = 'operator-secret-1';

describe('the operator page', () => {
  let cluster: RealCluster;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const clients: TestClient[] = [];
  let bob: TestClient;
  let cyd: TestClient;

  const node = (n: number): GatewayService => cluster.gateways[n - 1]!;

  async function member(n: number, user: string, ...rooms: string[]): Promise<TestClient> {
    const client = await connectClient(node(n).wsUrl, { user });
    clients.push(client);
    for (const room of rooms) assert.equal((await client.request({ type: 'join', room })).type, 'joined');
    return client;
  }

  before(async () => {
    requireChromium();
    // Nodes report themselves with each presence heartbeat (ttl / 4): once a second here.
    cluster = await startCluster(['adm1', 'adm2', 'adm3'], { API_KEY: KEY, PRESENCE_TTL_SECONDS: '4' });
    browser = await launchChromium();
    const ann = await member(1, 'ann', 'ops', 'lobby');
    bob = await member(2, 'bob', 'ops');
    cyd = await member(3, 'cyd', 'ops');
    await member(3, 'dee', 'lobby');
    await ann.request({ type: 'send', room: 'ops', text: 'deploy at noon' });
    await ann.request({ type: 'send', room: 'ops', text: '<img src=x onerror="document.body.dataset.pwned=1"> is just text' });
    await ann.request({ type: 'send', room: 'lobby', text: 'hello lobby' });
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    page = await context.newPage();
    // The page's first probe without a key is answered 401 on purpose: Chromium logs that as a failed resource.
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await browser?.close();
    await cluster?.stop();
  });

  test('a wrong key is refused with the 401 in plain words, and stays out of the URL', async () => {
    await page.goto(`${node(1).url}/admin`);
    await page.waitForSelector('#login:not([hidden]) input[name=key]', WAIT);
    await page.fill('#key-form input[name=key]', 'not-the-key');
    await page.press('#key-form input[name=key]', 'Enter');
    await page.waitForSelector('#error[data-status="401"]:not([hidden])', WAIT);
    assert.match(await page.textContent('#error') ?? '', /^401 Unauthorized: the API key is wrong or missing/);
    assert.equal(await page.isHidden('#board'), true);
    await screenshot(page, 'admin-01-wrong-key-401');
  });

  test('the right key shows the three nodes with their connections and the rooms with their members', async () => {
    await page.fill('#key-form input[name=key]', KEY);
    await page.press('#key-form input[name=key]', 'Enter');
    await page.waitForSelector('#board:not([hidden])', WAIT);
    assert.equal(await page.isHidden('#error'), true, 'the earlier 401 is cleared');
    assert.equal(page.url(), `${node(1).url}/admin`, 'the key is not in the URL');
    assert.equal(await page.evaluate('sessionStorage.getItem("chat.admin.key")'), KEY);
    // adm1: ann; adm2: bob; adm3: cyd and dee. The page reads /api/nodes again every few seconds.
    await page.waitForFunction(`[['adm1', '1'], ['adm2', '1'], ['adm3', '2']].every(([node, count]) =>
      document.querySelector('#nodes tr[data-node=' + node + '] td.connections')?.textContent === count)`, undefined, WAIT);
    assert.deepEqual(await page.locator('#nodes tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-node'))), ['adm1', 'adm2', 'adm3']);
    assert.equal(await page.locator('#nodes tbody tr[data-ready=true]').count(), 3);
    const rooms = await page.locator('#rooms tbody tr').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-room'), r.querySelector('.members')?.textContent]));
    assert.deepEqual(rooms, [['lobby', '2'], ['ops', '3']]);
    await screenshot(page, 'admin-02-nodes-and-rooms');
  });

  test('a room shows its members and its latest messages, the markup in a message as text', async () => {
    await page.click('#rooms tr[data-room=ops] button');
    await page.waitForSelector('#room[data-room=ops]:not([hidden]) #room-members li[data-user]', WAIT);
    assert.deepEqual(await page.locator('#room-members li[data-user]').evaluateAll((items) => items.map((li) => li.getAttribute('data-user'))), ['ann', 'bob', 'cyd']);
    const texts = await page.locator('#room-messages li.msg .text').allTextContents();
    assert.deepEqual(texts, ['deploy at noon', '<img src=x onerror="document.body.dataset.pwned=1"> is just text']);
    assert.equal(await page.locator('#room-messages img').count(), 0);
    assert.equal(await page.evaluate('document.body.dataset.pwned'), undefined);
    await screenshot(page, 'admin-03-room-members-and-messages');
  });

  test('a message published from the page reaches a member on node 3', async () => {
    await page.fill('#publish-form input[name=text]', 'maintenance in 5 minutes');
    await page.fill('#publish-form input[name=from]', 'ops-desk');
    await page.click('#publish-form button[type=submit]');
    const message = await cyd.next((f) => f.type === 'message' && f.text === 'maintenance in 5 minutes', 10_000);
    assert.deepEqual([message.room, message.from, message.via], ['ops', 'ops-desk', 'api']);
    await page.waitForSelector(`#publish-result >> text=Published in #ops as ${String(message.id)}`, WAIT);
    await page.waitForSelector('#room-messages li.msg[data-via=api][data-from=ops-desk] >> text=maintenance in 5 minutes', WAIT);
    await screenshot(page, 'admin-04-published-from-the-page');
  });

  test('disconnecting a user on node 2 from the page closes its connection with 4403 and shows the count', async () => {
    await page.click('#room-members li[data-user=bob] button');
    assert.equal((await bob.closed).code, 4403);
    await page.waitForSelector('#kick-result >> text=bob: connections: 1', WAIT);
    await page.waitForFunction(`document.querySelector('#rooms tr[data-room=ops] .members')?.textContent === '2'`, undefined, WAIT);
    await page.waitForFunction(`document.querySelector('#nodes tr[data-node=adm2] td.connections')?.textContent === '0'`, undefined, WAIT);
    assert.equal(await page.locator('#room-members li[data-user=bob]').count(), 0);
    await screenshot(page, 'admin-05-bob-disconnected');
    await page.fill('#kick-form input[name=user]', 'nobody-here');
    await page.press('#kick-form input[name=user]', 'Enter');
    await page.waitForSelector('#kick-result >> text=nobody-here: connections: 0', WAIT);
  });

  test('a reload keeps the key for this tab; when the bus is gone the page says 503', async () => {
    await page.reload();
    await page.waitForSelector('#board:not([hidden]) #nodes tbody tr', WAIT);
    await cluster.redis.kill();
    await page.waitForSelector('#error[data-status="503"]:not([hidden])', WAIT);
    assert.match(await page.textContent('#error') ?? '', /^503 Service Unavailable/);
    await screenshot(page, 'admin-06-bus-unavailable-503');
  });

  test('the page raised no error', () => {
    assert.deepEqual(pageErrors, []);
  });
});

test('without API_KEY the page needs no key and says the API is open', async () => {
  requireChromium();
  const gateway = await startGateway({ env: { NODE_ID: 'open1' } });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${gateway.url}/admin`);
    await page.waitForSelector('#board:not([hidden]) #nodes tr[data-node=open1]', WAIT);
    assert.equal(await page.isHidden('#login'), true);
    assert.match(await page.textContent('#open-note:not([hidden])') ?? '', /no API_KEY: its API, and this page, are open/);
    await screenshot(page, 'admin-07-open-api');
  } finally {
    await browser.close();
    await gateway.kill();
  }
});
