// A chat.v1 member on a raw `ws` socket that keeps the protocol reference's client-side promise itself:
// every send carries a `mid` and is resent with that same `mid` on `unavailable`, on a timeout and
// after a reconnect, until it is acked (bounded attempts). It reconnects to the next gateway URL,
// rejoins with `since` = the last id seen, and reports every message and every `gap` to a Ledger.
// So rows 2-6 test the server's promise independently of the SDK.
import WebSocket from 'ws';

const RESEND_MS = 3_000;
const MAX_ATTEMPTS = 40;
const MAX_RECONNECTS = 200;

export class WireMember {
  #ws;
  #urlIndex;
  #stopped = false;
  #rooms = new Map(); // room -> last id seen
  #pending = new Map(); // mid -> { room, text, attempts, timer, resolve }
  #joinWaiters = new Map();

  constructor({ urls, user, ledger, start = 0, reconnect = true }) {
    this.urls = urls;
    this.user = user;
    this.ledger = ledger;
    this.#urlIndex = start;
    this.reconnect = reconnect;
    this.closeCode = undefined;
    /** Every error frame, with the time it came: rows count `rate_limited` per second from it. */
    this.errorLog = [];
    this.onClose = () => {};
  }

  connect() {
    return new Promise((resolve, reject) => {
      const url = `${this.urls[this.#urlIndex % this.urls.length]}?user=${encodeURIComponent(this.user)}`;
      const ws = new WebSocket(url, { perMessageDeflate: false });
      let welcomed = false;
      this.#ws = ws;
      ws.on('error', (error) => { if (!welcomed) reject(error); });
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data));
        if (frame.type !== 'welcome') return this.#onFrame(frame);
        welcomed = true;
        this.up = true;
        this.#onUp();
        resolve(frame);
      });
      ws.on('close', (code) => {
        if (!welcomed) reject(new Error(`${this.user}: closed (${code}) before welcome`));
        this.#onDown(code, welcomed);
      });
    });
  }

  get socket() { return this.#ws; }

  /** The last message id seen in the room (what a resume sends as `since`). */
  lastId(room) { return this.#rooms.get(room); }

  #onUp() {
    for (const room of this.#rooms.keys()) this.#writeJoin(room);
    for (const [mid, entry] of this.#pending) this.#write(mid, entry);
  }

  /** A connection that was up is replaced: the next URL, at most MAX_RECONNECTS attempts per outage. */
  #onDown(code, wasUp) {
    this.up = false;
    this.closeCode = code;
    this.onClose(code);
    if (this.#stopped || !this.reconnect || !wasUp) return;
    let attempts = 0;
    const retry = () => {
      if (this.#stopped || ++attempts > MAX_RECONNECTS) return;
      this.#urlIndex += 1;
      this.connect().catch(() => setTimeout(retry, 300));
    };
    setTimeout(retry, 100);
  }

  #onFrame(frame) {
    const now = Date.now();
    switch (frame.type) {
      case 'message': {
        this.#rooms.set(frame.room, frame.id);
        this.ledger.received(this.user, frame.room, frame.id, frame.text, now);
        return;
      }
      case 'joined': {
        for (const m of frame.history ?? []) this.ledger.received(this.user, frame.room, m.id, m.text, now);
        const last = frame.history?.at(-1);
        if (last) this.#rooms.set(frame.room, last.id);
        if (frame.gap === true) this.ledger.gap(this.user, frame.room, frame.ref === undefined, now);
        this.#joinWaiters.get(frame.room)?.(frame);
        this.#joinWaiters.delete(frame.room);
        return;
      }
      case 'ack': return this.#settle(frame.ref, frame);
      case 'error': {
        this.errorLog.push({ code: frame.code, at: now });
        if (frame.code === 'unavailable') this.ledger.unavailable += 1;
        else this.ledger.errors[frame.code] = (this.ledger.errors[frame.code] ?? 0) + 1;
        const mid = frame.ref?.split('#')[0];
        const entry = mid === undefined ? undefined : this.#pending.get(mid);
        if (entry === undefined) return;
        if (frame.code === 'unavailable' || frame.code === 'not_joined') this.#retryLater(mid, entry, 300);
        else this.#finish(mid, entry, undefined);
        return;
      }
      default:
    }
  }

  #writeJoin(room) {
    const since = this.#rooms.get(room);
    this.#send({ type: 'join', room, ref: `join:${room}`, ...(since ? { since } : {}) });
  }

  /** Joins and resolves with the `joined` reply. */
  join(room, since) {
    if (!this.#rooms.has(room)) this.#rooms.set(room, since);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.user}: no joined for ${room}`)), 10_000);
      this.#joinWaiters.set(room, (f) => { clearTimeout(timer); resolve(f); });
      this.#writeJoin(room);
    });
  }

  /** Sends until acked with the same mid; resolves with the ack id, or undefined when given up. */
  send(room, mid, text) {
    return new Promise((resolve) => {
      const entry = { room, text, attempts: 0, timer: undefined, resolve };
      this.#pending.set(mid, entry);
      this.ledger.sent += 1;
      this.#write(mid, entry);
    });
  }

  #write(mid, entry) {
    clearTimeout(entry.timer);
    if (entry.attempts >= MAX_ATTEMPTS) return this.#finish(mid, entry, undefined);
    entry.attempts += 1;
    if (entry.attempts > 1) this.ledger.resent += 1;
    this.#send({ type: 'send', room: entry.room, text: entry.text, mid, ref: `${mid}#${entry.attempts}` });
    entry.timer = setTimeout(() => this.#write(mid, entry), RESEND_MS);
  }

  #retryLater(mid, entry, ms) {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => { if (this.up) this.#write(mid, entry); }, ms);
  }

  #settle(ref, ack) {
    const mid = ref?.split('#')[0];
    const entry = mid === undefined ? undefined : this.#pending.get(mid);
    if (entry !== undefined) this.#finish(mid, entry, ack.id);
  }

  #finish(mid, entry, id) {
    clearTimeout(entry.timer);
    this.#pending.delete(mid);
    if (id !== undefined) this.ledger.acked(mid, entry.room, id);
    else this.ledger.failed += 1;
    entry.resolve(id);
  }

  #send(frame) {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(frame));
  }

  raw(data) { if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(data); }

  get pendingCount() { return this.#pending.size; }

  close() {
    this.#stopped = true;
    for (const [mid, entry] of this.#pending) this.#finish(mid, entry, undefined);
    this.#ws?.terminate();
  }
}
