import {
  isMessageId, isMid, isValidName, type ChatMessage, type LeftFrame, type ModerationAction, type ServerFrame, type WelcomeFrame,
} from '@chat/protocol';
import { Backoff } from './backoff.js';
import type { ChatClientOptions } from './client-options.js';
import { DEFAULT_SEND_TIMEOUT_MS, MidSource, type SendOptions, type Sent } from './delivery.js';
import { Emitter, type Listener } from './emitter.js';
import { Endpoints } from './endpoints.js';
import { ChatClientError, ClientClosedError, DisconnectedError, InvalidIdError, InvalidMidError, InvalidNameError } from './errors.js';
import type { ClientEvents, ConnectionState, ReadState, StatusChange } from './events.js';
import { Link, type Down } from './link.js';
import { Outbox, type Reply, type Request } from './outbox.js';
import { RecentIds } from './recent-ids.js';
import { RoomJoins } from './room-joins.js';
import type { RoomJoined } from './rooms.js';
import { asMessage } from './server-frames.js';
import { resolveWebSocket } from './socket.js';
import { TokenKeeper } from './token.js';
import { DEFAULT_TYPING_INTERVAL_MS, TypingState } from './typing.js';

/**
 * A chat.v1 client that keeps itself connected. It rejoins its rooms after every reconnect with
 * `since` = the last id seen, hands each message id to the application at most once, queues
 * requests made while disconnected, and resends every `send` and `direct` with its `mid` until it
 * is acked, so that none is lost or posted twice (see Outbox). Every request settles by its reply,
 * a final error or a deadline. Runs in browsers and in Node; it imports nothing but @chat/protocol.
 */
export class ChatClient {
  readonly #events = new Emitter<ClientEvents>();
  readonly #joins: RoomJoins;
  readonly #directs = new RecentIds(1000);
  readonly #outbox: Outbox;
  readonly #mids = new MidSource();
  readonly #link: Link;
  readonly #timeoutMs: number;
  readonly #typing: TypingState;
  /** The last member count of each large room joined (presenceCount events). */
  readonly #counts = new Map<string, number>();
  #state: ConnectionState = 'idle';
  #welcome: WelcomeFrame | undefined;
  #url: string | undefined;
  /** Why the client stopped, once it has: what connect() and later requests reject with. */
  #ended: ChatClientError | undefined;

