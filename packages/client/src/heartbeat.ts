/**
 * Application-level heartbeat. Browsers answer the server's WebSocket pings but cannot send their
 * own or see the answers, so a dead path (a node gone without a FIN, a sleeping laptop) shows only
 * as silence. Every `intervalMs` the client sends a `ping` frame; any frame counts as a sign of
 * life, and after more than two intervals of silence the connection is declared dead, mirroring the
 * server, which closes a connection silent for twice its `heartbeat` (docs/protocol.md#connect).
 */
export class Heartbeat {
  readonly #intervalMs: number;
  readonly #ping: () => void;
  readonly #dead: () => void;
  readonly #now: () => number;
  #lastSeen = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(intervalMs: number, ping: () => void, dead: () => void, now: () => number = Date.now) {
    if (!(intervalMs > 0)) throw new RangeError('heartbeat interval must be positive');
    this.#intervalMs = intervalMs;
    this.#ping = ping;
    this.#dead = dead;
    this.#now = now;
  }

  start(): void {
    this.stop();
    this.#lastSeen = this.#now();
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
  }

  /** Call on every frame received. */
  seen(): void {
    this.#lastSeen = this.#now();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    if (this.#now() - this.#lastSeen > 2 * this.#intervalMs) {
      this.stop();
      this.#dead();
    } else {
      this.#ping();
    }
  }
}
