import type { Logger } from '@chat/runtime';
import type { Lease } from './ports.js';

export interface LeaderDuties {
  /** Called once per term with its fencing token. A rejection ends the term at once. */
  elected(token: string): Promise<void>;
  /** Called once when a term ends, whatever the cause; must stop everything `elected` started. */
  deposed(): Promise<void>;
}

/**
 * At most one replica at a time takes device posts and forwards chat traffic to MQTT (the broker
 * fences its connection too: a new leader's connection on the shared client id ends the old one).
 * Terms come from a lease in Redis (SET NX PX, renewed every third of its life). A leader counts
 * its term from the moment it sent the renewal, minus a tenth for clock-rate drift, so it stops
 * acting before Redis can hand the lease to anyone else; it also stops as soon as a renewal says
 * the lease is gone.
 */
export class Leadership {
  private token: string | undefined;
  /** performance.now() after which this replica must not act as leader. */
  private deadline = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private transition: Promise<void> = Promise.resolve();
  private tried = false;
  /** performance.now() before which this replica does not try to take the lease (after stepDown). */
  private holdOffUntil = 0;

  constructor(
    private readonly lease: Lease,
    private readonly holder: string,
    private readonly duties: LeaderDuties,
    private readonly log: Logger,
  ) {}

  /** The first attempt to take the lease is over (taken, or found held): `leading` means something now. */
  get settled(): boolean {
    return this.tried;
  }

  /** True while this replica holds a term that cannot have expired yet. */
  get leading(): boolean {
    return this.token !== undefined && performance.now() < this.deadline;
  }

  start(): void {
    this.schedule(0);
  }

  /** Ends the term (if any) and gives the lease back, so a successor takes over without waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.transition;
    const token = this.token;
    if (token === undefined) return;
    await this.depose('stopping');
    await this.lease.release(token).catch(() => undefined);
  }

  /** Ends the term at once: the lease was found in other hands (a fenced write was refused). */
  resign(reason: string): void {
    void this.depose(reason);
  }

  /**
   * Ends the term, gives the lease back, and takes none for `holdOffMs`: this replica cannot do the
   * leader's work (it cannot reach the broker) and another one may.
   */
  async stepDown(reason: string, holdOffMs: number): Promise<void> {
    const token = this.token;
    if (token === undefined) return;
    this.holdOffUntil = performance.now() + holdOffMs;
    await this.depose(reason);
    await this.lease.release(token).catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.transition = this.tick().finally(() => this.schedule(Math.floor(this.lease.ttlMs / 3)));
    }, ms);
  }

  private async tick(): Promise<void> {
    const sentAt = performance.now();
    const term = this.lease.ttlMs - Math.ceil(this.lease.ttlMs / 10);
    if (this.token === undefined) {
      if (performance.now() < this.holdOffUntil) return;
      const token = await this.lease.acquire(this.holder).catch(() => null);
      if (token !== null) this.tried = true;
      if (token === undefined || token === null || this.stopped) return;
      this.token = token;
      this.deadline = sentAt + term;
      this.log.info('elected outbound leader', { token });
      try {
        await this.duties.elected(token);
      } catch (error) {
        this.log.warn('could not take up the outbound lead; stepping down', { error });
        await this.depose('start failed');
        await this.lease.release(token).catch(() => undefined);
      }
      return;
    }
    let held: boolean | undefined;
    try {
      held = await this.lease.renew(this.token);
    } catch {
      held = undefined; // Redis unreachable: keep the term until its deadline, then give it up
    }
    if (held === true) this.deadline = sentAt + term;
    else if (held === false) await this.depose('lease lost');
    if (this.token !== undefined && performance.now() >= this.deadline) await this.depose('lease expired');
  }

  private async depose(reason: string): Promise<void> {
    if (this.token === undefined) return;
    this.log.info('outbound lead ended', { reason, token: this.token });
    this.token = undefined;
    this.deadline = 0;
    await this.duties.deposed().catch((error: unknown) => this.log.warn('stepping down failed', { error }));
  }
}