  constructor(options: ChatClientOptions) {
    if (options.user !== undefined && !isValidName(options.user)) throw new InvalidNameError('user', options.user);
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#typing = new TypingState(options.typingIntervalMs ?? DEFAULT_TYPING_INTERVAL_MS);
    this.#outbox = new Outbox({
      maxQueued: options.maxQueued ?? 100,
      timeoutMs: this.#timeoutMs,
      sendTimeoutMs: options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS,
      wake: () => this.#flush(),
      held: (hold) => this.#events.emit('held', hold),
    });
    this.#joins = new RoomJoins((frame) => this.#link.send(frame), () => this.#link.isUp, this.#timeoutMs);
    this.#link = new Link({
      endpoints: new Endpoints(options.url),
      user: options.user,
      tokens: new TokenKeeper(options.token, options.getToken, options.tokenRefreshMarginMs ?? 30_000),
      WebSocket: resolveWebSocket(options.WebSocket),
      backoff: new Backoff(options.backoff),
      stableMs: options.stableMs ?? 10_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      heartbeatMs: options.heartbeatMs,
    }, {
      connecting: (url, attempt) => this.#setState({ state: this.#welcome ? 'reconnecting' : 'connecting', url, attempt }),
      up: (welcome, url) => this.#onUp(welcome, url),
      frame: (frame) => this.#onFrame(frame),
      down: (down) => this.#onDown(down),
      ended: (code, reason) => this.#onEnded(code, reason),
    });
  }

  on<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): () => void {
    return this.#events.on(event, listener);
  }

  off<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): void {
    this.#events.off(event, listener);
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The node of the current connection, or undefined while not connected. */
  get node(): string | undefined {
    return this.#state === 'connected' ? this.#welcome?.node : undefined;
  }

  /** The identity the server gave this client (from the last `welcome`). */
  get user(): string | undefined {
    return this.#welcome?.user;
  }

  get url(): string | undefined {
    return this.#url;
  }

  /** The rooms wanted, joined or being (re)joined. */
  rooms(): string[] {
    return this.#joins.rooms.names();
  }

  /** Members of a joined room, kept current by presence events. */
  members(room: string): string[] {
    return this.#joins.rooms.members(room);
  }

  /** A large room's member count, as its last `presenceCount` event (or `joined.count`) said; undefined for a small room. */
  memberCount(room: string): number | undefined {
    return this.#counts.get(room);
  }

  /** The id of the last message of the room handed to the application. */
  lastId(room: string): string | undefined {
    return this.#joins.rooms.lastId(room);
  }

  /** Starts connecting; resolves at the first `welcome`. Attempts go on until close() or a 4403 close (`ended`). */
  connect(): Promise<WelcomeFrame> {
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    if (this.#welcome !== undefined && this.#state === 'connected') return Promise.resolve(this.#welcome);
    const welcomed = new Promise<WelcomeFrame>((resolve, reject) => {
      const offWelcome = this.#events.once('welcome', (w) => { offStatus(); resolve(w); });
      const offStatus = this.#events.on('status', (s) => {
        if (s.state === 'closed') { offWelcome(); offStatus(); reject(this.#closedError()); }
      });
    });
    this.#link.start();
    return welcomed;
  }

  /**
   * Joins the room now or at the next connection, and keeps it joined across reconnects. With
   * `since` (the last id the application saw, kept across a page reload), the first join resumes
   * from it: `history` is exactly the messages after it, with `gap` when they are not all kept.
   * Ignored when the room is already wanted.
   */
  join(room: string, options: { since?: string } = {}): Promise<RoomJoined> {
    if (!isValidName(room)) return Promise.reject(new InvalidNameError('room', room));
    if (options.since !== undefined && !isMessageId(options.since)) return Promise.reject(new InvalidIdError('since', options.since));
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    return this.#joins.want(room, options.since);
  }

  /** Leaves the room; its messages stop at once, and its last-seen id is forgotten. */
  async leave(room: string): Promise<void> {
    if (!this.#joins.rooms.has(room)) return;
    this.#typing.forget(room);
    this.#joins.forget(room, new ClientClosedError(`left room ${room}`));
    if (this.#link.isUp) await this.#request({ type: 'leave', room });
  }

  /**
   * Posts to a room, exactly once: the frame carries a `mid` and is resent with it until acked
   * (after `unavailable`, `rate_limited`, a reply timeout, a reconnect: then once the room is joined
   * again, in call order). Resolves with the ack; rejects with ServerError for a final refusal
   * (`not_joined`, `too_large`, `forbidden`...) or SendTimeoutError after `sendTimeoutMs`.
   */
  async send(room: string, text: string, options: SendOptions = {}): Promise<Sent> {
    if (!isValidName(room)) throw new InvalidNameError('room', room);
    const mid = this.#mid(options);
    return sent(await this.#request({ type: 'send', room, text, mid }, room), mid);
  }

  /** Sends a direct message, exactly once as send() does; rejects with ServerError `user_offline` when the user is not online. */
  async direct(to: string, text: string, options: SendOptions = {}): Promise<Sent> {
    if (!isValidName(to)) throw new InvalidNameError('user', to);
    const mid = this.#mid(options);
    return sent(await this.#request({ type: 'direct', to, text, mid }), mid);
  }

  /**
   * Changes the text of message `id` (this user's own), exactly once as send() does. Resolves with
   * the ack: `id` is the edit's own id. Rejects with ServerError `forbidden` (not the author),
   * `not_found` (no such message in the room's history, or deleted), `too_large`.
   */
  async edit(room: string, id: string, text: string, options: SendOptions = {}): Promise<Sent> {
    if (!isValidName(room)) throw new InvalidNameError('room', room);
    if (!isMessageId(id)) throw new InvalidIdError('id', id);
    const mid = this.#mid(options);
    return sent(await this.#request({ type: 'edit', room, id, text, mid }, room), mid);
  }

  /** Deletes message `id` (this user's own), leaving a tombstone, exactly once as send() does; refusals as edit(). */
  async remove(room: string, id: string, options: SendOptions = {}): Promise<Sent> {
    if (!isValidName(room)) throw new InvalidNameError('room', room);
    if (!isMessageId(id)) throw new InvalidIdError('id', id);
    const mid = this.#mid(options);
    return sent(await this.#request({ type: 'delete', room, id, mid }, room), mid);
  }

  /**
   * Adds (`on`, the default) or removes this user's reaction `emoji` (an emoji, or a name matching
   * `^[a-z0-9_+-]{1,32}$`) to message `id`, exactly once as send() does. A reaction already as asked
   * resolves with `unchanged` (nothing stored). Rejects with ServerError `not_found`,
   * `too_many_reactions` (the message has MAX_REACTIONS different ones) or `bad_request` (the emoji).
   */
  async react(room: string, id: string, emoji: string, on = true, options: SendOptions = {}): Promise<Sent> {
    if (!isValidName(room)) throw new InvalidNameError('room', room);
    if (!isMessageId(id)) throw new InvalidIdError('id', id);
    const mid = this.#mid(options);
    return sent(await this.#request({ type: 'react', room, id, emoji, on, mid }, room), mid);
  }

  /** Older messages of a joined room, oldest first (at most 100 per call): pass `before` = the oldest id shown. */
  async history(room: string, page: { before?: string; limit?: number } = {}): Promise<ChatMessage[]> {
    const frame: Request = { type: 'history', room, ...page };
    return expect(await this.#request(frame, room), 'history').messages.map(asMessage);
  }

  /**
   * Tells the room's other members that this user is typing: call it on every keystroke, it goes
   * out at most once per `typingIntervalMs`. Ephemeral: false (and nothing queued) when the room is
   * not joined on a live connection, or when the throttle held it back.
   */
  typing(room: string): boolean {
    if (!this.#canSignal(room) || !this.#typing.shouldSend(room)) return false;
    return this.#link.send({ type: 'typing', room });
  }

  /** The user stopped typing (sent the text, cleared the field): members stop showing it at once. False when there was nothing to stop. */
  stopTyping(room: string): boolean {
    if (!this.#canSignal(room) || !this.#typing.shouldStop(room)) return false;
    return this.#link.send({ type: 'typing', room, state: 'stop' });
  }

  /** The other members typing in a joined room now (their `ttl` not run out), sorted. */
  typers(room: string): string[] {
    return this.#typing.typers(room);
  }

  /**
   * Marks the room read up to message `id` (markers only move forward: an older id leaves it as it
   * is). Resolves with where the marker stands and how many messages follow it; this user's other
   * connections get the same as a `read` event.
   */
  async markRead(room: string, id: string): Promise<ReadState> {
    if (!isValidName(room)) throw new InvalidNameError('room', room);
    if (!isMessageId(id)) throw new InvalidIdError('id', id);
    const read = expect(await this.#request({ type: 'read', room, id }, room), 'read');
    return { room: read.room, id: read.id, unread: read.unread };
  }

  // ---- moderation and large rooms: each rejects with ServerError `forbidden` unless this user moderates the room ----

  /** Ends the user's membership of the room on all its connections (it may join again). */
  kick(room: string, user: string): Promise<void> {
    return this.#moderate({ type: 'kick', room, user });
  }

  /** Bans the user from the room, for `seconds` or (without) until unban(); ends its membership too. */
  ban(room: string, user: string, options: { seconds?: number; reason?: string } = {}): Promise<void> {
    return this.#moderate({ type: 'ban', room, user, ...options });
  }

  unban(room: string, user: string): Promise<void> {
    return this.#moderate({ type: 'unban', room, user });
  }

  /** The user may read the room but not send to it, for `seconds` or (without) until unmute(). */
  mute(room: string, user: string, options: { seconds?: number } = {}): Promise<void> {
    return this.#moderate({ type: 'mute', room, user, ...options });
  }

  unmute(room: string, user: string): Promise<void> {
    return this.#moderate({ type: 'unmute', room, user });
  }

  /** One message per `seconds` per member (0: off); moderators are exempt. */
  slowMode(room: string, seconds: number): Promise<void> {
    return this.#moderate({ type: 'slowmode', room, seconds });
  }

  /**
   * One page of a joined room's members, sorted by name (the way to list a large room): pass the
   * `next` of a page as `after` to get the following one; `next` is absent on the last page.
   */
  async memberPage(room: string, page: { after?: string; limit?: number } = {}): Promise<{ members: string[]; next?: string }> {
    if (!isValidName(room)) throw new InvalidNameError('room', room);
    if (page.after !== undefined && !isValidName(page.after)) throw new InvalidNameError('user', page.after);
    const reply = expect(await this.#request({ type: 'members', room, ...page }, room), 'members');
    return reply.next === undefined ? { members: reply.members } : { members: reply.members, next: reply.next };
  }

  async #moderate(frame: Request & { type: ModerationAction; room: string; user?: string }): Promise<void> {
    if (!isValidName(frame.room)) throw new InvalidNameError('room', frame.room);
    if (frame.user !== undefined && !isValidName(frame.user)) throw new InvalidNameError('user', frame.user);
    expect(await this.#request(frame), 'moderated');
  }

  /** Round trip to the node, in ms. */
  async ping(): Promise<number> {
    const started = Date.now();
    expect(await this.#request({ type: 'ping' }), 'pong');
    return Date.now() - started;
  }

  /** Stops everything: the connection, every timer, and every pending promise (ClientClosedError). */
  close(): void {
    if (this.#state === 'closed') return;
    this.#link.stop();
    const closed = new ClientClosedError();
    this.#joins.stop(closed);
    this.#outbox.rejectAll(closed);
    this.#setState({ state: 'closed' });
    this.#events.removeAll();
  }

  #mid(options: SendOptions): string {
    if (options.mid === undefined) return this.#mids.next();
    if (!isMid(options.mid)) throw new InvalidMidError(options.mid);
    return options.mid;
  }

  /** Ephemeral frames are never queued: they make sense on a live connection in a joined room only. */
  #canSignal(room: string): boolean {
    return this.#state === 'connected' && this.#link.isUp && this.#joins.rooms.isJoined(room);
  }

  #closedError(): ChatClientError {
    return this.#ended ?? new ClientClosedError();
  }

  #request(frame: Request, room?: string): Promise<Reply> {
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    const reply = this.#outbox.request(frame, room);
    this.#flush();
    return reply;
  }

  #flush(): void {
    this.#outbox.flush(
      (frame) => this.#link.send(frame),
      (room) => room === undefined || !this.#joins.rooms.has(room) || this.#joins.rooms.isJoined(room),
    );
  }

  #onUp(welcome: WelcomeFrame, url: string): void {
    this.#welcome = welcome;
    this.#url = url;
    this.#setState({ state: 'connected', node: welcome.node, url });
    this.#events.emit('welcome', welcome);
    this.#joins.joinAll();
    this.#flush();
  }

  #onDown(down: Down): void {
    this.#joins.disconnected();
    this.#outbox.connectionLost();
    if (down.wasUp) this.#events.emit('disconnected', down);
    this.#setState({
      state: this.#welcome ? 'reconnecting' : 'connecting',
      url: down.nextUrl, code: down.code, reason: down.reason, retryInMs: down.retryInMs,
    });
  }

  /** Close 4403: the session is over. Everything pending fails with DisconnectedError; nothing reconnects. */
  #onEnded(code: number, reason: string): void {
    const error = new DisconnectedError(reason);
    this.#ended = error;
    this.#joins.stop(error);
    this.#outbox.rejectAll(error);
    this.#setState({ state: 'closed', code, reason });
    this.#events.emit('ended', { code, reason, error });
  }

  #onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'welcome':
        return; // a second welcome on one connection carries nothing new
      case 'joined': {
        const joined = this.#joins.joined(frame);
        if (joined === undefined) return;
        if (joined.count === undefined) this.#counts.delete(joined.room);
        else this.#counts.set(joined.room, joined.count);
        this.#events.emit('joined', joined);
        if (joined.gap) this.#events.emit('gap', { room: joined.room });
        this.#flush();
        return;
      }
      case 'message':
        this.#typing.onMessage(frame.room, frame.from);
        if (this.#joins.rooms.accept(frame)) this.#events.emit('message', frame);
        return;
      case 'edit':
        if (this.#joins.rooms.accept(frame)) this.#events.emit('edit', frame);
        return;
      case 'delete':
        if (this.#joins.rooms.accept(frame)) this.#events.emit('delete', frame);
        return;
      case 'reaction':
        if (this.#joins.rooms.accept(frame)) this.#events.emit('reaction', frame);
        return;
      case 'typing':
        if (!this.#joins.rooms.has(frame.room)) return;
        this.#typing.onTyping(frame);
        this.#events.emit('typing', frame);
        return;
      case 'receipt':
        if (this.#joins.rooms.has(frame.room)) this.#events.emit('receipt', frame);
        return;
      case 'read':
        // The reply to markRead() carries its ref; the same frame from another connection has none.
        if (frame.ref !== undefined) this.#outbox.settle(frame);
        this.#events.emit('read', { room: frame.room, id: frame.id, unread: frame.unread });
        return;
      case 'direct':
        if (this.#directs.add(frame.id)) this.#events.emit('direct', frame);
        return;
      case 'presence':
        if ('count' in frame) {
          if (this.#joins.rooms.has(frame.room)) {
            this.#counts.set(frame.room, frame.count);
            this.#events.emit('presenceCount', frame);
          }
        } else if (this.#joins.rooms.onPresence(frame)) this.#events.emit('presence', frame);
        return;
      case 'moderation':
        if (this.#joins.rooms.has(frame.room)) this.#events.emit('moderation', frame);
        return;
      case 'moderated':
      case 'members':
        this.#outbox.settle(frame);
        return;
      case 'left':
        if (frame.reason !== undefined) this.#removed(frame);
        else this.#settleReply(frame);
        return;
      case 'ack':
      case 'history':
      case 'pong':
        this.#settleReply(frame);
        return;
      case 'error': {
        if (this.#outbox.settle(frame)) return;
        const refusal = this.#joins.refused(frame);
        if (refusal === undefined) this.#events.emit('error', frame);
        else if (!refusal.retrying) this.#events.emit('error', { ...frame, room: refusal.room });
        return;
      }
      default:
        assertNever(frame);
    }
  }

  /** A moderator took this user out of a room: it is no longer wanted, and its waiters learn why. */
  #removed(frame: LeftFrame): void {
    this.#typing.forget(frame.room);
    this.#counts.delete(frame.room);
    this.#joins.forget(frame.room, new ChatClientError('protocol', `${frame.reason} from room ${frame.room}`));
    this.#events.emit('left', frame);
  }

  #settleReply(frame: Extract<ServerFrame, { type: 'left' | 'ack' | 'history' | 'pong' }>): void {
    this.#outbox.settle(frame);
    this.#emitReply(frame);
  }

  #emitReply(frame: Extract<ServerFrame, { type: 'left' | 'ack' | 'history' | 'pong' }>): void {
    if (frame.type === 'left') this.#events.emit('left', frame);
    else if (frame.type === 'ack') this.#events.emit('ack', frame);
    else if (frame.type === 'history') this.#events.emit('history', frame);
    else this.#events.emit('pong', frame);
  }

  #setState(change: StatusChange): void {
    this.#state = change.state;
    this.#events.emit('status', change);
  }
}

function sent(reply: Reply, mid: string): Sent {
  const ack = expect(reply, 'ack');
  return ack.unchanged === true ? { id: ack.id, duplicate: false, unchanged: true, mid } : { id: ack.id, duplicate: ack.duplicate === true, mid };
}

function expect<T extends Reply['type']>(reply: Reply, type: T): Extract<Reply, { type: T }> {
  if (reply.type !== type) throw new ChatClientError('protocol', `expected a "${type}" reply, got "${reply.type}"`);
  return reply as Extract<Reply, { type: T }>;
}

function assertNever(value: never): never {
  throw new Error(`unhandled server frame ${JSON.stringify(value)}`);
}
