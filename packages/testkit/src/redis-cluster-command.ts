/**
 * The smallest Redis client the cluster harness needs: one connection to one node, commands as
 * arrays of strings, replies decoded from RESP2. It exists so that the test harness depends on no
 * Redis library (packages/cluster moves between ioredis versions) and never follows redirections:
 * a harness that reshards and fails over must see exactly what one node answers. Extend the
 * decoder here if a command ever needs RESP3.
 */
import { connect, type Socket } from 'node:net';

export type RespValue = string | number | null | RespValue[];

/** An error reply (`-ERR ...`, `-MOVED ...`, `-BUSYKEY ...`): `code` is its first word. */
export class RespError extends Error {
  override readonly name = 'RespError';
  readonly code: string;
  constructor(message: string) {
    super(message);
    this.code = message.split(' ', 1)[0] ?? '';
  }
}

type Decoded = { value: RespValue | RespError; end: number } | undefined;

/** Decodes one reply at `start`, or undefined while the buffer holds only part of it. */
function decode(buffer: Buffer, start: number): Decoded {
  const lineEnd = buffer.indexOf('\r\n', start);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buffer[start] ?? 0);
  const line = buffer.toString('utf8', start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+': return { value: line, end: next };
    case '-': return { value: new RespError(line), end: next };
    case ':': return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = decode(buffer, at);
        if (item === undefined) return undefined;
        // An error inside an array (EXEC) is kept as its message: no caller here sends MULTI.
        items.push(item.value instanceof RespError ? item.value.message : item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default: throw new Error(`not a RESP reply: ${JSON.stringify(buffer.toString('utf8', start, lineEnd))}`);
  }
}

function encode(args: readonly (string | number)[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) {
    const text = String(arg);
    out += `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
  }
  return out;
}

interface Pending { resolve(value: RespValue): void; reject(error: Error): void }

/**
 * One lazily opened connection to one node. Replies come back in the order commands were sent.
 * A connection that fails (the node was killed) rejects what was pending and is opened again by the
 * next command, so a handle outlives restarts of its node.
 */
export class NodeConnection {
  private socket: Socket | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly pending: Pending[] = [];

  constructor(readonly port: number, readonly host = '127.0.0.1', private readonly timeoutMs = 5_000) {}

  /** Resolves with the reply; rejects with a RespError for an error reply, an Error if the node is unreachable. */
  command(...args: (string | number)[]): Promise<RespValue> {
    const socket = this.open();
    return new Promise<RespValue>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      socket.write(encode(args));
    });
  }

  close(): void {
    this.fail(new Error('connection closed'));
  }

  private open(): Socket {
    if (this.socket !== undefined) return this.socket;
    const socket = connect(this.port, this.host);
    socket.setNoDelay(true);
    // A node that stops answering (killed mid-reply, paused) must not hang a harness step forever.
    // Events of a socket already given up on (its 'close' comes after fail()) must not touch the next one.
    const current = (then: () => void) => { if (this.socket === socket) then(); };
    socket.setTimeout(this.timeoutMs, () => current(() => {
      if (this.pending.length > 0) this.fail(new Error(`no reply from ${this.host}:${this.port} in ${this.timeoutMs} ms`));
    }));
    socket.on('data', (chunk: Buffer) => current(() => this.receive(chunk)));
    socket.on('error', (error) => current(() => this.fail(error)));
    socket.on('close', () => current(() => this.fail(new Error(`connection to ${this.host}:${this.port} closed`))));
    this.socket = socket;
    return socket;
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let at = 0;
    for (;;) {
      const reply = decode(this.buffer, at);
      if (reply === undefined) break;
      at = reply.end;
      const waiter = this.pending.shift();
      if (reply.value instanceof RespError) waiter?.reject(reply.value);
      else waiter?.resolve(reply.value);
    }
    this.buffer = this.buffer.subarray(at);
  }

  private fail(error: Error): void {
    const socket = this.socket;
    this.socket = undefined;
    this.buffer = Buffer.alloc(0);
    socket?.destroy();
    for (const waiter of this.pending.splice(0)) waiter.reject(error);
  }
}
