/**
 * What the `chat` terminal client says when it cannot connect or is sent away, in plain words
 * (never a bare "closed 1006"), and that it keeps retrying wherever the SDK retries. Real gateways
 * (one with auth on), real DNS and TLS failures; the interactive mode in tmux.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, repoRoot, startGateway, type GatewayService } from '@chat/testkit';
import { signToken } from '../testing/real-cluster.js';
import { requireTmux, TmuxSession } from './tmux.js';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));
const SECRET = 'terminal-failures-secret-of-32-bytes-at-least';

let open: GatewayService;
let authed: GatewayService;
before(async () => {
  [open, authed] = await Promise.all([startGateway(), startGateway({ env: { AUTH_JWT_SECRET: SECRET } })]);
});
after(async () => {
  await Promise.all([open?.stop(), authed?.stop()]);
});

function pipe(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args, '--send', '--timeout', '4000'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end('hello\n');
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

/** At least two attempts, each explained by `cause`, none as a bare close code. */
function assertRetriedWith(stderr: string, cause: RegExp): void {
  const attempts = stderr.split('\n').filter((line) => line.startsWith('* cannot connect ('));
  assert.ok(attempts.length >= 2, `retried:\n${stderr}`);
  for (const line of attempts) assert.match(line, cause);
  assert.doesNotMatch(stderr, /1006/);
}

test('pipe mode names a refused connection with its address, and keeps retrying', async () => {
  const port = await freePort();
  const result = await pipe([`ws://127.0.0.1:${port}/ws`, '--user', 'piper']);
  assert.equal(result.code, 2);
  assertRetriedWith(result.stderr, new RegExp(`^\\* cannot connect \\(connection refused \\(127\\.0\\.0\\.1:${port}\\)\\); retrying in \\d+ ms$`));
});

test('pipe mode names a DNS failure', async () => {
  const result = await pipe(['ws://no-such-host.invalid:8080/ws', '--user', 'piper']);
  assertRetriedWith(result.stderr, /DNS lookup failed for no-such-host\.invalid/);
});

test('pipe mode names a refused token (401) and a TLS failure', async () => {
  const refused = await pipe([authed.wsUrl, '--token', signToken('piper', 60, 'not-the-secret')]);
  assertRetriedWith(refused.stderr, /unauthorized \(401\)/);
  // A plain HTTP server answers a TLS handshake with HTTP: what wss:// to a ws:// port meets.
  const plain = createServer((_req, res) => res.end()).listen(0, '127.0.0.1');
  await once(plain, 'listening');
  try {
    const tls = await pipe([`wss://127.0.0.1:${(plain.address() as { port: number }).port}/ws`, '--user', 'piper']);
    assertRetriedWith(tls.stderr, /\(TLS error: the server does not speak TLS on this port \(wss:\/\/ to a ws:\/\/ server\?\)\); retrying/);
  } finally {
    plain.close();
  }
});

describe('interactive', () => {
  const sessions: TmuxSession[] = [];
  before(requireTmux);
  after(() => {
    for (const session of sessions) session.kill();
  });
  const terminal = (args: string[]) => {
    const session = new TmuxSession([process.execPath, CLI, ...args], repoRoot);
    sessions.push(session);
    return session;
  };

  test('no listener: "connection refused (host:port)" on every attempt, retrying until /quit', async () => {
    const port = await freePort();
    const term = terminal([`ws://127.0.0.1:${port}/ws`, '--user', 'alice']);
    const refused = new RegExp(`\\* cannot connect \\(connection refused \\(127\\.0\\.0\\.1:${port}\\)\\); retrying ws://127\\.0\\.0\\.1:${port}/ws in`, 'g');
    const screen = await term.waitFor(new RegExp(`(${refused.source}[^\\n]*\\n[^]*){2}`));
    assert.doesNotMatch(screen, /1006/);
    term.type('/quit');
    assert.equal(await term.exited(), 0);
  });

  test('a token that expires: "token expired", then "unauthorized (401)" while it retries with it', async () => {
    const term = terminal([authed.wsUrl, '--token', signToken('alice', 3, SECRET), '--room', 'lobby']);
    await term.waitFor(/\* connected to node /);
    await term.waitFor(/\* disconnected \(token expired\); retrying/, 15_000);
    // Still `reconnecting` (it was connected), so each failed attempt reads "disconnected (...)".
    const screen = await term.waitFor(/(\* disconnected \(unauthorized \(401\): the token is missing, invalid or expired\); retrying[^\n]*\n[^]*){2}/);
    assert.doesNotMatch(screen, /1006/);
    term.type('/quit');
    assert.equal(await term.exited(), 0);
  });

  test('an operator\'s disconnect: "disconnected by an operator", and no reconnect', async () => {
    const term = terminal([open.wsUrl, '--user', 'mallory', '--room', 'lobby']);
    await term.waitFor(/\* joined lobby/);
    const response = await fetch(`${open.url}/api/users/mallory/disconnect`, { method: 'POST' });
    assert.equal(response.status, 202);
    await term.waitFor(/\* closed by the server \(disconnected by an operator\); not reconnecting/);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.doesNotMatch(term.screen(), /retrying|connected to node [^\n]*\n[^]*connected to node/);
    term.type('/quit');
    assert.equal(await term.exited(), 0);
  });
});
