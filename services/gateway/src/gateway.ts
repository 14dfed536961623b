import { randomBytes } from 'node:crypto';
import { type ClientFrame, CloseCode, decodeClientFrame, ErrorCode, isModerationJson, type LeftReason, type ServerFrame } from '@chat/protocol';
import {
  type Bus, BusUnavailableError, type FeedTrace, type HistoryStore, type ModerationStore, type NodeRegistry, type PresenceStore, type ReadMarkers, RoomFeed,
} from '@chat/cluster';
import type { GatewayMetrics, Logger } from '@chat/runtime';
import type { GatewayConfig } from './config.js';
import type { Connection, LocalTopics } from './connection.js';
import type { Core, LeaveReason } from './core.js';
import { Delivery } from './delivery.js';
import { Membership } from './membership.js';
import { edit, react, remove } from './change-handlers.js';
import { Moderation } from './moderation.js';
import { members, moderate } from './moderation-handlers.js';
import { RoomSizes } from './room-sizes.js';
import { read, typing } from './chat-handlers.js';
import { direct, send } from './message-handlers.js';
import { history, join, leave } from './room-handlers.js';
import { Session, type Identity } from './session.js';
import { SAMPLE_BACKPRESSURE_MS, SlowConsumers } from './slow-consumers.js';

export interface GatewayDeps {
  config: GatewayConfig;
  bus: Bus;
  history: HistoryStore;
  presence: PresenceStore;
  markers: ReadMarkers;
  moderation: ModerationStore;
  nodes: NodeRegistry;
  metrics: GatewayMetrics;
  log: Logger;
}

const FEED_RECENT = 512;
const CATCH_UP_MS = 2_000;
/** setTimeout's longest delay; a longer token expiry is re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * What a client is told when the bus did not confirm a frame. For send and direct the outcome may
 * be unknown (a timeout after Redis got it): only a resend with the same `mid` is safe (docs/protocol.md#connect).
 */
const UNAVAILABLE: Partial<Record<ClientFrame['type'], string>> = {
  join: 'the cluster bus is unreachable; join again',
  send: 'the message was not stored, or its outcome is unknown (timeout); resend it with the same mid',
  direct: 'the message was not stored, or its outcome is unknown (timeout); resend it with the same mid',
  history: 'history is unreachable; try again',
  typing: 'the cluster bus is unreachable; the typing indicator was not relayed',
  read: 'the read marker could not be stored; send it again',
  kick: 'the cluster bus is unreachable; the action may not have taken effect everywhere: send it again',
  ban: 'the cluster bus is unreachable; the action may not have taken effect everywhere: send it again',
  unban: 'the cluster bus is unreachable; the action may not have taken effect everywhere: send it again',
  mute: 'the cluster bus is unreachable; the action may not have taken effect everywhere: send it again',
  unmute: 'the cluster bus is unreachable; the action may not have taken effect everywhere: send it again',
  slowmode: 'the cluster bus is unreachable; the action may not have taken effect everywhere: send it again',
  members: 'presence is unreachable; try again',
};

/**
 * The transport-free core of one gateway node: sessions, rooms, the frame handlers and the feed
 * from the bus. The transport calls open / receive / closed; the core writes through Connection
 * and LocalTopics only. Local membership is Membership's; the cluster-wide effects of it (presence,
 * the directory, the room feed) are made here.
 */
export class Gateway implements Core {
  readonly config: GatewayConfig;
  readonly bus: Bus;
  readonly history: HistoryStore;
  readonly presence: PresenceStore;
  readonly markers: ReadMarkers;
  readonly nodes: NodeRegistry;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  readonly feed: RoomFeed;
  readonly membership = new Membership();
  readonly moderation: Moderation;
  readonly roomSizes: RoomSizes;
  private readonly delivery: Delivery;
  private readonly slowConsumers: SlowConsumers;
  private readonly timers: NodeJS.Timeout[] = [];
  /**
   * This process's name in the presence store: the node id plus a per-process suffix, so the
   * entries a previous process of the same NODE_ID left behind are reaped as a dead node's.
   */
  private readonly presenceNode: string;
  private draining = false;
  /** Users whose listing in the directory (for directs) is on its way: their welcomes wait for it. */
  private readonly listing = new Map<string, Promise<void>>();

