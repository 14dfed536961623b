/**
 * The `chat` terminal client against real gateways on a real Redis: the interactive mode in a
 * pseudo-terminal (tmux), and the pipe mode. The final screen is saved as
 * .artifacts/screenshots/terminal-session.txt.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '@chat/testkit';
import type { TypingEvent } from '@chat/protocol';
import type { ChatClient } from '../client.js';
import type { ReadState } from '../events.js';
import { createNodeClient } from '../node.js';
import { record } from '../testing/recorder.js';
import { startCluster, type RealCluster } from '../testing/real-cluster.js';
import { sleep, waitFor } from '../testing/wait.js';
import { requireTmux, TmuxSession } from './tmux.js';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

let cluster: RealCluster;
const clients: ChatClient[] = [];
before(async () => {
  cluster = await startCluster(['term1', 'term2']);
});
after(async () => {
  for (const client of clients) client.close();
  await cluster?.stop();
});

const node = (name: string) => {
  const found = cluster.gateways.find((g) => g.nodeId === name);
  assert.ok(found, name);
  return found;
};

function sdkClient(user: string, url: string): ChatClient {
  const client = createNodeClient({ url, user });
  clients.push(client);
  return client;
}

function runCli(args: string[], stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(stdin);
  const watchdog = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) => child.once('exit', (code) => {
    clearTimeout(watchdog);
    resolve({ code, stdout, stderr });
  }));
}

const count = (screen: string, line: RegExp): number => screen.split('\n').filter((l) => line.test(l)).length;

async function postTo(gateway: { url: string }, room: string, text: string): Promise<string> {
  const response = await fetch(`${gateway.url}/api/rooms/${room}/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text, from: 'poster' }),
  });
  assert.equal(response.status, 202);
  return ((await response.json()) as { id: string }).id;
}

test('pipe mode posts each stdin line in order, prints the ids and exits 0 after the acks', async () => {
  const watcher = sdkClient('watcher', node('term2').wsUrl);
  const seen = record(watcher);
  await watcher.connect();
  await watcher.join('pipe');
  const result = await runCli([node('term1').wsUrl, '--user', 'piper', '--room', 'pipe', '--send'], 'first line\n\nsecond line\nthird line\n');
  assert.equal(result.code, 0, result.stderr);
  const ids = result.stdout.trim().split('\n');
  assert.equal(ids.length, 3);
  await waitFor('the watcher to see three lines', () => seen.texts('pipe').length >= 3);
  assert.deepEqual(seen.texts('pipe'), ['first line', 'second line', 'third line']);
  assert.deepEqual(seen.ids('pipe'), ids);
});

test('pipe mode gives up with exit code 2 when no node answers', async () => {
  const result = await runCli(['ws://127.0.0.1:9/ws', '--user', 'piper', '--send', '--timeout', '1500'], 'lost\n');
  assert.equal(result.code, 2);
  assert.match(result.stderr, /gave up after 1500 ms/);
});

test('bad arguments are refused with the usage text', async () => {
  const result = await runCli(['http://not-a-websocket', '--send'], '');
  assert.equal(result.code, 64);
  assert.match(result.stderr, /not a WebSocket URL.*\n.*usage: chat/s);
});

describe('interactive terminal client in a pseudo-terminal', () => {
  let term: TmuxSession | undefined;
  before(requireTmux);
  after(() => {
    if (term !== undefined) {
      mkdirSync(join(repoRoot, '.artifacts', 'screenshots'), { recursive: true });
      writeFileSync(join(repoRoot, '.artifacts', 'screenshots', 'terminal-session.txt'), term.screen());
      term.kill();
    }
    reading?.kill();
  });
  let reading: TmuxSession | undefined;

  test('shows who starts typing, tells the room while the user types, counts unread messages per room and marks read', async () => {
    const [term1, term2] = [node('term1'), node('term2')];
    const dan = sdkClient('dan', term2.wsUrl);
    const danTyping: TypingEvent[] = [];
    dan.on('typing', (t) => danTyping.push(t));
    const danSeen = record(dan);
    await dan.connect();
    await dan.join('den');
    // fay, on the terminal's node, sees what it sees: that dan's repeat did go out.
    const fay = sdkClient('fay', term1.wsUrl);
    const fayTyping: TypingEvent[] = [];
    fay.on('typing', (t) => fayTyping.push(t));
    await fay.connect();
    await fay.join('den');
    // erin's other connection, as a second device: it hears where erin's read markers move.
    const erinElsewhere = sdkClient('erin', term2.wsUrl);
    const erinReads: ReadState[] = [];
    erinElsewhere.on('read', (r) => erinReads.push(r));
    await erinElsewhere.connect();
    await erinElsewhere.join('wire');

    const start = () => new TmuxSession([process.execPath, CLI, term1.wsUrl, '--user', 'erin', '--room', 'den', '--room', 'wire'], repoRoot);
    reading = start();
    await reading.waitFor(/\* den: 3 here/);
    await reading.waitFor(/\* joined wire/);

    assert.equal(dan.typing('den'), true);
    await reading.waitFor(/\* dan is typing in den…/);
    await sleep(2100); // past the SDK's and the server's interval: dan's repeat goes out
    assert.equal(dan.typing('den'), true);
    await waitFor('the repeat to be relayed', () => fayTyping.filter((t) => t.user === 'dan' && t.ttl > 0).length === 2);
    await sleep(300);
    assert.equal(count(reading.screen(), /dan is typing in den/), 1, 'a repeat prints nothing');
    dan.stopTyping('den');
    dan.typing('den');
    await waitFor('a start after a stop to print again', () => count(reading!.screen(), /dan is typing in den/) === 2);

    reading.keys('hello th');
    await waitFor('dan to see erin typing', () => danTyping.some((t) => t.user === 'erin' && t.ttl > 0));
    assert.deepEqual(dan.typers('den'), ['erin']);
    reading.press('C-u'); // readline: clear the line
    await waitFor('dan to see erin stop', () => danTyping.at(-1)?.ttl === 0);
    reading.type('hello there');
    await waitFor('dan to get the message', () => danSeen.texts('den').includes('hello there'));

    const posted: string[] = [];
    for (let i = 1; i <= 3; i += 1) posted.push(await postTo(term2, 'wire', `wire ${i}`));
    await reading.waitFor(/\[wire\] poster \(api\): wire 3/);
    reading.type('/rooms');
    await reading.waitFor(/\* rooms: den \(current\), wire \(3 unread\)/);
    await erinElsewhere.markRead('wire', posted[1]!); // read on the other device, up to wire 2
    reading.type('/rooms');
    await reading.waitFor(/\* rooms: den \(current\), wire \(1 unread\)/);

    reading.type('/room wire'); // shown: marked read, and the other device hears it
    await waitFor('the terminal to mark wire read', () => erinReads.some((r) => r.room === 'wire' && r.id === posted[2] && r.unread === 0));
    await dan.send('den', 'in the background');
    await reading.waitFor(/\[den\] dan: in the background/);
    reading.type('/rooms');
    await reading.waitFor(/\* rooms: den \(1 unread\), wire \(current\)/);
    await postTo(term2, 'wire', 'wire 4');
    await reading.waitFor(/\[wire\] poster \(api\): wire 4/);
    reading.type('/read');
    await reading.waitFor(/\* wire marked read/);
    await waitFor('wire 4 to be marked as it printed', () => erinReads.some((r) => r.room === 'wire' && r.unread === 0 && r.id !== posted[2]));
    reading.type('/quit');
    assert.equal(await reading.exited(), 0);

    // The next start takes its counts from the server: wire 5 came while it was away.
    await postTo(term2, 'wire', 'wire 5');
    reading.kill();
    reading = start();
    await reading.waitFor(/\* joined wire/);
    reading.type('/rooms');
    await reading.waitFor(/\* rooms: den \(current\), wire \(1 unread\)/);
    reading.type('/quit');
    assert.equal(await reading.exited(), 0);
    for (const client of [dan, fay, erinElsewhere]) client.close();
  });

  test('chats, shows presence, follows commands, survives its node being killed, and quits', async () => {
    const [term1, term2] = [node('term1'), node('term2')];
    for (let i = 1; i <= 55; i += 1) {
      const response = await fetch(`${term2.url}/api/rooms/archive/messages`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `old ${i}`, from: 'ci-bot' }),
      });
      assert.equal(response.status, 202);
    }
    const bob = sdkClient('bob', term2.wsUrl);
    const bobSeen = record(bob);
    await bob.connect();
    await bob.join('lobby');

    term = new TmuxSession([process.execPath, CLI, `${term1.wsUrl},${term2.wsUrl}`, '--user', 'alice', '--room', 'lobby', '--room', 'archive'], repoRoot);
    await term.waitFor(/\* connected to node term1/);
    await term.waitFor(/\* lobby: 2 here: alice, bob/);
    await term.waitFor(/\[archive\] ci-bot \(api\): old 55/);

    await bob.send('lobby', 'hello alice');
    await term.waitFor(/\[lobby\] bob: hello alice/);
    term.type('hi bob, from the terminal');
    await waitFor('bob to get the terminal message', () => bobSeen.texts('lobby').includes('hi bob, from the terminal'));

    await bob.leave('lobby');
    await term.waitFor(/\* bob left lobby/);
    await bob.join('lobby');
    await term.waitFor(/\* bob joined lobby/);
    term.type('/who');
    await term.waitFor(/lobby> \/who\n\* lobby: 2 here: alice, bob/);

    term.type('/dm bob psst');
    await waitFor('bob to get the direct message', () => bobSeen.directs.some((d) => d.text === 'psst' && d.from === 'alice'));
    await term.waitFor(/\* dm to bob delivered/);
    await bob.direct('alice', 'psst back');
    await term.waitFor(/\[dm from bob\]: psst back/);

    term.type('/room archive');
    term.type('/history 5');
    await term.waitFor(/\* archive: 5 older message\(s\)\n(.*old [1-5]\n){5}/);

    await term1.kill();
    await term.waitFor(/\* disconnected \(connection lost\); retrying/);
    const missed = ['missed one', 'missed two', 'missed three'];
    for (const text of missed) await bob.send('lobby', text);
    const screen = await term.waitFor(/\* resumed lobby: 3 missed message\(s\):\n(.*\n){2}.*bob: missed three/);
    assert.match(screen, /\* connected to node term2/);
    for (const text of missed) assert.equal(count(screen, new RegExp(`\\[lobby\\] bob: ${text}$`)), 1, `"${text}" shown once`);

    term.type('/room lobby');
    term.type('back on term2');
    await waitFor('bob to get the message sent after the failover', () => bobSeen.texts('lobby').includes('back on term2'));
    await term.waitFor(/\[lobby\] alice: back on term2/);
    term.type('/quit');
    assert.equal(await term.exited(), 0);
  });
});
