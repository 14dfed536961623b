// A TypeScript application of the packed SDK, type-checked by src/e2e/package.test.ts against the
// declarations installed from the tarball (node16 and bundler resolution, strict, lib checks on).
import {
  ChatClient, CloseCode, DisconnectedError, ErrorCode, SendTimeoutError, ServerError,
  type ChatMessage, type RoomJoined, type Sent, type StatusChange,
} from '@chat/client';
import { createNodeClient } from '@chat/client/node';

const client: ChatClient = createNodeClient({
  url: ['ws://node1:8081/ws', 'ws://node2:8082/ws'],
  getToken: async () => 'a.jwt.token',
  backoff: { initialMs: 200, maxMs: 5000 },
  sendTimeoutMs: 60_000,
});

client.on('message', (message: ChatMessage) => message.text.length);
client.on('status', (status: StatusChange) => status.state === 'reconnecting' && status.retryInMs);
client.on('ended', ({ code, error }) => code === CloseCode.Disconnected && error instanceof DisconnectedError);

export async function post(text: string): Promise<Sent | undefined> {
  const joined: RoomJoined = await client.join('lobby');
  if (joined.gap) return undefined;
  try {
    return await client.send('lobby', text, { mid: 'order-42' });
  } catch (error) {
    if (error instanceof ServerError && error.code === ErrorCode.NotJoined) return undefined;
    if (error instanceof SendTimeoutError) return client.send('lobby', text, { mid: error.mid });
    throw error;
  }
}

// The declarations are real, not `any`: a wrong call must not compile.
// @ts-expect-error text is a string
void client.send('lobby', 42);
