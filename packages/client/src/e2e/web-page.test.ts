/**
 * The gateway's web chat page in a real Chromium, against real gateways on a real Redis: two pages
 * on two different nodes talk, a node is SIGKILLed and its page moves to another node and shows
 * the messages sent meanwhile exactly once, presence updates in both pages, and the phone layout.
 * Every step leaves a screenshot web-*.png in the directory the run prints.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { GatewayService } from '@chat/testkit';
import { startCluster, type RealCluster } from '../testing/real-cluster.js';
import { launchChromium, requireChromium, screenshot, watchErrors } from './browser.js';

const WAIT = { timeout: 15_000 };

describe('web chat page', () => {
  let cluster: RealCluster;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[][] = [];

  before(async () => {
    requireChromium();
    cluster = await startCluster(['web1', 'web2', 'web3']);
    browser = await launchChromium();
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await cluster?.stop();
  });

  const node = (name: string) => {
    const found = cluster.gateways.find((g) => g.nodeId === name);
    assert.ok(found, name);
    return found;
  };

  /** A page for `user` served by node `via`, with `fallback` as the other node it may move to. */
  async function open(user: string, rooms: string, via: string, fallback: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    contexts.push(context);
    const page = await context.newPage();
    pageErrors.push(watchErrors(page, user));
    const query = new URLSearchParams({ user, rooms, nodes: node(fallback).wsUrl });
    await page.goto(`${node(via).url}/?${query}`);
    await page.waitForSelector(`#status[data-state=connected][data-node=${via}]`, WAIT);
    return page;
  }

  async function post(gateway: GatewayService, room: string, text: string): Promise<void> {
    const response = await fetch(`${gateway.url}/api/rooms/${room}/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text, from: 'ci-bot' }),
    });
    assert.equal(response.status, 202, await response.text());
  }

  const lobby = (page: Page, selector = 'li.msg') => page.locator(`ol.conv[data-key="room:lobby"] ${selector}`);

  async function say(page: Page, text: string): Promise<void> {
    await page.fill('#text', text);
    await page.press('#text', 'Enter');
  }

  async function lobbyTexts(page: Page): Promise<string[]> {
    return lobby(page, 'li.msg:not(.pending) .text').allTextContents();
  }

  let alice: Page;
  let bob: Page;

  test('two pages on two nodes join a room and see each other arrive', async () => {
    alice = await open('alice', 'lobby', 'web1', 'web2');
    await screenshot(alice, 'web-01-alice-connected-to-web1');
    bob = await open('bob', 'lobby', 'web2', 'web3');
    await alice.waitForSelector('#members li[data-user=bob]', WAIT);
    await alice.waitForSelector('ol.conv[data-key="room:lobby"] li.sys >> text=bob joined', WAIT);
    await bob.waitForSelector('#members li[data-user=alice]', WAIT);
    await screenshot(alice, 'web-02-alice-sees-bob-join');
    await screenshot(bob, 'web-03-bob-on-web2-with-alice');
  });

  test('messages typed in one page appear in the other, and API pushes are marked', async () => {
    await say(alice, 'hi bob, I am on web1');
    await bob.waitForSelector('li.msg[data-from=alice] >> text=hi bob, I am on web1', WAIT);
    await say(bob, 'hi alice, web2 here');
    await alice.waitForSelector('li.msg[data-from=bob] >> text=hi alice, web2 here', WAIT);
    await post(node('web3'), 'lobby', 'nightly build is green');
    for (const page of [alice, bob]) {
      await page.waitForSelector('li.msg[data-via=api][data-from=ci-bot] .badge.api', WAIT);
    }
    assert.deepEqual(await lobbyTexts(alice), await lobbyTexts(bob));
    await screenshot(alice, 'web-04-alice-conversation-with-api-push');
    await screenshot(bob, 'web-05-bob-conversation-with-api-push');
  });

  test('when its node is killed, a page moves to another node and shows what it missed exactly once', async () => {
    // A backend's scheduled notifier keeps posting through the HTTP API the whole time.
    const ticks: string[] = [];
    const scheduler = setInterval(() => {
      const text = `scheduled tick ${ticks.length + 1}`;
      ticks.push(text);
      void post(node('web3'), 'lobby', text);
    }, 100);
    await node('web1').kill();
    await alice.waitForSelector('#status[data-state=reconnecting]', WAIT);
    await screenshot(alice, 'web-06-alice-reconnecting-after-web1-killed');
    const missed = ['sent while alice was away 1', 'sent while alice was away 2', 'sent while alice was away 3'];
    for (const text of missed) {
      await say(bob, text);
      await bob.waitForSelector(`li.msg:not(.pending) >> text=${text}`, WAIT);
    }
    await alice.waitForSelector('#status[data-node=web2]', WAIT);
    await alice.waitForSelector(`li.msg >> text=${missed[2]}`, WAIT);
    await alice.waitForTimeout(500);
    clearInterval(scheduler);
    await say(bob, 'welcome back');
    await alice.waitForSelector('li.msg >> text=welcome back', WAIT);
    await alice.waitForSelector(`li.msg[data-via=api] >> text="${ticks.at(-1)}"`, WAIT);
    await screenshot(alice, 'web-07-alice-resumed-on-web2');

    const ids = await lobby(alice).evaluateAll((items) => items.map((li) => li.getAttribute('data-id') ?? ''));
    assert.equal(new Set(ids).size, ids.length, `no message shown twice: ${ids.join(' ')}`);
    const texts = await lobbyTexts(alice);
    for (const text of [...missed, ...ticks]) assert.equal(texts.filter((t) => t === text).length, 1, `"${text}" shown once`);
    assert.ok(ticks.length >= 5, 'the scheduler posted before, during and after the failover');
    assert.deepEqual(texts, await lobbyTexts(bob), 'both pages show the same messages in the same order');
    assert.match(await alice.textContent('#status') ?? '', /node web2/);
    await alice.waitForSelector('li.sys.ok >> text=/Reconnected to node web2: \\d+ missed messages below/', WAIT);
  });

  test('presence updates in both pages when a user comes and goes', async () => {
    const carolContext = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    contexts.push(carolContext);
    const carol = await carolContext.newPage();
    pageErrors.push(watchErrors(carol, 'carol'));
    await carol.goto(`${node('web3').url}/?user=carol&rooms=lobby`);
    await carol.waitForSelector('#status[data-state=connected][data-node=web3]', WAIT);
    for (const page of [alice, bob]) await page.waitForSelector('#members li[data-user=carol]', WAIT);
    await screenshot(carol, 'web-08-phone-carol-on-web3');
    await carol.click('#menu');
    await carol.waitForSelector('#sidebar.open #members li[data-user=alice]', WAIT);
    await carol.waitForTimeout(300); // the drawer slides in
    await screenshot(carol, 'web-09-phone-drawer-with-members');
    await screenshot(bob, 'web-10-bob-sees-carol-join');

    await carolContext.close();
    for (const page of [alice, bob]) {
      await page.waitForSelector('ol.conv[data-key="room:lobby"] li.sys >> text=carol left', WAIT);
      assert.equal(await page.locator('#members li[data-user=carol]').count(), 0);
    }
    await screenshot(alice, 'web-11-alice-sees-carol-leave');
  });

  test('direct messages and scroll-back through older history', async () => {
    await bob.fill('#dm-form input[name=to]', 'alice');
    await bob.press('#dm-form input[name=to]', 'Enter');
    await say(bob, 'psst, a direct message');
    await alice.waitForSelector('#dms li[data-key="dm:bob"] .unread', WAIT);
    await alice.click('#dms li[data-key="dm:bob"] button');
    await alice.waitForSelector('ol.conv[data-key="dm:bob"] li.msg >> text=psst, a direct message', WAIT);
    await screenshot(alice, 'web-12-alice-reads-direct-message');

    for (let i = 1; i <= 60; i += 1) await post(node('web2'), 'archive', `archived ${i}`);
    await alice.fill('#join-form input[name=room]', 'archive');
    await alice.press('#join-form input[name=room]', 'Enter');
    const archive = alice.locator('ol.conv[data-key="room:archive"] li.msg');
    await alice.waitForSelector('ol.conv[data-key="room:archive"] li.msg >> text=archived 60', WAIT);
    assert.equal(await archive.count(), 50, 'the last HISTORY_JOIN messages on join');
    await alice.click('ol.conv[data-key="room:archive"] li.more button');
    await alice.waitForSelector('ol.conv[data-key="room:archive"] li.msg >> text="archived 1"', WAIT);
    const texts = await archive.locator('.text').allTextContents();
    assert.deepEqual(texts, Array.from({ length: 60 }, (_, i) => `archived ${i + 1}`), 'all 60, in order, once');
    await screenshot(alice, 'web-13-alice-scrolled-back-in-archive');
  });

  test('a page that resumes after more was posted than the server keeps says it has a gap', async () => {
    const small = await startCluster(['gap1', 'gap2'], { HISTORY_LIMIT: '5' });
    try {
      const [gap1, gap2] = small.gateways as [GatewayService, GatewayService];
      const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
      contexts.push(context);
      const erin = await context.newPage();
      pageErrors.push(watchErrors(erin, 'erin'));
      await erin.goto(`${gap1.url}/?${new URLSearchParams({ user: 'erin', rooms: 'lobby', nodes: gap2.wsUrl })}`);
      await erin.waitForSelector('#status[data-state=connected][data-node=gap1]', WAIT);
      await post(gap2, 'lobby', 'before the failure');
      await erin.waitForSelector('li.msg >> text=before the failure', WAIT);
      await gap1.kill();
      for (let i = 1; i <= 12; i += 1) await post(gap2, 'lobby', `while away ${i}`);
      await erin.waitForSelector('#status[data-state=gap][data-node=gap2]', WAIT);
      await erin.waitForSelector('li.msg >> text=while away 12', WAIT);
      assert.match(await erin.textContent('#status') ?? '', /gap/);
      await screenshot(erin, 'web-14-resumed-with-gap');
    } finally {
      await small.stop();
    }
  });

  test('no page logged an error', () => {
    assert.deepEqual(pageErrors.flat(), []);
  });
});
