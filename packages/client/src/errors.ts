import type { ErrorCode } from '@chat/protocol';

/** Base of every error the SDK rejects a promise with; `code` is stable and meant for branching. */
export class ChatClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The server answered the request with an `error` frame (docs/protocol.md#connect lists the codes). */
export class ServerError extends ChatClientError {
  declare readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(code, message);
  }
}

/**
 * No reply within the request timeout. A request that was still queued is dropped and never goes
 * out; one already written may still take effect on the server.
 */
export class TimeoutError extends ChatClientError {
  constructor(message: string) {
    super('timeout', message);
  }
}

/**
 * A send or direct got no ack within `sendTimeoutMs`, across every resend; the SDK stops trying.
 * `written`: it went out at least once, so the server may have stored it. Sending again with the
 * same `mid` (SendOptions) within the server's IDEMPOTENCY_SECONDS still stores it at most once.
 */
export class SendTimeoutError extends TimeoutError {
  constructor(
    readonly mid: string,
    readonly written: boolean,
    timeoutMs: number,
  ) {
    super(`no ack within ${timeoutMs} ms for mid ${mid}` +
      (written ? '; it may have been stored (resend with the same mid to find out)' : '; it was never sent'));
  }
}

/** The offline queue already holds `maxQueued` requests; this one was not accepted. */
export class QueueFullError extends ChatClientError {
  constructor(maxQueued: number) {
    super('queue_full', `offline queue is full (${maxQueued} requests)`);
  }
}

/**
 * The connection dropped after a `history`, `leave` or `ping` was written and before its reply.
 * Never used for `send` and `direct`: those carry a `mid` and are resent on the next connection.
 */
export class ConnectionLostError extends ChatClientError {
  constructor() {
    super('connection_lost', 'connection lost before the reply; the request may or may not have taken effect');
  }
}

/** `close()` was called, or the room was left, while the request waited. */
export class ClientClosedError extends ChatClientError {
  constructor(message = 'client closed') {
    super('closed', message);
  }
}

/**
 * An operator disconnected this user (close 4403, docs/protocol.md#http). The client does not reconnect:
 * its state is `closed`, and every pending promise rejects with this error.
 */
export class DisconnectedError extends ChatClientError {
  constructor(reason: string) {
    super('disconnected', `disconnected by the server${reason ? `: ${reason}` : ''}; not reconnecting`);
  }
}

/** A `mid` the server would refuse (`^[A-Za-z0-9_.:-]{1,64}$`). */
export class InvalidMidError extends ChatClientError {
  constructor(value: string) {
    super('invalid_mid', `mid "${value.slice(0, 80)}" must match ^[A-Za-z0-9_.:-]{1,64}$`);
  }
}

/** A room or user name that the server would refuse (`^[A-Za-z0-9_.-]{1,64}$`). */
export class InvalidNameError extends ChatClientError {
  constructor(what: string, value: string) {
    super('invalid_name', `${what} "${value.slice(0, 80)}" must match ^[A-Za-z0-9_.-]{1,64}$`);
  }
}

/** A `since`, `before` or read marker that is not a message id (`<ms>-<seq>`, each part below 2^64). */
export class InvalidIdError extends ChatClientError {
  constructor(what: string, value: string) {
    super('invalid_id', `${what} "${value.slice(0, 80)}" must be a message id like "1700000000000-0"`);
  }
}
