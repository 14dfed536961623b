/**
 * The web chat page's smaller promises, in a real Chromium against two gateways on a real Redis: a
 * direct message's peer is shown online only while it is known to be connected, "Load earlier
 * messages" shows only when there may be earlier messages, a reload (or a visit after leaving) comes
 * back to the same rooms and direct messages and resumes each room from the last message seen, sign
 * out forgets it all, and the phone drawer closes by its button and by Escape. Screenshots web-s*.png
 * go to the directory the run prints.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { connectClient, startGateway, type GatewayService, type TestClient } from '@chat/testkit';
import { signToken, startCluster, type RealCluster } from '../testing/real-cluster.js';
import { launchChromium, requireChromium, screenshot, watchErrors } from './browser.js';

const WAIT = { timeout: 15_000 };

describe('the web chat page keeps its place and tells the truth about peers and history', () => {
  let cluster: RealCluster;
  let browser: Browser;
  let one: GatewayService;
  let two: GatewayService;
  const contexts: BrowserContext[] = [];
  const clients: TestClient[] = [];
  const pageErrors: string[][] = [];
  let rita: Page;
  /** The `join` frames rita's page sent, across reloads. */
  const joins: Array<{ room: string; since?: string }> = [];

  before(async () => {
    requireChromium();
    cluster = await startCluster(['st1', 'st2']);
    [one, two] = cluster.gateways as [GatewayService, GatewayService];
    browser = await launchChromium();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await cluster?.stop();
  });

  async function newPage(label: string, options: Parameters<Browser['newContext']>[0] = { viewport: { width: 1000, height: 700 } }): Promise<Page> {
    const context = await browser.newContext(options);
    contexts.push(context);
    const page = await context.newPage();
    pageErrors.push(watchErrors(page, label));
    return page;
  }

  async function post(room: string, text: string): Promise<string> {
    const response = await fetch(`${two.url}/api/rooms/${room}/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text, from: 'poster' }),
    });
    assert.equal(response.status, 202);
    return ((await response.json()) as { id: string }).id;
  }

  const conv = (page: Page, key: string) => page.locator(`ol.conv[data-key="${key}"]`);
  const texts = (page: Page, key: string) => conv(page, key).locator('li.msg:not(.pending) .text').allTextContents();

  test('a direct message\'s peer shows no green dot until it is known to be connected', async () => {
    rita = await newPage('rita');
    rita.on('websocket', (ws) => ws.on('framesent', ({ payload }) => {
      const frame = JSON.parse(String(payload)) as { type: string; room: string; since?: string };
      if (frame.type === 'join') joins.push({ room: frame.room, ...(frame.since === undefined ? {} : { since: frame.since }) });
    }));
    await rita.goto(`${one.url}/?user=rita&rooms=lobby`);
    await rita.waitForSelector('#status[data-state=connected]', WAIT);
    assert.equal(await rita.isHidden('#drawer-close'), true, 'no drawer, no close button on a wide screen');
    await rita.fill('#dm-form input[name=to]', 'ghost');
    await rita.press('#dm-form input[name=to]', 'Enter');
    await rita.waitForSelector('#members li[data-user=ghost][data-state=unknown]', WAIT);
    assert.equal(await rita.locator('#members li[data-user=ghost] .online').count(), 0, 'not known to be online: no green dot');
    await rita.fill('#text', 'are you there?');
    await rita.press('#text', 'Enter');
    await rita.waitForSelector('ol.conv[data-key="dm:ghost"] li.msg.failed >> text=not sent: ghost is offline', WAIT);
    await rita.waitForSelector('#members li[data-user=ghost][data-state=offline] >> text=offline', WAIT);
    assert.equal(await rita.locator('#members li[data-user=ghost] .online').count(), 0);
    await screenshot(rita, 'web-s01-offline-peer');

    const ghost = await connectClient(two.wsUrl, { user: 'ghost' });
    clients.push(ghost);
    await ghost.request({ type: 'join', room: 'lobby' });
    await rita.waitForSelector('#members li[data-user=ghost][data-state=online] .online', WAIT);
    await screenshot(rita, 'web-s02-peer-online-in-a-shared-room');
    await ghost.close();
    await rita.waitForSelector('#members li[data-user=ghost][data-state=offline]', WAIT);
  });

  test('"Load earlier messages" shows only when there may be earlier messages', async () => {
    await rita.fill('#join-form input[name=room]', 'quiet');
    await rita.press('#join-form input[name=room]', 'Enter');
    await conv(rita, 'room:quiet').locator('li.sys >> text=No messages yet.').waitFor(WAIT);
    assert.equal(await conv(rita, 'room:quiet').locator('li.more').isHidden(), true, 'an empty room');
    await post('quiet', 'the very first message');
    await conv(rita, 'room:quiet').locator('li.msg >> text=the very first message').waitFor(WAIT);
    assert.equal(await conv(rita, 'room:quiet').locator('li.more').isHidden(), true, 'its first message is shown: nothing earlier');
    await screenshot(rita, 'web-s03-empty-room-no-load-earlier');

    for (let i = 1; i <= 3; i++) await post('busy', `busy ${i}`);
    await rita.fill('#join-form input[name=room]', 'busy');
    await rita.press('#join-form input[name=room]', 'Enter');
    await conv(rita, 'room:busy').locator('li.msg >> text=busy 3').waitFor(WAIT);
    await conv(rita, 'room:busy').locator('li.more button:text("Load earlier messages")').waitFor(WAIT);
    await conv(rita, 'room:busy').locator('li.more button').click();
    await conv(rita, 'room:busy').locator('li.more button:disabled:text("Beginning of the room")').waitFor(WAIT);
    assert.deepEqual(await texts(rita, 'room:busy'), ['busy 1', 'busy 2', 'busy 3']);
  });

  test('a page that comes back resumes every room from the last message seen: nothing missed, nothing twice', async () => {
    await rita.click('#rooms li[data-key="room:lobby"] button');
    const seen = [await post('lobby', 'before 1'), await post('lobby', 'before 2')];
    await conv(rita, 'room:lobby').locator('li.msg >> text=before 2').waitFor(WAIT);

    await rita.reload(); // a reload of the ?user= link: the same user, so its rooms and direct messages stay
    await rita.waitForSelector('#status[data-state=connected]', WAIT);
    await conv(rita, 'room:lobby').locator('li.sys >> text=Nothing new since your last visit').waitFor(WAIT);
    assert.deepEqual(joins.filter((j) => j.room === 'lobby').at(-1), { room: 'lobby', since: seen[1] });

    await rita.goto('about:blank');
    const missed = [await post('lobby', 'while away 1'), await post('lobby', 'while away 2')];
    await post('busy', 'busy 4');
    await rita.goto(`${one.url}/`); // no query: everything comes from what the page kept
    await rita.waitForSelector('#status[data-state=connected]', WAIT);
    assert.equal(await rita.isHidden('#login'), true, 'not back at the login card');
    await conv(rita, 'room:lobby').locator('li.sys >> text=2 new messages since your last visit').waitFor(WAIT);
    const keys = await rita.locator('#rooms li, #dms li').evaluateAll((items) => items.map((li) => li.getAttribute('data-key')));
    assert.deepEqual(keys, ['room:lobby', 'room:quiet', 'room:busy', 'dm:ghost']);
    const lobbyJoins = joins.filter((j) => j.room === 'lobby');
    assert.deepEqual(lobbyJoins.at(-1), { room: 'lobby', since: seen[1] }, 'resumed from the last id seen before leaving');
    assert.deepEqual(await texts(rita, 'room:lobby'), ['before 1', 'before 2', 'while away 1', 'while away 2'], 'context, then what was missed, once each');
    const ids = await conv(rita, 'room:lobby').locator('li.msg').evaluateAll((items) => items.map((li) => li.getAttribute('data-id')));
    assert.deepEqual(ids.slice(-2), missed);
    const order = await conv(rita, 'room:lobby').locator('li.msg .text, li.sys.ok span').allTextContents();
    assert.deepEqual(order.slice(-3), ['2 new messages since your last visit', 'while away 1', 'while away 2'], 'the line between old and new');
    await rita.click('#rooms li[data-key="room:busy"] button');
    await conv(rita, 'room:busy').locator('li.msg >> text=busy 4').waitFor(WAIT);
    assert.deepEqual(await texts(rita, 'room:busy'), ['busy 1', 'busy 2', 'busy 3', 'busy 4']);
    await screenshot(rita, 'web-s04-back-after-leaving');
  });

  test('sign out forgets the rooms and the name: the next visit starts at the login card', async () => {
    await rita.click('#sign-out');
    await rita.waitForSelector('#login:not([hidden])', WAIT);
    assert.equal(await rita.evaluate('localStorage.getItem("chat.session")'), null);
    await rita.goto(`${one.url}/`);
    await rita.waitForSelector('#login:not([hidden])', WAIT);
    assert.equal(await rita.isHidden('#chat'), true);
    assert.equal(await rita.inputValue('#login-form input[name=user]'), '');
    await screenshot(rita, 'web-s05-signed-out');

    // What was kept may have been written by another version of the page, or by hand.
    await rita.evaluate('localStorage.setItem("chat.session", "{not json")');
    await rita.reload();
    await rita.waitForSelector('#login:not([hidden])', WAIT);
    await rita.evaluate(`localStorage.setItem("chat.session", JSON.stringify({ user: 'rita', rooms: ['lobby', 'no spaces!'], dms: [{}], seen: { lobby: 'yesterday' } }))`);
    await rita.reload();
    await rita.waitForSelector('#status[data-state=connected]', WAIT);
    assert.deepEqual(await rita.locator('#rooms li, #dms li').evaluateAll((items) => items.map((li) => li.getAttribute('data-key'))), ['room:lobby']);
    await conv(rita, 'room:lobby').locator('li.msg >> text=while away 2').waitFor(WAIT);
    await rita.click('#sign-out');
    await rita.waitForSelector('#login:not([hidden])', WAIT);
  });

  test('on a phone the drawer closes with its close button and with Escape', async () => {
    const pia = await newPage('pia', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await pia.goto(`${one.url}/?user=pia&rooms=lobby`);
    await pia.waitForSelector('#status[data-state=connected]', WAIT);
    await pia.click('#menu');
    await pia.waitForSelector('#sidebar.open #drawer-close', { state: 'visible', ...WAIT });
    await pia.waitForTimeout(300); // the drawer slides in
    await screenshot(pia, 'web-s06-phone-drawer-open');
    await pia.click('#drawer-close');
    await pia.waitForSelector('#sidebar:not(.open)', WAIT);
    assert.equal(await pia.getAttribute('#menu', 'aria-expanded'), 'false');
    await pia.click('#menu');
    await pia.waitForSelector('#sidebar.open', WAIT);
    await pia.keyboard.press('Escape');
    await pia.waitForSelector('#sidebar:not(.open)', WAIT);
    await pia.waitForTimeout(300);
    await screenshot(pia, 'web-s07-phone-drawer-closed-by-escape');
  });

  test('no page logged an error', () => {
    assert.deepEqual(pageErrors.flat(), []);
  });
});

test('with sign-in on, a reload keeps the token for its tab only; a new tab asks for it again', async () => {
  requireChromium();
  const secret = 'a-test-secret-of-at-least-32-bytes-long';
  const gateway = await startGateway({ env: { NODE_ID: 'auth1', AUTH_JWT_SECRET: secret } });
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    const errors = watchErrors(page, 'tess');
    const token = signToken('tess', 600, secret);
    await page.goto(`${gateway.url}/`);
    await page.fill('#login-form input[name=user]', 'tess');
    await page.fill('#login-form input[name=rooms]', 'lobby, vault');
    await page.click('#login-form summary');
    await page.fill('#login-form input[name=token]', token);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#status[data-state=connected]', WAIT);
    assert.equal(await page.evaluate('sessionStorage.getItem("chat.token")'), token);
    assert.doesNotMatch(String(await page.evaluate('localStorage.getItem("chat.session")')), new RegExp(token.split('.')[2]!), 'no token in localStorage');

    await page.reload();
    await page.waitForSelector('#status[data-state=connected]', WAIT);
    assert.deepEqual(await page.locator('#rooms li').evaluateAll((items) => items.map((li) => li.getAttribute('data-key'))), ['room:lobby', 'room:vault']);
    assert.equal(await page.title(), 'Chat · tess', 'signed in by the token again');

    const tab = await context.newPage();
    await tab.goto(`${gateway.url}/`);
    await tab.waitForSelector('#login:not([hidden])', WAIT);
    assert.equal(await tab.inputValue('#login-form input[name=user]'), 'tess');
    assert.equal(await tab.inputValue('#login-form input[name=token]'), '');
    await screenshot(tab, 'web-s08-new-tab-asks-for-the-token');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await gateway.kill();
  }
});
