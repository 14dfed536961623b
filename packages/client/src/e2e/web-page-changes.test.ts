/**
 * The web page's edits, deletes, reactions, moderation and large rooms in a real Chromium, against
 * three gateways on a real Redis: pages on different nodes see each other's changes live and after
 * a reload; a moderator granted through the admin API sets slow mode, mutes and kicks users on
 * other nodes from the page; a room above LARGE_ROOM shows its count and pages its members; with
 * sign-in on, a token's `mod` claim makes a moderator's page from the start, whose ban ends a
 * member's room on another node.
 * Every step leaves a screenshot changes-*.png in the directory the run prints.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createNodeClient } from '../node.js';
import type { ChatClient } from '../client.js';
import { signToken, startCluster, type RealCluster } from '../testing/real-cluster.js';
import { launchChromium, requireChromium, screenshot, watchErrors } from './browser.js';

const WAIT = { timeout: 15_000 };
const API_KEY = 'ui-test-key';

describe('web chat page: edits, deletes, reactions, moderation, large rooms', () => {
  let cluster: RealCluster;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const clients: ChatClient[] = [];
  const pageErrors: string[][] = [];

  before(async () => {
    requireChromium();
    cluster = await startCluster(['ch1', 'ch2', 'ch3'], { API_KEY, LARGE_ROOM: '3', PRESENCE_COUNT_INTERVAL_MS: '300' });
    browser = await launchChromium();
  });
  after(async () => {
    for (const client of clients) client.close();
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await cluster?.stop();
  });

  const node = (name: string) => {
    const found = cluster.gateways.find((g) => g.nodeId === name);
    assert.ok(found, name);
    return found;
  };

  async function open(user: string, rooms: string, via: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    contexts.push(context);
    const page = await context.newPage();
    pageErrors.push(watchErrors(page, user));
    page.on('dialog', (dialog) => void dialog.accept()); // the confirms of delete, kick, mute, ban
    await page.goto(`${node(via).url}/?${new URLSearchParams({ user, rooms })}`);
    await page.waitForSelector(`#status[data-state=connected][data-node=${via}]`, WAIT);
    return page;
  }

  const item = (page: Page, text: string) => page.locator('ol.conv[data-key="room:lobby"] li.msg', { hasText: text });

  async function say(page: Page, text: string): Promise<void> {
    await page.fill('#text', text);
    await page.press('#text', 'Enter');
  }

  let alice: Page;
  let bob: Page;

  test('an edit and a delete of my own message show on a page connected to another node', async () => {
    alice = await open('alice', 'lobby', 'ch1');
    bob = await open('bob', 'lobby', 'ch2');
    for (const text of ['first words', 'helo wrold', 'a regrettable line', 'last words']) {
      await say(alice, text);
      await bob.waitForSelector(`li.msg[data-from=alice] >> text="${text}"`, WAIT);
    }
    // Only my own messages offer Edit and Delete (alice is not known to moderate the room).
    await bob.locator('li.msg[data-from=alice]').first().hover();
    assert.equal(await bob.locator('li.msg[data-from=alice] [data-action=edit]').count(), 0);

    await item(alice, 'helo wrold').hover();
    await item(alice, 'helo wrold').locator('[data-action=edit]').click();
    await alice.fill('li.msg input.edit-text', 'hello world');
    await alice.press('li.msg input.edit-text', 'Enter');
    await bob.waitForSelector('li.msg[data-from=alice] >> text="hello world"', WAIT);
    assert.equal(await item(bob, 'hello world').locator('.edited').textContent(), '(edited)');
    assert.match(await item(bob, 'hello world').locator('.edited').getAttribute('title') ?? '', /^edited /);

    // Escape cancels an edit: nothing is sent.
    await item(alice, 'last words').hover();
    await item(alice, 'last words').locator('[data-action=edit]').click();
    await alice.fill('li.msg input.edit-text', 'never sent');
    await alice.press('li.msg input.edit-text', 'Escape');
    assert.equal(await alice.locator('li.msg input.edit-text').count(), 0);

    await item(alice, 'a regrettable line').hover();
    await item(alice, 'a regrettable line').locator('[data-action=delete]').click();
    await bob.waitForSelector('li.msg.deleted >> text="message deleted"', WAIT);
    const texts = await bob.locator('ol.conv[data-key="room:lobby"] li.msg .text').allTextContents();
    assert.deepEqual(texts, ['first words', 'hello world', 'message deleted', 'last words'], 'the tombstone keeps its place');
    await screenshot(bob, 'changes-01-bob-sees-edit-and-tombstone');
  });

  test('a reaction toggled on one page shows its count on another, and survives a reload', async () => {
    await item(bob, 'hello world').hover();
    await item(bob, 'hello world').locator('[data-action=react]').click();
    await item(bob, 'hello world').locator('.picker [data-emoji="👍"]').click();
    await alice.waitForSelector('li.msg >> .chip[data-emoji="👍"] >> text="👍 1"', WAIT);
    assert.equal(await item(bob, 'hello world').locator('.chip.me[data-emoji="👍"]').count(), 1, 'highlighted for the one who reacted');
    assert.equal(await item(alice, 'hello world').locator('.chip.me').count(), 0);
    await item(alice, 'hello world').locator('.chip[data-emoji="👍"]').click();
    await bob.waitForSelector('li.msg >> .chip[data-emoji="👍"] >> text="👍 2"', WAIT);
    await item(alice, 'first words').hover();
    await item(alice, 'first words').locator('[data-action=react]').click();
    await item(alice, 'first words').locator('.picker [data-emoji="🎉"]').click();
    await bob.waitForSelector('li.msg >> .chip[data-emoji="🎉"] >> text="🎉 1"', WAIT);

    await bob.reload();
    await bob.waitForSelector('#status[data-state=connected]', WAIT);
    await bob.waitForSelector('li.msg >> .chip.me[data-emoji="👍"] >> text="👍 2"', WAIT);
    await bob.waitForSelector('li.msg >> .chip[data-emoji="🎉"] >> text="🎉 1"', WAIT);
    assert.equal(await item(bob, 'hello world').locator('.edited').count(), 1, 'the edit mark after a reload');
    await bob.waitForSelector('li.msg.deleted >> text="message deleted"', WAIT);
    // Toggling off from the page that reloaded: alice sees the count fall.
    await item(bob, 'hello world').locator('.chip[data-emoji="👍"]').click();
    await alice.waitForSelector('li.msg >> .chip[data-emoji="👍"] >> text="👍 1"', WAIT);
    await screenshot(alice, 'changes-02-reactions');
  });

  test('on a touch screen the ⋯ button opens a message\'s menu', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    contexts.push(context);
    const phone = await context.newPage();
    pageErrors.push(watchErrors(phone, 'alice on a phone'));
    await phone.goto(`${node('ch3').url}/?user=alice&rooms=lobby`);
    await phone.waitForSelector('#status[data-state=connected]', WAIT);
    const last = item(phone, 'last words');
    await last.waitFor(WAIT);
    assert.equal(await last.locator('[data-action=edit]').isVisible(), false, 'hidden until asked for');
    await last.locator('.more-tools').tap();
    assert.equal(await last.locator('[data-action=edit]').isVisible(), true);
    await last.locator('[data-action=react]').tap();
    await last.locator('.picker [data-emoji="😮"]').tap();
    await alice.waitForSelector('li.msg >> .chip.me[data-emoji="😮"] >> text="😮 1"', WAIT);
    await screenshot(phone, 'changes-02b-phone-menu');
    await context.close();
  });

  let dave: Page;

  test('a moderator granted through the admin API sets slow mode, mutes and kicks users on other nodes', async () => {
    dave = await open('dave', 'lobby', 'ch3');
    await alice.waitForSelector('#members li[data-user=dave]', WAIT);
    // Before the grant the page does not moderate: the server's answer says so.
    await alice.fill('#slow-form input[name=seconds]', '5');
    await alice.press('#slow-form input[name=seconds]', 'Enter');
    await alice.waitForSelector('li.sys >> text="Not done: you do not moderate this room"', WAIT);
    assert.equal(await alice.locator('#members .mod-actions').count(), 0);

    const grant = await fetch(`${node('ch2').url}/api/rooms/lobby/moderators/alice`, { method: 'PUT', headers: { authorization: `Bearer ${API_KEY}` } });
    assert.equal(grant.status, 200, await grant.text());
    await alice.press('#slow-form input[name=seconds]', 'Enter');
    await bob.waitForSelector('li.sys >> text="alice set slow mode: one message per 5 s"', WAIT);
    // The accepted action taught the page: member actions, and Edit/Delete on others' messages.
    await alice.waitForSelector('#members li[data-user=bob] .mod-actions [data-action=mute]', WAIT);
    assert.equal(await alice.locator('#members li.me .mod-actions').count(), 0);

    await say(bob, 'slow one');
    await alice.waitForSelector('li.msg >> text="slow one"', WAIT);
    await say(bob, 'slow two');
    await bob.waitForSelector('#composer-note[data-kind=slow] >> text=/Slow mode in #lobby: your message goes in \\d s/', WAIT);
    await screenshot(bob, 'changes-03-bob-slow-mode-countdown');
    await alice.waitForSelector('li.msg >> text="slow two"', WAIT); // held, then sent by itself
    await bob.waitForSelector('#composer-note', { state: 'hidden', ...WAIT });
    await alice.fill('#slow-form input[name=seconds]', '0');
    await alice.press('#slow-form input[name=seconds]', 'Enter');
    await bob.waitForSelector('li.sys >> text="alice turned slow mode off"', WAIT);

    await alice.click('#members li[data-user=bob] [data-action=mute]');
    await bob.waitForSelector('li.sys >> text="bob was muted by alice for 10 min"', WAIT);
    await dave.waitForSelector('li.sys >> text="bob was muted by alice for 10 min"', WAIT);
    await say(bob, 'can anyone hear me');
    await bob.waitForSelector('#composer-note >> text="You are muted in #lobby: your messages are not posted."', WAIT);
    await bob.waitForSelector('li.msg.failed >> text="can anyone hear me"', WAIT);
    await screenshot(bob, 'changes-04-bob-muted');

    await alice.click('#members li[data-user=dave] [data-action=kick]');
    await dave.waitForSelector('li.sys >> text=/You were removed from #lobby by a moderator \\(kicked\\)/', WAIT);
    await bob.waitForSelector('li.sys >> text="dave was kicked by alice"', WAIT);
    await alice.waitForSelector('#members li[data-user=dave]', { state: 'detached', ...WAIT });
    await screenshot(dave, 'changes-05-dave-kicked');
  });

  test('a moderator deletes another user\'s message from the page', async () => {
    await item(alice, 'slow one').hover();
    await item(alice, 'slow one').locator('[data-action=delete]').click();
    await bob.waitForSelector('li.msg.deleted[data-from=bob] >> text="message deleted"', WAIT);
    await item(alice, 'hello world').hover();
    await item(alice, 'hello world').locator('[data-action=react]').click();
    await screenshot(alice, 'changes-06-moderator-view-with-menu-and-picker');
  });

  test('a room above LARGE_ROOM shows how many members it has, and lists them on demand', async () => {
    for (const [user, via] of [['hall-1', 'ch1'], ['hall-2', 'ch2'], ['hall-3', 'ch3']] as const) {
      const client = createNodeClient({ url: node(via).wsUrl, user });
      clients.push(client);
      await client.connect();
      await client.join('hall');
    }
    const erin = await open('erin', 'hall', 'ch2');
    await erin.waitForSelector('#members .count-line >> text="4 members"', WAIT);
    assert.equal(await erin.textContent('#member-count'), '4');
    const more = createNodeClient({ url: node('ch3').wsUrl, user: 'hall-4' });
    clients.push(more);
    await more.connect();
    await more.join('hall');
    await erin.waitForSelector('#members .count-line >> text="5 members"', WAIT);
    await erin.click('#members [data-action=show-members]');
    await erin.waitForSelector('#members li[data-user=hall-4]', WAIT);
    const listed = await erin.locator('#members li[data-user]').evaluateAll((items) => items.map((li) => li.getAttribute('data-user')));
    assert.deepEqual(listed, ['erin', 'hall-1', 'hall-2', 'hall-3', 'hall-4']);
    await screenshot(erin, 'changes-07-large-room');

    // A direct message takes no changes and has no room to moderate.
    await erin.fill('#dm-form input[name=to]', 'hall-1');
    await erin.press('#dm-form input[name=to]', 'Enter');
    await say(erin, 'a direct word');
    await erin.waitForSelector('ol.conv[data-key="dm:hall-1"] li.msg:not(.pending) >> text="a direct word"', WAIT);
    assert.equal(await erin.locator('ol.conv[data-key="dm:hall-1"] li.msg .tools').count(), 0);
    assert.equal(await erin.isVisible('#slow-form'), false);
  });

  test('with sign-in on, a token\'s mod claim gives the page moderation at once; a ban on another node ends the member\'s room', async () => {
    const secret = 'a-test-secret-of-at-least-32-bytes-long';
    const signed = await startCluster(['sa1', 'sa2'], { AUTH_JWT_SECRET: secret });
    try {
      const [sa1, sa2] = signed.gateways;
      assert.ok(sa1 !== undefined && sa2 !== undefined);
      const enter = async (user: string, url: string, claims: Record<string, unknown> = {}): Promise<Page> => {
        const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
        contexts.push(context);
        const page = await context.newPage();
        pageErrors.push(watchErrors(page, user));
        page.on('dialog', (dialog) => void dialog.accept());
        await page.goto(`${url}/?${new URLSearchParams({ user, rooms: 'lobby', token: signToken(user, 600, secret, claims) })}`);
        await page.waitForSelector('#status[data-state=connected]', WAIT);
        return page;
      };
      const mia = await enter('mia', sa1.url, { mod: ['lob*'] });
      const zed = await enter('zed', sa2.url);
      await say(zed, 'spam spam spam');
      await mia.waitForSelector('li.msg[data-from=zed] >> text="spam spam spam"', WAIT);
      // Known from the token: Edit and Delete on others' messages, actions beside others (not beside mia).
      await item(mia, 'spam spam spam').hover();
      assert.equal(await item(mia, 'spam spam spam').locator('[data-action=delete]').count(), 1);
      await mia.waitForSelector('#members li[data-user=zed] [data-action=ban]', WAIT);
      assert.equal(await mia.locator('#members li.me .mod-actions').count(), 0);
      await item(mia, 'spam spam spam').locator('[data-action=delete]').click();
      await zed.waitForSelector('li.msg.deleted[data-from=zed] >> text="message deleted"', WAIT);

      await mia.click('#members li[data-user=zed] [data-action=ban]');
      await zed.waitForSelector('li.sys >> text=/You were banned from #lobby by a moderator \\(banned\\)/', WAIT);
      await say(zed, 'let me back in');
      await zed.waitForSelector('#composer-note >> text="You are banned from #lobby."', WAIT);
      await mia.waitForSelector('li.sys >> text="zed was banned by mia"', WAIT);
      await zed.fill('#join-form input[name=room]', 'lobby');
      await zed.press('#join-form input[name=room]', 'Enter');
      await zed.waitForSelector('li.sys >> text=/Could not join lobby: .*ban/i', WAIT);
      await screenshot(zed, 'changes-08-zed-banned');
    } finally {
      await signed.stop();
    }
  });

  test('no page logged an error', () => {
    assert.deepEqual(pageErrors.flat(), []);
  });
});
