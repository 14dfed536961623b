/**
 * The `chat` terminal client's edits, deletes, reactions, moderation and large rooms, in tmux,
 * against three gateways on a real Redis: what the terminal does reaches SDK clients on the other
 * nodes, and what they do prints in the terminal, each message named by its #number.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '@chat/testkit';
import type { DeleteEvent, EditEvent, ModerationEvent, ReactionEvent } from '@chat/protocol';
import type { ChatClient } from '../client.js';
import { ServerError } from '../errors.js';
import { createNodeClient } from '../node.js';
import { startCluster, type RealCluster } from '../testing/real-cluster.js';
import { waitFor } from '../testing/wait.js';
import { requireTmux, TmuxSession } from './tmux.js';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));
const API_KEY = 'terminal-test-key';

let cluster: RealCluster;
let term: TmuxSession | undefined;
const clients: ChatClient[] = [];
before(async () => {
  requireTmux();
  cluster = await startCluster(['tc1', 'tc2', 'tc3'], { API_KEY, LARGE_ROOM: '3', PRESENCE_COUNT_INTERVAL_MS: '300' });
});
after(async () => {
  term?.kill();
  for (const client of clients) client.close();
  await cluster?.stop();
});

const url = (name: string): string => {
  const found = cluster.gateways.find((g) => g.nodeId === name);
  assert.ok(found, name);
  return found.wsUrl;
};

async function joined(user: string, node: string, room: string): Promise<ChatClient> {
  const client = createNodeClient({ url: url(node), user });
  clients.push(client);
  await client.connect();
  await client.join(room);
  return client;
}

test('the terminal edits, reacts, deletes and moderates across nodes, and prints what others do', async () => {
  const bob = await joined('bob', 'tc2', 'lobby');
  const carol = await joined('carol', 'tc3', 'lobby');
  const edits: EditEvent[] = [];
  const deletes: DeleteEvent[] = [];
  const reactions: ReactionEvent[] = [];
  const moderation: ModerationEvent[] = [];
  bob.on('edit', (e) => edits.push(e));
  bob.on('delete', (d) => deletes.push(d));
  bob.on('reaction', (r) => reactions.push(r));
  bob.on('moderation', (m) => moderation.push(m));

  term = new TmuxSession([process.execPath, CLI, url('tc1'), '--user', 'alice', '--room', 'lobby'], repoRoot);
  await term.waitFor(/\* lobby: 3 here: alice, bob, carol/);
  const first = await bob.send('lobby', 'first from bob');
  await term.waitFor(/#1 \S+ \[lobby\] bob: first from bob/);
  term.type('typo heer');
  await term.waitFor(/#2 \S+ \[lobby\] alice: typo heer/);

  term.type('/edit 2 typo  here');
  await waitFor('bob to get the edit', () => edits.some((e) => e.text === 'typo  here' && e.from === 'alice'));
  await term.waitFor(/\* alice edited #2 \[lobby\]: typo {2}here/);

  // By the end of its id, the way a message printed elsewhere can be named.
  term.type(`/react ${first.id.slice(-6)} 👍`);
  await waitFor('bob to get the reaction', () => reactions.some((r) => r.target === first.id && r.user === 'alice' && r.on));
  await term.waitFor(/\* #1 \[lobby\] reactions: \[👍 1\*\]/);
  await carol.react('lobby', first.id, '👍');
  await term.waitFor(/\* #1 \[lobby\] reactions: \[👍 2\*\]/);
  term.type('/unreact #1 👍');
  await term.waitFor(/\* #1 \[lobby\] reactions: \[👍 1\]/);
  await waitFor('bob to see the reaction go', () => reactions.some((r) => r.user === 'alice' && !r.on));

  term.type('/delete 2');
  await waitFor('bob to get the delete', () => deletes.some((d) => d.from === 'alice'));
  await term.waitFor(/\* alice deleted #2 \[lobby\]/);
  term.type('/delete 1');
  await term.waitFor(/! .*(forbidden|author|moderat)/i);
  term.type('/edit 99 nothing');
  await term.waitFor(/! no message 99 in lobby/);

  // Moderation: refused before the grant, then done across nodes.
  term.type('/mute 60 bob');
  await term.waitFor(/! .*moderat/i);
  const grant = await fetch(`${cluster.gateways[1]?.url}/api/rooms/lobby/moderators/alice`, { method: 'PUT', headers: { authorization: `Bearer ${API_KEY}` } });
  assert.equal(grant.status, 200);
  term.type('/mute 60 bob');
  await waitFor('bob to hear of the mute', () => moderation.some((m) => m.action === 'mute' && m.user === 'bob' && m.by === 'alice' && m.seconds === 60));
  await term.waitFor(/\* lobby: bob was muted by alice for 1 min/);
  await assert.rejects(bob.send('lobby', 'can I speak'), (error: unknown) => error instanceof ServerError && error.code === 'muted');
  term.type('/unmute bob');
  await term.waitFor(/\* lobby: bob was unmuted by alice/);
  await bob.send('lobby', 'I can speak again');
  await term.waitFor(/\[lobby\] bob: I can speak again/);

  const kicked = new Promise<string | undefined>((resolve) => carol.on('left', (l) => resolve(l.reason)));
  term.type('/kick carol');
  assert.equal(await kicked, 'kicked');
  await term.waitFor(/\* lobby: carol was kicked by alice/);
  term.type('/slowmode 30');
  await term.waitFor(/\* lobby: alice set slow mode: one message per 30 s/);

  // Moderated in turn: bob, granted too, bans the terminal's user.
  assert.equal((await fetch(`${cluster.gateways[2]?.url}/api/rooms/lobby/moderators/bob`, { method: 'PUT', headers: { authorization: `Bearer ${API_KEY}` } })).status, 200);
  await bob.ban('lobby', 'alice', { seconds: 120, reason: 'testing' });
  await term.waitFor(/\* you were banned from lobby by a moderator; not in it any more/);
});

test('in a room above LARGE_ROOM the terminal prints the count and pages the members', async () => {
  for (const [user, node] of [['h1', 'tc2'], ['h2', 'tc3'], ['h3', 'tc2']] as const) await joined(user, node, 'hall');
  assert.ok(term !== undefined);
  term.type('/join hall');
  await term.waitFor(/\* hall: 4 members \(a large room: \/members lists them\)/);
  await joined('h4', 'tc3', 'hall');
  await term.waitFor(/\* hall: 5 members/);
  term.type('/members');
  await term.waitFor(/\* hall \(5 members\): alice, h1, h2, h3, h4/);
  term.type('/quit');
  assert.equal(await term.exited(), 0);
});
