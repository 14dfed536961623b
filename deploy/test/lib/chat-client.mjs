// A bare chat.v1 WebSocket client for the topology test: every frame it receives is kept, and a test
// waits for the one it expects. Deliberately not the SDK: the test sees exactly what HAProxy and the
// gateways send, reconnects included.
import WebSocket from 'ws';

export class ChatClient {
  /** Frames received, oldest first. */
  frames = [];
  #waiters = new Set();
  #socket;

  /** Resolves with the close event { code, reason } when the socket closes. */
  closed;

  /** Opens a connection and resolves once the welcome frame arrived. */
  static async connect(url, user, timeoutMs = 5000) {
    const client = new ChatClient();
    await client.#open(`${url}?user=${encodeURIComponent(user)}`, timeoutMs);
    return client;
  }

  get welcome() {
    return this.frames.find((frame) => frame.type === 'welcome');
  }

  get node() {
    return this.welcome.node;
  }

  #open(url, timeoutMs) {
    const socket = new WebSocket(url, 'chat.v1');
    this.#socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      this.frames.push(frame);
      for (const waiter of this.#waiters) waiter(frame);
    });
    socket.on('error', () => {}); // surfaces as `closed` or as the welcome timeout
    const closedFirst = this.closed.then(({ code }) => {
      throw new Error(`closed with ${code} before the welcome frame`);
    });
    return Promise.race([this.waitFor((frame) => frame.type === 'welcome', timeoutMs, 'welcome'), closedFirst]);
  }

  send(frame) {
    this.#socket.send(JSON.stringify(frame));
  }

  /** The first frame, received or to come, that matches. */
  waitFor(predicate, timeoutMs = 5000, what = 'a frame') {
    const seen = this.frames.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = (frame) => {
        if (!predicate(frame)) return;
        cleanup();
        resolve(frame);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.frames.map((f) => f.type))}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      this.#waiters.add(waiter);
    });
  }

  async join(room) {
    const ref = `join-${room}-${this.frames.length}`;
    this.send({ type: 'join', room, ref });
    return this.waitFor((frame) => frame.type === 'joined' && frame.ref === ref, 5000, `joined ${room}`);
  }

  close() {
    this.#socket.close(1000);
    return this.closed;
  }

  terminate() {
    this.#socket.terminate();
  }
}