  constructor(deps: GatewayDeps) {
    ({ config: this.config, bus: this.bus, history: this.history, presence: this.presence, markers: this.markers, nodes: this.nodes, metrics: this.metrics, log: this.log } = deps);
    this.moderation = new Moderation(deps.moderation, this.membership);
    this.roomSizes = new RoomSizes(this.presence, this.config.largeRoom, (room, json) => this.delivery.signal(room, json));
    this.presenceNode = `${this.config.nodeId}.${randomBytes(3).toString('hex')}`;
    this.slowConsumers = new SlowConsumers((room) => this.membership.sessionsIn(room), this.config.maxBackpressureBytes, this.metrics);
    this.delivery = new Delivery(this.membership, this.presence, this.roomSizes, this.slowConsumers, this.metrics, this.log);
    this.feed = new RoomFeed(this.bus, this.history, this.delivery, {
      recentSize: FEED_RECENT,
      backfillMax: this.config.historyLimit,
      catchUpMs: CATCH_UP_MS,
      onError: (room, error) => this.log.warn('backfill failed; retrying', { room, error }),
      ...(this.log.debugEnabled ? { trace: (room: string, event: FeedTrace) => this.log.debug(`room feed ${event.kind}`, { room, ...event }) } : {}),
    });
    this.bus.listen({
      room: (event) => {
        if (event.kind === 'signal' && isModerationJson(event.json)) this.moderation.invalidate(event.room);
        this.feed.onRoomEvent(event);
      },
      user: (event) => this.delivery.user(event),
      resync: () => {
        this.log.info('bus reconnected; backfilling open rooms');
        this.moderation.invalidateAll();
        this.feed.resync();
      },
      status: (up) => {
        this.metrics.busConnected(up);
        this.log[up ? 'info' : 'warn'](up ? 'bus connected' : 'bus unreachable');
        // Listed among the live nodes as soon as the bus is reachable, not only at the next heartbeat.
        if (up) this.reportNode().catch(() => undefined);
      },
      disconnect: (user) => this.disconnectHere(user),
      evict: (room, user, reason) => this.evictHere(room, user, reason),
    });
    this.metrics.busConnected(this.bus.connected);
    const presenceEveryMs = Math.floor(this.config.presenceTtlMs / 4);
    this.timers.push(
      setInterval(() => this.slowConsumers.sample(), SAMPLE_BACKPRESSURE_MS),
      setInterval(() => void this.keepPresence(), presenceEveryMs),
      // tick() settles every read itself: it never rejects.
      setInterval(() => void this.roomSizes.tick(), this.config.presenceCountIntervalMs),
    );
    for (const timer of this.timers) timer.unref();
    if (this.bus.connected) this.reportNode().catch(() => undefined);
  }

  attach(topics: LocalTopics): void {
    this.delivery.attach(topics);
  }

  /** Ready for traffic: the bus is reachable and the node is not draining. */
  get ready(): boolean {
    return this.bus.connected && !this.draining;
  }

  get accepting(): boolean {
    return !this.draining;
  }

  /** A client past the upgrade; `remote` is its address, for the debug log. */
  open(conn: Connection, identity: Identity, remote = ''): Session {
    const session = new Session(conn, identity, remote, this.config.rateLimit, this.config.rateAbuseMs, this.slowConsumers);
    this.metrics.connectionOpened();
    if (this.log.debugEnabled) this.log.debug('connection opened', { user: identity.user, conn: conn.id, remote });
    if (this.membership.connect(session)) this.list(identity.user);
    this.armExpiry(session);
    // A client may send a direct to this user as soon as it sees the welcome, from any node: the
    // welcome follows the user's listing in the directory (or its failure, which is logged).
    const welcome = () => session.send({ type: 'welcome', user: identity.user, conn: conn.id, node: this.config.nodeId, heartbeat: this.config.heartbeatMs });
    const listing = this.listing.get(identity.user);
    if (listing === undefined) welcome();
    else void listing.then(welcome);
    return session;
  }

