import { ErrorCode } from '@chat/protocol';
import { isActive, type ModerationStore, type RoomRules } from '@chat/cluster';
import { roomAllowed } from '@chat/runtime';
import type { Membership } from './membership.js';
import type { Session } from './session.js';

/** Why a join or a send is refused, as the error the client gets. */
export interface Refusal {
  code: ErrorCode.Banned | ErrorCode.Muted | ErrorCode.SlowMode;
  message: string;
  retryAfterMs?: number;
}

/**
 * A room's moderation as this node applies it: who may moderate, and whether a join or a send is
 * refused. The rules of each room with members here are cached, so a send costs no store read; a
 * `moderation` signal on the room (every moderator action sends one) drops the cached copy, and a
 * room is forgotten with its last member here. Timed bans and mutes end by the clock, not a signal.
 * A room without members here is read afresh each time and not kept (this node would not hear its
 * signals).
 */
export class Moderation {
  private readonly cache = new Map<string, RoomRules>();
  /**
   * Bumped by every invalidation: a read that began before one may be stale and is not cached. One
   * counter for all rooms (rather than one per room) keeps nothing per room beyond the cache.
   */
  private version = 0;

  constructor(readonly store: ModerationStore, private readonly membership: Membership) {}

  /**
   * True when the session may moderate `room`: its token's `mod` claim (names or `prefix*` patterns)
   * allows the room, or the admin API granted it. Without auth only grants count. Grants are read
   * from the store each time (not cached: no signal tells a node of a grant), so a grant or a
   * revocation holds at once on every node.
   */
  async mayModerate(session: Session, room: string): Promise<boolean> {
    const claim = session.identity.claims?.mod;
    if (claim !== undefined && roomAllowed(claim, room)) return true;
    return this.store.isModerator(room, session.user);
  }

  /** Refuses a join of a banned user. */
  async refuseJoin(session: Session, room: string): Promise<Refusal | undefined> {
    return banned(await this.rules(room), session.user, room);
  }

  /**
   * Refuses a send of a banned or muted user, or one within its slow-mode interval (moderators are
   * exempt from slow mode). Decided at once, with no await, when the room's rules are cached here and
   * slow mode is off: the common case costs a map lookup and keeps a connection's sends in order
   * without waiting (see send()). Otherwise a promise.
   */
  refuseSend(session: Session, room: string): Refusal | undefined | Promise<Refusal | undefined> {
    const rules = this.cache.get(room);
    if (rules === undefined) return this.rules(room).then((read) => this.judge(session, room, read));
    return this.judge(session, room, rules);
  }

  private judge(session: Session, room: string, rules: RoomRules): Refusal | undefined | Promise<Refusal | undefined> {
    const refusal = banned(rules, session.user, room);
    if (refusal !== undefined) return refusal;
    const mute = rules.mutes.get(session.user);
    if (isActive(mute, Date.now())) {
      return { code: ErrorCode.Muted, message: `you are muted in ${room}${mute.until === 0 ? '' : ` until ${new Date(mute.until).toISOString()}`}; you may still read it` };
    }
    return rules.slowSeconds === 0 ? undefined : this.slowMode(session, room, rules.slowSeconds);
  }

  private async slowMode(session: Session, room: string, seconds: number): Promise<Refusal | undefined> {
    if (await this.mayModerate(session, room)) return undefined;
    const retryAfterMs = await this.store.takeSlot(room, session.user, seconds * 1000);
    if (retryAfterMs === 0) return undefined;
    return { code: ErrorCode.SlowMode, message: `slow mode: one message per ${seconds} s in ${room}`, retryAfterMs };
  }

  async rules(room: string): Promise<RoomRules> {
    const cached = this.cache.get(room);
    if (cached !== undefined) return cached;
    const version = this.version;
    const rules = await this.store.rules(room);
    if (version === this.version && this.membership.sessionsIn(room).size > 0) this.cache.set(room, rules);
    return rules;
  }

  /** The room's rules changed (a moderation signal, or an action taken here). */
  invalidate(room: string): void {
    this.cache.delete(room);
    this.version += 1;
  }

  /** The bus may have lost signals (its subscriptions were reset): every cached room is read again. */
  invalidateAll(): void {
    this.cache.clear();
    this.version += 1;
  }

  /** The last member here left the room: its signals no longer reach this node. */
  forget(room: string): void {
    this.cache.delete(room);
  }
}

function banned(rules: RoomRules, user: string, room: string): Refusal | undefined {
  const ban = rules.bans.get(user);
  if (!isActive(ban, Date.now())) return undefined;
  const until = ban.until === 0 ? '' : ` until ${new Date(ban.until).toISOString()}`;
  return { code: ErrorCode.Banned, message: `you are banned from ${room}${until}${ban.reason === '' ? '' : `: ${ban.reason}`}` };
}
