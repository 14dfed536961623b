#!/usr/bin/env node
/**
 * `chat`: the terminal client. Interactive by default; with --send, a pipe that posts stdin lines.
 *   npm run chat -- ws://localhost:8080/ws --user alice --room lobby
 *   echo hi | npm run chat -- ws://localhost:8080/ws --user alice --room lobby --send
 */
import { parseCliArgs, USAGE } from './cli/args.js';
import { describeClose } from './cli/format.js';
import { sendLines } from './cli/pipe.js';
import { Terminal } from './cli/terminal.js';
import { createNodeClient } from './node.js';

async function main(): Promise<number> {
  let args;
  try {
    args = parseCliArgs(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 64;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const client = createNodeClient({
    url: args.urls,
    ...(args.token === undefined ? {} : { token: args.token }),
    ...(args.user === undefined ? {} : { user: args.user }),
  });
  const stop = (): void => client.close();
  process.once('SIGINT', stop).once('SIGTERM', stop);

  if (!args.send) {
    const terminal = new Terminal(client, process.stdin, process.stdout);
    void client.connect().catch(() => undefined);
    await terminal.run(args.rooms);
    client.close();
    return 0;
  }

  const room = args.rooms[0] ?? 'lobby';
  const timer = setTimeout(() => {
    process.stderr.write(`! gave up after ${args.timeoutMs} ms\n`);
    process.exit(2);
  }, args.timeoutMs);
  client.on('status', (s) => {
    if (s.retryInMs !== undefined) process.stderr.write(`* ${s.state === 'connecting' ? 'cannot connect' : 'disconnected'} (${describeClose(s)}); retrying in ${s.retryInMs} ms\n`);
  });
  await client.connect();
  const failed = await sendLines(client, room, process.stdin,
    (id) => process.stdout.write(`${id}\n`), (line) => process.stderr.write(`${line}\n`));
  clearTimeout(timer);
  client.close();
  return failed === 0 ? 0 : 1;
}

main().then((code) => {
  process.exitCode = code;
}, (error: unknown) => {
  process.stderr.write(`chat: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
