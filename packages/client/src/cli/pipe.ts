import { createInterface } from 'node:readline';
import type { ChatClient } from '../client.js';

/**
 * Pipe mode (`--send`): posts every non-empty line of `input` to `room`, printing each message id.
 * Each line goes out after the previous one's ack, so the room sees the lines in input order. The
 * SDK resends a line with its `mid` until acked (after `unavailable`, `rate_limited`, a reconnect),
 * so a line is posted once; a line that still fails is reported. Resolves with the number of lines
 * that failed.
 */
export async function sendLines(client: ChatClient, room: string, input: NodeJS.ReadableStream,
  out: (line: string) => void, err: (line: string) => void): Promise<number> {
  await client.join(room);
  let failed = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    try {
      out((await client.send(room, line)).id);
    } catch (error) {
      failed += 1;
      err(`! not sent: ${JSON.stringify(line.slice(0, 60))}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return failed;
}
