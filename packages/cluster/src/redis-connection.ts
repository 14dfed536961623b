import { Redis, type RedisOptions } from 'ioredis';
import { BusUnavailableError } from './bus.js';
import { defineScripts } from './redis-scripts.js';

/** How long one Redis command may take before the caller is told the bus is unavailable. */
export const COMMAND_TIMEOUT_MS = 2_000;

const common: RedisOptions = {
  lazyConnect: true,
  // Never queue: ioredis's offline queue would hold a message while Redis is away and could lose
  // it later without an error. A command issued while disconnected fails at once instead.
  enableOfflineQueue: false,
  // A command whose reply was lost with the connection may or may not have run: re-sending it could
  // store a message twice, so it fails and the client is told `unavailable`.
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
};

export interface RedisConnections {
  /** Commands and scripts. */
  command: Redis;
  /** Pub/sub only: a connection in subscriber mode cannot run other commands. */
  subscriber: Redis;
}

/**
 * Creates both connections and starts connecting. It does not wait: while Redis is unreachable the
 * clients keep retrying with backoff and the bus reports itself not connected (readiness fails).
 */
export function connectRedis(url: string, name: string, onError: (error: Error) => void = () => undefined): RedisConnections {
  const command = new Redis(url, { ...common, commandTimeout: COMMAND_TIMEOUT_MS, connectionName: `${name}:cmd` });
  // Subscriptions are restored by RedisBus itself after a reconnect, followed by a backfill.
  const subscriber = new Redis(url, { ...common, autoResubscribe: false, connectionName: `${name}:sub` });
  defineScripts(command);
  let lastReport = 0;
  for (const client of [command, subscriber]) {
    client.on('error', (error: Error) => {
      // ioredis reports every failed attempt; one line per 10 s is enough for an operator.
      if (Date.now() - lastReport < 10_000) return;
      lastReport = Date.now();
      onError(new Error(`Redis at ${redact(url)}: ${error.message}`));
    });
    client.connect().catch(() => undefined);
  }
  return { command, subscriber };
}

/** Runs a Redis call, turning every connection or timeout failure into BusUnavailableError. */
export async function guarded<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw new BusUnavailableError(`Redis: ${(error as Error).message}`, { cause: error });
  }
}

/** A URL (Redis, MQTT...) without its password, for logs and errors. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable url>';
  }
}
