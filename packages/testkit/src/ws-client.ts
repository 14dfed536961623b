/**
 * A WebSocket test client that records every frame, so a test can await "the next frame like X"
 * without racing the socket. Exists for tests only; add helpers here when a test needs a new wait.
 */
import WebSocket from 'ws';

export type Frame = Record<string, unknown> & { type: string };

export interface TestClient {
  ws: WebSocket;
  welcome: Frame;
  /** Every frame received so far, in order. */
  frames: Frame[];
  send(frame: Record<string, unknown>): void;
  sendRaw(data: string | Buffer): void;
  /** Resolves with (and removes from `frames`) the oldest frame that satisfies `match`. */
  next(match: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  /** Sends `frame` with a fresh ref and resolves with the reply that carries it back. */
  request(frame: Record<string, unknown>, timeoutMs?: number): Promise<Frame>;
  /** Resolves with the close code once the server or client closes. */
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

let refs = 0;

export async function connectClient(url: string, options: { user?: string; token?: string; headers?: Record<string, string>; protocols?: string[] } = {}): Promise<TestClient> {
  const target = new URL(url);
  if (options.user !== undefined) target.searchParams.set('user', options.user);
  if (options.token !== undefined) target.searchParams.set('token', options.token);
  const ws = new WebSocket(target, options.protocols ?? [], { headers: options.headers ?? {} });
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as Frame);
    for (const wake of waiters) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((done) => {
    ws.once('close', (code, reason) => {
      done({ code, reason: String(reason) });
      for (const wake of waiters) wake();
    });
  });

  const next = (match: (f: Frame) => boolean, timeoutMs = 5000) =>
    new Promise<Frame>((resolve, reject) => {
      const check = () => {
        for (let i = 0; i < frames.length; i++) {
          const frame = frames[i]!;
          if (match(frame)) {
            frames.splice(i, 1);
            cleanup();
            resolve(frame);
            return;
          }
        }
        if (ws.readyState === WebSocket.CLOSED) {
          cleanup();
          reject(new Error(`socket closed while waiting; frames: ${JSON.stringify(frames.slice(-5))}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching frame within ${timeoutMs} ms; last frames: ${JSON.stringify(frames.slice(-5))}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with HTTP ${res.statusCode}`)));
  });
  const welcome = await next((f) => f.type === 'welcome');

  return {
    ws,
    welcome,
    frames,
    next,
    send: (frame) => ws.send(JSON.stringify(frame)),
    sendRaw: (data) => ws.send(data),
    request(frame, timeoutMs) {
      const ref = `r${++refs}`;
      ws.send(JSON.stringify({ ...frame, ref }));
      return next((f) => f.ref === ref && f.type !== 'message', timeoutMs);
    },
    closed,
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.close();
      await closed;
    },
  };
}
