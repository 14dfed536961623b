import { createInterface } from 'node:readline';
import { ErrorCode } from '@chat/protocol';
import type { ChatClient } from '../client.js';
import { ServerError } from '../errors.js';

/** Each line goes out after the previous one's ack, so the room sees the lines in input order. */
const RETRYABLE = new Set<string>([ErrorCode.RateLimited, ErrorCode.Unavailable]);

/**
 * Pipe mode (`--send`): posts every non-empty line of `input` to `room`, printing each message id.
 * A line refused as rate_limited or unavailable was not accepted (SPEC section 3), so it is safely
 * retried after a pause; any other failure is reported. Resolves with the number of lines that failed.
 */
export async function sendLines(client: ChatClient, room: string, input: NodeJS.ReadableStream,
  out: (line: string) => void, err: (line: string) => void): Promise<number> {
  await client.join(room);
  let failed = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    try {
      out(await sendWithRetry(client, room, line));
    } catch (error) {
      failed += 1;
      err(`! not sent: ${JSON.stringify(line.slice(0, 60))}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return failed;
}

async function sendWithRetry(client: ChatClient, room: string, text: string): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await client.send(room, text);
    } catch (error) {
      if (!(error instanceof ServerError && RETRYABLE.has(error.code)) || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}
