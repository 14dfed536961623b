/**
 * The web chat page's typing line, unread badges, "new messages" line and "seen by", in a real
 * Chromium against three gateways on a real Redis (READ_RECEIPTS on, a short TYPING_TTL_MS so that
 * an expiry is seen within the test): every page and SDK client sits on a different node from the
 * one it talks to. Screenshots web-r*.png go to the directory the run prints.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { GatewayService } from '@chat/testkit';
import type { ChatClient } from '../client.js';
import { createNodeClient } from '../node.js';
import { startCluster, type RealCluster } from '../testing/real-cluster.js';
import { launchChromium, requireChromium, screenshot, watchErrors } from './browser.js';

const WAIT = { timeout: 15_000 };
const TYPING_TTL_MS = 3000;

describe('the web chat page shows who is typing and what is unread, across nodes', () => {
  let cluster: RealCluster;
  let browser: Browser;
  let n1: GatewayService;
  let n2: GatewayService;
  let n3: GatewayService;
  const contexts: BrowserContext[] = [];
  const clients: ChatClient[] = [];
  const pageErrors: string[][] = [];
  let alice: Page;
  let bob: Page;
  let bobContext: BrowserContext;
  let carol: ChatClient;

  before(async () => {
    requireChromium();
    cluster = await startCluster(['rd1', 'rd2', 'rd3'], {
      READ_RECEIPTS: 'true', TYPING_INTERVAL_MS: '500', TYPING_TTL_MS: String(TYPING_TTL_MS),
    });
    [n1, n2, n3] = cluster.gateways as [GatewayService, GatewayService, GatewayService];
    browser = await launchChromium();
  });
  after(async () => {
    for (const client of clients) client.close();
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await cluster?.stop();
  });

  async function newContext(): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    contexts.push(context);
    return context;
  }

  async function open(context: BrowserContext, label: string, url: string): Promise<Page> {
    const page = await context.newPage();
    pageErrors.push(watchErrors(page, label));
    await page.goto(url);
    await page.waitForSelector('#status[data-state=connected]', WAIT);
    return page;
  }

  async function sdk(user: string, via: GatewayService, room: string): Promise<ChatClient> {
    const client = createNodeClient({ url: via.wsUrl, user });
    clients.push(client);
    await client.connect();
    await client.join(room);
    return client;
  }

  async function post(room: string, text: string): Promise<string> {
    const response = await fetch(`${n3.url}/api/rooms/${room}/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text, from: 'poster' }),
    });
    assert.equal(response.status, 202);
    return ((await response.json()) as { id: string }).id;
  }

  const typingLine = (page: Page) => page.textContent('#typing');
  const waitTyping = (page: Page, text: string) =>
    page.waitForFunction(`document.querySelector('#typing').textContent === ${JSON.stringify(text)}`, undefined, WAIT);
  const badge = (page: Page, room: string) => page.locator(`#rooms li[data-key="room:${room}"] .unread`);
  const conv = (page: Page, room: string) => page.locator(`ol.conv[data-key="room:${room}"]`);

  test('typing in one page shows under the conversation on another node, and goes on send, on clearing and after the ttl', async () => {
    alice = await open(await newContext(), 'alice', `${n1.url}/?user=alice&rooms=lobby`);
    bobContext = await newContext();
    bob = await open(bobContext, 'bob', `${n2.url}/?user=bob&rooms=lobby,news`);
    await alice.waitForSelector('#members li[data-user=bob]', WAIT);
    assert.equal(await typingLine(bob), '', 'nobody types yet');

    await alice.locator('#text').pressSequentially('hel');
    await waitTyping(bob, 'alice is typing…');
    assert.equal(await typingLine(alice), '', 'one does not see oneself typing');
    await alice.fill('#text', '');
    await waitTyping(bob, '');

    await alice.locator('#text').pressSequentially('hello bob');
    await waitTyping(bob, 'alice is typing…');
    await alice.press('#text', 'Enter');
    await bob.waitForSelector('li.msg[data-from=alice] >> text=hello bob', WAIT);
    await waitTyping(bob, '');

    carol = await sdk('carol', n3, 'lobby');
    const dave = await sdk('dave', n1, 'lobby');
    await alice.locator('#text').pressSequentially('and one more');
    assert.equal(carol.typing('lobby'), true);
    await waitTyping(bob, 'alice and carol are typing…');
    assert.equal(dave.typing('lobby'), true);
    await waitTyping(bob, 'several people are typing…');
    await screenshot(bob, 'web-r01-several-typing');
    await alice.locator('#text').blur(); // a stop goes with the focus
    await waitTyping(bob, 'carol and dave are typing…');
    // Neither carol nor dave sends a stop: their entries run out after the ttl, and the line follows.
    const since = Date.now();
    await waitTyping(bob, '');
    assert.ok(Date.now() - since <= TYPING_TTL_MS + 1000, `gone within the ttl (${Date.now() - since} ms)`);
    await alice.fill('#text', '');
  });

  test('a background room counts its unread messages in a badge, cleared when opened, in every tab of the user', async () => {
    const bob2 = await open(bobContext, 'bob tab 2', `${n3.url}/?user=bob&rooms=lobby,news`);
    assert.equal(await bob2.evaluate('document.visibilityState'), 'visible', 'both tabs count as seen');
    for (let i = 1; i <= 3; i += 1) await post('news', `news ${i}`);
    for (const page of [bob, bob2]) {
      await badge(page, 'news').filter({ hasText: /^3$/ }).waitFor(WAIT);
      assert.equal(await badge(page, 'lobby').count(), 0, 'the room shown has no badge');
    }
    await screenshot(bob2, 'web-r02-unread-badge');

    await bob.click('#rooms li[data-key="room:news"] button');
    await badge(bob, 'news').waitFor({ state: 'detached', ...WAIT });
    await badge(bob2, 'news').waitFor({ state: 'detached', ...WAIT }); // the other tab heard the read marker move
    // Opened from the list, the room shows where its unread messages start (never read: at its first).
    const opened = await conv(bob, 'news').locator('li.msg, li.divider').evaluateAll((items) => items.map((li) => li.textContent));
    assert.deepEqual(opened.map((t) => t?.replace(/^.*(news \d)$/, '$1')), ['3 new messages', 'news 1', 'news 2', 'news 3']);

    // The badge of a room not shown comes from the server's count when the page joins.
    await bob.click('#rooms li[data-key="room:lobby"] button');
    await post('news', 'news 4');
    await post('news', 'news 5');
    await badge(bob2, 'news').filter({ hasText: /^2$/ }).waitFor(WAIT); // counted live
    await bob2.reload();
    await bob2.waitForSelector('#status[data-state=connected]', WAIT);
    await conv(bob2, 'news').locator('li.msg >> text=news 5').waitFor({ state: 'attached', ...WAIT });
    assert.equal(await badge(bob2, 'news').textContent(), '2', 'joined.unread after the reload');
    await bob2.close();
  });

  test('a room that opens with unread messages shows one "new messages" line at the read marker', async () => {
    await bob.click('#rooms li[data-key="room:news"] button'); // bob reads news; lobby is in the background
    await badge(bob, 'news').waitFor({ state: 'detached', ...WAIT });
    await conv(bob, 'news').locator('li.msg >> text=news 5').waitFor(WAIT);
    const lastRead = await conv(bob, 'lobby').locator('li.msg').last().getAttribute('data-id');
    await post('lobby', 'unread 1');
    await post('lobby', 'unread 2');
    await badge(bob, 'lobby').filter({ hasText: /^2$/ }).waitFor(WAIT);

    await bob.reload(); // lobby, the first room, is shown: its line sits at the marker, not at the last id the page got
    await bob.waitForSelector('#status[data-state=connected]', WAIT);
    const lobby = conv(bob, 'lobby');
    await lobby.locator('li.divider >> text=2 new messages since your last visit').waitFor(WAIT);
    const order = await lobby.locator('li.msg, li.divider').evaluateAll((items) => items.map((li) => li.classList.contains('divider') ? '--' : li.getAttribute('data-id') ?? li.textContent));
    const at = order.indexOf('--');
    assert.equal(order[at - 1], lastRead, 'just after the last message read');
    assert.deepEqual(await lobby.locator('li.msg .text').allTextContents().then((t) => t.slice(-2)), ['unread 1', 'unread 2']);
    assert.equal(order.length - at - 1, 2, 'the two unread messages follow it');
    assert.equal(await lobby.locator('li.sys >> text=/since your last visit/').count(), 1, 'one line, not one from the marker and one from the saved session');
    assert.equal(await badge(bob, 'lobby').count(), 0);
    await screenshot(bob, 'web-r03-new-messages-line');
  });

  test('with READ_RECEIPTS on, the last message others read says who saw it', async () => {
    await alice.fill('#text', 'did you all see this?');
    await alice.press('#text', 'Enter');
    const mine = alice.locator('ol.conv[data-key="room:lobby"] li.msg[data-from=alice]').last();
    // bob's page shows lobby, visible: it marks the message read; carol marks it from the SDK.
    await mine.locator('.seen >> text=seen by bob').waitFor(WAIT);
    const id = await mine.getAttribute('data-id');
    await carol.markRead('lobby', id!);
    await mine.locator('.seen >> text=seen by bob, carol').waitFor(WAIT);
    assert.equal(await alice.locator('.seen').count(), 1, 'one compact line');
    await bob.locator('#text').pressSequentially('yes');
    await waitTyping(alice, 'bob is typing…');
    await screenshot(alice, 'web-r04-typing-and-seen-by');
    await bob.fill('#text', '');

    // Everything at once, on bob's page: the line, "seen by", a badge and someone typing.
    await bob.locator('li.msg[data-from=alice] .seen >> text=seen by carol').waitFor(WAIT);
    await post('news', 'news 6');
    await badge(bob, 'news').filter({ hasText: /^1$/ }).waitFor(WAIT);
    await alice.locator('#text').pressSequentially('one more thing');
    await waitTyping(bob, 'alice is typing…');
    await screenshot(bob, 'web-r05-reading-at-a-glance');
    await alice.fill('#text', '');
  });

  test('no page logged an error', () => {
    assert.deepEqual(pageErrors.flat(), []);
  });
});