  /** Lists the user in the directory for directs; the promise never rejects. */
  private list(user: string): void {
    const listing = this.bus.subscribeUser(user)
      .catch((error: unknown) => this.log.warn('could not list a user in the directory for direct messages', { user, error }))
      .finally(() => {
        if (this.listing.get(user) === listing) this.listing.delete(user);
      });
    this.listing.set(user, listing);
  }

  /** One text frame from a client. uWS reuses its buffer after the callback returns: decode first. */
  receive(session: Session, raw: string): void {
    const verdict = session.limiter.take();
    if (verdict !== 'ok') {
      // Every dropped frame is counted; only one a second is answered (the rest get no reply).
      this.metrics.frameReceived('rate_limited');
      if (session.limiter.mayReply()) {
        this.reply(session, { type: 'error', code: ErrorCode.RateLimited, message: `over ${this.config.rateLimit} frames per second; frames are dropped` }, undefined);
      }
      if (verdict === 'abusive') session.close(CloseCode.RateLimited, 'rate_limited', 'rate limit abuse');
      return;
    }
    const decoded = decodeClientFrame(raw, { maxTextChars: this.config.maxTextChars });
    if (!decoded.ok) {
      this.metrics.frameReceived(decoded.error.code === ErrorCode.UnknownType ? 'unknown' : 'invalid');
      this.reply(session, { type: 'error', code: decoded.error.code, message: decoded.error.message }, decoded.error.ref);
      return;
    }
    const frame = decoded.frame;
    this.metrics.frameReceived(frame.type);
    this.dispatch(session, frame).catch((error: unknown) => {
      if (error instanceof BusUnavailableError) {
        this.reply(session, { type: 'error', code: ErrorCode.Unavailable, message: UNAVAILABLE[frame.type] ?? 'the cluster bus is unreachable' }, frame.ref);
        return;
      }
      this.log.error('frame handler failed', { type: frame.type, error });
      session.close(CloseCode.InternalError, 'error', 'internal error');
    });
  }

  closed(session: Session, code: number): void {
    if (session.closed) return;
    session.closed = true;
    clearTimeout(session.expiryTimer);
    // Closed by the server: the reason it gave; else the client's own close, or a lost connection.
    session.closeReason ??= code === 1006 ? 'dropped' : 'client';
    for (const room of [...session.rooms]) this.leaveRoom(session, room, 'closed');
    // Best effort: a node's stale directory entry only costs a publish nobody hears, and is dropped then.
    if (this.membership.disconnect(session)) this.bus.unsubscribeUser(session.user).catch(() => undefined);
    this.metrics.connectionClosed(session.closeReason);
    if (this.log.debugEnabled) {
      this.log.debug('connection closed', { user: session.user, conn: session.conn.id, remote: session.remote, code, reason: session.closeReason, durationMs: Date.now() - session.openedAt });
    }
  }

  reply(session: Session, frame: ServerFrame, ref: string | undefined): void {
    if (frame.type === 'error') this.metrics.error(frame.code);
    session.send(ref === undefined ? frame : { ...frame, ref });
  }

  async enterRoom(session: Session, room: string): Promise<void> {
    const firstHere = this.membership.sessionsIn(room).size === 0;
    const firstOfUser = this.membership.enter(session, room);
    this.metrics.rooms(this.membership.roomCount);
    await this.feed.open(room);
    // Counted once this node hears the room's presence events, so none is missed or counted twice.
    if (firstHere) await this.roomSizes.open(room);
    if (firstOfUser) await this.presence.join(room, session.user, this.presenceNode);
  }

