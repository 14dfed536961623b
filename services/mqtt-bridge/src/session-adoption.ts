import type { Logger } from '@chat/runtime';
import type { SessionStore } from './ports.js';

/** The part of an MqttLink a drain needs (a link in `drain` mode on the dead replica's client id). */
export interface DrainLink {
  readonly connected: boolean;
  readonly lastActivityMs: number;
  readonly ended: Promise<void>;
  close(endSession: boolean): Promise<void>;
}

export interface SessionAdoptionDeps {
  store: SessionStore;
  /** This replica's own MQTT session (client id). */
  session: string;
  /** A session silent this long belongs to a dead replica. */
  staleMs: number;
  open(session: string): DrainLink;
  log: Logger;
}

const BEAT_MS = 1_000;
/** A drained session is closed once nothing arrived on it for this long. */
const IDLE_MS = 1_500;
const CLAIM_MS = 60_000;

/**
 * No replica's death loses what the broker holds for it. Mosquitto keeps handing a share of the
 * shared subscription to a persistent session whose client is gone, and keeps the messages it had
 * sent but not seen acknowledged; they wait until a client with that id connects. So every replica
 * beats a heartbeat for its session in Redis, and a live replica that finds a session silent for
 * `staleMs` claims it, connects with its client id, unsubscribes it (nothing new is queued there),
 * stores what it still holds (redeliveries are recognised by their receipts), and ends it.
 * If the owner comes back meanwhile, it takes its session back and the drain just stops.
 */
export class SessionAdoption {
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() since when our own heartbeats have all succeeded (undefined after a failure). */
  private healthySince: number | undefined;
  private readonly draining = new Map<string, DrainLink>();
  private stopped = false;

  constructor(private readonly deps: SessionAdoptionDeps) {}

  start(): void {
    const loop = async () => {
      await this.beat();
      // Only a replica that has itself beaten for staleMs judges others: after a Redis outage
      // every session looks silent, and none of them is dead.
      if (this.healthySince !== undefined && performance.now() - this.healthySince > this.deps.staleMs) await this.scan();
      if (!this.stopped) this.timer = setTimeout(() => void loop(), BEAT_MS);
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.draining.values()].map((link) => link.close(false)));
  }

  private async beat(): Promise<void> {
    try {
      await this.deps.store.heartbeat(this.deps.session);
      this.healthySince ??= performance.now();
    } catch {
      this.healthySince = undefined;
    }
  }

  private async scan(): Promise<void> {
    let ages: Map<string, number>;
    try {
      ages = await this.deps.store.sessionAges();
    } catch {
      return;
    }
    for (const [session, age] of ages) {
      if (session === this.deps.session || this.draining.has(session) || age < this.deps.staleMs) continue;
      const claimed = await this.deps.store.claimAdoption(session, this.deps.session, CLAIM_MS).catch(() => false);
      if (claimed) void this.drain(session);
    }
  }

  private async drain(session: string): Promise<void> {
    this.deps.log.warn('draining the session of a replica that stopped beating', { session });
    const link = this.deps.open(session);
    this.draining.set(session, link);
    let kicked = false;
    void link.ended.then(() => { kicked = true; });
    const deadline = Date.now() + CLAIM_MS - 5_000;
    while (!kicked && !this.stopped && Date.now() < deadline) {
      if (link.connected && Date.now() - link.lastActivityMs > IDLE_MS) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const done = link.connected && !kicked && !this.stopped;
    this.draining.delete(session);
    if (!done) {
      await link.close(false);
      this.deps.log.warn('gave up draining a session for now', { session, kicked });
      return;
    }
    await link.close(true);
    await this.deps.store.forgetSession(session).catch(() => undefined);
    this.deps.log.info('drained and ended the session of a dead replica', { session });
  }
}
