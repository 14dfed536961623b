/**
 * A scripted stand-in for a gateway, for fast and deterministic tests of the SDK's own logic
 * (resume, dedup, failover, token refresh, heartbeat, resends by mid). It exists beside the tests against real
 * gateways on real Redis (client.cluster.test.ts), never instead of them: it speaks just enough
 * chat.v1 to drive the client, and nodes built on one FakeRooms share rooms like a cluster.
 * Extend it by adding a case to handle(), or a knob to FakeGatewayOptions.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import {
  compareIds, ErrorCode, SUBPROTOCOL, type ChatMessage, type ClientFrame, type DirectFrame, type SendFrame, type ServerFrame,
} from '@chat/protocol';

/** The rooms of one fake cluster, shared by its nodes. */
export class FakeRooms {
  readonly messages = new Map<string, ChatMessage[]>();
  readonly nodes = new Set<FakeGateway>();
  /** What the real bus keeps for IDEMPOTENCY_SECONDS: the id stored for each (room, user, mid) or (from, to, mid). */
  readonly mids = new Map<string, string>();
  /** `room/user` -> the read marker (an id the room holds) */
  readonly markers = new Map<string, string>();
  #ms = 1_700_000_000_000;
  #directs = 0;

  /** Delivers a direct message to every connection of `to` and every other one of `from`, on every node. */
  direct(from: string, to: string, text: string, sender: WebSocket): string | undefined {
    const peers = [...this.nodes].flatMap((node) => node.peersOf(to, from, sender));
    if (!peers.some((p) => p.user === to)) return undefined;
    const id = `d${++this.#directs}`;
    for (const peer of peers) peer.socket.send(JSON.stringify({ type: 'direct', id, from, to, text, ts: this.#ms }));
    return id;
  }

  /** Where `user`'s marker of `room` stands, as a `joined` or `read` frame gives it. */
  position(room: string, user: string): { id: string | null; unread: number } {
    const all = this.messages.get(room) ?? [];
    const id = this.markers.get(`${room}/${user}`) ?? null;
    return { id, unread: id === null ? all.length : all.filter((m) => compareIds(m.id, id) > 0).length };
  }

  /** Moves the marker forward to the newest message at or before `id`; true when it moved. */
  mark(room: string, user: string, id: string): boolean {
    const target = (this.messages.get(room) ?? []).findLast((m) => compareIds(m.id, id) <= 0)?.id;
    const current = this.markers.get(`${room}/${user}`);
    if (target === undefined || (current !== undefined && compareIds(target, current) <= 0)) return false;
    this.markers.set(`${room}/${user}`, target);
    return true;
  }

  /** A frame to every connection, on every node, that `match` picks. */
  broadcast(frame: ServerFrame, match: (peer: { user: string; rooms: Set<string>; socket: WebSocket }) => boolean): void {
    for (const node of this.nodes) node.sendWhere(frame, match);
  }

  publish(room: string, from: string, text: string): ChatMessage {
    const list = this.messages.get(room) ?? [];
    const message: ChatMessage = { type: 'message', room, id: `${this.#ms}-${list.length}`, from, text, ts: this.#ms };
    list.push(message);
    this.messages.set(room, list);
    for (const node of this.nodes) node.deliver(message);
    return message;
  }
}

export interface FakeGatewayOptions {
  node: string;
  rooms?: FakeRooms;
  /** Default 0 (any free port); a fixed one brings a stopped node back at its old URL. */
  port?: number;
  heartbeatMs?: number;
  /** Only these tokens are accepted (anything else is refused with HTTP 401); unset: auth off. */
  validTokens?: Set<string>;
  /** Answers a join with this error code instead of `joined`, when it returns one. */
  refuseJoin?: (room: string) => ErrorCode | undefined;
  /** Replays also the `since` message itself, and re-sends each live message: the client must drop both. */
  duplicate?: boolean;
  /** Scripts a fault for the n-th frame (1-based) this node receives with a given `mid`. */
  onSend?: (frame: SendFrame | DirectFrame, attempt: number) => SendFault | undefined;
}

/**
 * What the fake does with one send or direct instead of storing and acking it:
 * - `{ error }`: answers that error code; nothing is stored (as `unavailable` after a failed write).
 * - `ignore`: neither stores nor answers (a reply lost, or a bus timeout without an answer).
 * - `drop`: cuts the connection without storing (the frame died with the connection).
 * - `store-then-drop`: stores and delivers it, then cuts the connection before the ack.
 */
export type SendFault = { error: ErrorCode } | 'ignore' | 'drop' | 'store-then-drop';

interface Peer {
  socket: WebSocket;
  /** Cut by the fake: frames still buffered from it are not handled, as on a dead connection. */
  cut: boolean;
  user: string;
  token: string | undefined;
  rooms: Set<string>;
}

export class FakeGateway {
  readonly rooms: FakeRooms;
  readonly received: ClientFrame[] = [];
  readonly #peers = new Set<Peer>();
  readonly #server: WebSocketServer;
  readonly #attempts = new Map<string, number>();
  #silent = false;

  private constructor(readonly options: FakeGatewayOptions, server: WebSocketServer) {
    this.rooms = options.rooms ?? new FakeRooms();
    this.rooms.nodes.add(this);
    this.#server = server;
    server.on('connection', (socket, request) => this.#accept(socket, new URL(request.url ?? '/', 'ws://x')));
  }

  static async start(options: FakeGatewayOptions): Promise<FakeGateway> {
    const server = new WebSocketServer({
      host: '127.0.0.1', port: options.port ?? 0,
      handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
      verifyClient: ({ req }, done) => {
        const token = new URL(req.url ?? '/', 'ws://x').searchParams.get('token');
        done(options.validTokens === undefined || (token !== null && options.validTokens.has(token)), 401);
      },
    });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return new FakeGateway(options, server);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.#server.address() as AddressInfo).port}/ws`;
  }

  get connections(): number {
    return this.#peers.size;
  }

  /** Stops answering anything, as a node cut off without a FIN would. */
  goSilent(): void {
    this.#silent = true;
  }

  /** Closes every connection with this code (1001 draining, 4401 token expired). */
  closeAll(code: number, reason = ''): void {
    for (const peer of this.#peers) peer.socket.close(code, reason);
  }

  /** Drops every connection without a close frame, as a killed node does. */
  dropAll(): void {
    for (const peer of this.#peers) peer.socket.terminate();
  }

  /** The connections a direct from `from` to `to` reaches on this node, other than the sender's. */
  peersOf(to: string, from: string, sender: WebSocket): { user: string; socket: WebSocket }[] {
    return [...this.#peers].filter((p) => p.socket !== sender && (p.user === to || p.user === from));
  }

  sendWhere(frame: ServerFrame, match: (peer: Peer) => boolean): void {
    for (const peer of this.#peers) if (match(peer)) this.#send(peer, frame);
  }

  deliver(message: ChatMessage): void {
    for (const peer of this.#peers) {
      if (!peer.rooms.has(message.room)) continue;
      this.#send(peer, message);
      if (this.options.duplicate) this.#send(peer, message);
    }
  }

  async stop(): Promise<void> {
    this.rooms.nodes.delete(this);
    this.dropAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: WebSocket, url: URL): void {
    const peer: Peer = { socket, cut: false, user: url.searchParams.get('user') ?? 'guest-0001', token: url.searchParams.get('token') ?? undefined, rooms: new Set() };
    if (peer.token !== undefined) peer.user = peer.token.split(':')[0] ?? 'guest';
    this.#peers.add(peer);
    socket.on('close', () => this.#peers.delete(peer));
    socket.on('message', (data) => {
      if (this.#silent || peer.cut) return;
      const frame = JSON.parse(String(data)) as ClientFrame;
      this.received.push(frame);
      this.#handle(peer, frame);
    });
    this.#send(peer, { type: 'welcome', user: peer.user, conn: `c${this.#peers.size}`, node: this.options.node, heartbeat: this.options.heartbeatMs ?? 25_000 });
  }

  #handle(peer: Peer, frame: ClientFrame): void {
    const ref = frame.ref === undefined ? {} : { ref: frame.ref };
    switch (frame.type) {
      case 'join': {
        const refusal = this.options.refuseJoin?.(frame.room);
        if (refusal !== undefined) return this.#send(peer, { type: 'error', code: refusal, message: 'refused', ...ref });
        peer.rooms.add(frame.room);
        const all = this.rooms.messages.get(frame.room) ?? [];
        const since = frame.since;
        const history = since === undefined ? all.slice(-50) : all.filter((m) => compareIds(m.id, since) >= (this.options.duplicate ? 0 : 1));
        return this.#send(peer, { type: 'joined', room: frame.room, members: [peer.user], history, gap: false, ...this.#readFields(frame.room, peer.user), ...ref });
      }
      case 'leave':
        peer.rooms.delete(frame.room);
        return this.#send(peer, { type: 'left', room: frame.room, ...ref });
      case 'send':
        if (!peer.rooms.has(frame.room)) return this.#send(peer, { type: 'error', code: ErrorCode.NotJoined, message: 'join first', ...ref });
        return this.#store(peer, frame, `${frame.room}/${peer.user}/${frame.mid}`,
          () => this.rooms.publish(frame.room, peer.user, frame.text).id);
      case 'direct':
        return this.#store(peer, frame, `${peer.user}->${frame.to}/${frame.mid}`,
          () => this.rooms.direct(peer.user, frame.to, frame.text, peer.socket));
      case 'history':
        return this.#send(peer, { type: 'history', room: frame.room, messages: [], ...ref });
      case 'ping':
        return this.#send(peer, { type: 'pong', ts: Date.now(), ...ref });
      case 'typing': {
        const event: ServerFrame = { type: 'typing', room: frame.room, user: peer.user, ttl: frame.state === 'stop' ? 0 : 5000 };
        return this.rooms.broadcast(event, (p) => p.user !== peer.user && p.rooms.has(frame.room));
      }
      case 'read': {
        const moved = this.rooms.mark(frame.room, peer.user, frame.id);
        const position = this.rooms.position(frame.room, peer.user);
        this.#send(peer, { type: 'read', room: frame.room, ...position, ...ref });
        if (moved) this.rooms.broadcast({ type: 'read', room: frame.room, ...position }, (p) => p.user === peer.user && p.socket !== peer.socket);
        return;
      }
    }
  }

  /** Stores a send or direct once per mid, as the real bus does, unless onSend scripts a fault. */
  #store(peer: Peer, frame: SendFrame | DirectFrame, key: string, store: () => string | undefined): void {
    const ref = frame.ref === undefined ? {} : { ref: frame.ref };
    const attempt = (this.#attempts.get(frame.mid ?? '') ?? 0) + 1;
    if (frame.mid !== undefined) this.#attempts.set(frame.mid, attempt);
    const fault = this.options.onSend?.(frame, attempt);
    if (fault === 'ignore') return;
    if (fault === 'drop') return this.#cut(peer);
    if (typeof fault === 'object') return this.#send(peer, { type: 'error', code: fault.error, message: 'scripted', ...ref });
    const first = frame.mid === undefined ? undefined : this.rooms.mids.get(key);
    if (first !== undefined) return this.#send(peer, { type: 'ack', id: first, duplicate: true, ...ref });
    const id = store();
    if (id === undefined) return this.#send(peer, { type: 'error', code: ErrorCode.UserOffline, message: 'offline', ...ref });
    if (frame.mid !== undefined) this.rooms.mids.set(key, id);
    if (fault === 'store-then-drop') return this.#cut(peer);
    this.#send(peer, { type: 'ack', id, ...ref });
  }

  #readFields(room: string, user: string): { read: string | null; unread: number } {
    const { id, unread } = this.rooms.position(room, user);
    return { read: id, unread };
  }

  #cut(peer: Peer): void {
    peer.cut = true;
    peer.socket.terminate();
  }

  #send(peer: Peer, frame: ServerFrame): void {
    peer.socket.send(JSON.stringify(frame));
  }
}