  leaveRoom(session: Session, room: string, why: LeaveReason): void {
    const ended = this.membership.exit(session, room);
    if (ended === undefined) return;
    if (this.log.debugEnabled) {
      // A leave on close is logged with the close's reason: client, dropped, disconnected (by an operator), slow_consumer...
      this.log.debug('left room', { room, user: session.user, conn: session.conn.id, reason: why === 'closed' ? session.closeReason : why });
    }
    const { lastInRoom, lastOfUser } = ended;
    this.metrics.rooms(this.membership.roomCount);
    if (lastOfUser) {
      this.presence.leave(room, session.user, this.presenceNode).catch((error: unknown) => this.log.warn('presence leave failed; it will expire', { room, error }));
    }
    if (lastInRoom) {
      this.moderation.forget(room);
      this.roomSizes.close(room);
      this.feed.close(room).catch(() => undefined);
    }
  }

  /**
   * SIGTERM: report not-ready, refuse new connections, close the open ones with 1001 spread
   * evenly over `drainMs` so they do not all reconnect elsewhere at once.
   */
  async drain(): Promise<void> {
    this.draining = true;
    await this.reportNode().catch(() => undefined);
    const sessions = [...this.membership.sessions];
    const stepMs = sessions.length > 0 ? this.config.drainMs / sessions.length : 0;
    for (const session of sessions) {
      session.close(CloseCode.Draining, 'draining', 'node draining; reconnect elsewhere');
      if (stepMs >= 1) await new Promise((r) => setTimeout(r, stepMs));
    }
  }

  /** Stops the timers and takes this node out of the registry of live nodes. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.nodes.forget(this.config.nodeId).catch(() => undefined);
  }

  /** Closes every connection of `user` here with 4403 (an operator's disconnect); returns how many. */
  private disconnectHere(user: string): number {
    const sessions = [...this.membership.connectionsOf(user)];
    for (const session of sessions) session.close(CloseCode.Disconnected, 'disconnected', 'disconnected by an operator');
    if (sessions.length > 0) this.log.info('user disconnected by an operator', { user, connections: sessions.length });
    return sessions.length;
  }

  /** A moderator ended the user's membership of `room`: every connection of it here leaves the room and is told why. */
  private evictHere(room: string, user: string, reason: LeftReason): void {
    for (const session of [...this.membership.connectionsOf(user)]) {
      if (!session.rooms.has(room)) continue;
      this.leaveRoom(session, room, reason);
      session.send({ type: 'left', room, reason });
    }
  }

  /** What GET /api/nodes lists for this node; reported with each presence heartbeat. */
  private reportNode(): Promise<void> {
    return this.nodes.report({ node: this.config.nodeId, connections: this.membership.sessions.size, rooms: this.membership.roomCount, ready: this.ready });
  }

  private async dispatch(session: Session, frame: ClientFrame): Promise<void> {
    switch (frame.type) {
      case 'join': return join(this, session, frame);
      case 'leave': return leave(this, session, frame);
      case 'send': return send(this, session, frame);
      case 'direct': return direct(this, session, frame);
      case 'history': return history(this, session, frame);
      case 'ping': return this.reply(session, { type: 'pong', ts: Date.now() }, frame.ref);
      case 'typing': return typing(this, session, frame);
      case 'read': return read(this, session, frame);
      case 'edit': return edit(this, session, frame);
      case 'delete': return remove(this, session, frame);
      case 'react': return react(this, session, frame);
      case 'kick': case 'ban': case 'unban': case 'mute': case 'unmute': case 'slowmode': return moderate(this, session, frame);
      case 'members': return members(this, session, frame);
      default: return assertNever(frame);
    }
  }

  private armExpiry(session: Session): void {
    const exp = session.identity.claims?.exp;
    if (exp === undefined) return;
    const delay = exp * 1000 - Date.now();
    session.expiryTimer = setTimeout(() => {
      if (exp * 1000 > Date.now()) this.armExpiry(session);
      else session.close(CloseCode.TokenExpired, 'token_expired', 'token expired');
    }, Math.min(Math.max(delay, 0), MAX_TIMER_MS));
  }

  /** One heartbeat for all of this node's presence, then reap the entries of nodes that went silent. */
  private async keepPresence(): Promise<void> {
    try {
      await this.presence.heartbeat(this.presenceNode);
      await this.reportNode();
      await this.presence.reap();
    } catch (error) {
      this.log.warn('presence heartbeat failed', { error });
    }
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled frame ${JSON.stringify(value)}`);
}
