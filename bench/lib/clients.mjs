// One client per protocol under test, all with the same shape so the worker drives them alike:
// `open()`, `join(room)`, `send(room, text, onAck?)`, `close()`, and `onText(text)` called for every
// room message received. `onAck(error)` is called once the server has taken the message (error null)
// or refused it; without it nobody waits for the answer. Each client reads only what the
// measurement needs from a message.
import WebSocket from 'ws';
import { io } from 'socket.io-client';

const TEXT_FIELD = Buffer.from('"text":"');
const MESSAGE_TYPE = Buffer.from('"type":"message"');

/** chat.v1 (docs/protocol.md#connect); the gateway and bench/peers/uws-relay.mjs both speak it. */
export class ChatV1Client {
  #ws;
  #pendingJoins = new Map();
  #pendingAcks = new Map();
  #nextRef = 0;

  constructor({ url, user, localAddress }) {
    this.url = `${url}?user=${encodeURIComponent(user)}`;
    this.localAddress = localAddress;
    this.onText = () => {};
  }

  open() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { localAddress: this.localAddress, perMessageDeflate: false });
      this.#ws = ws;
      ws.once('error', reject);
      ws.on('message', (data) => {
        if (data.indexOf(MESSAGE_TYPE) !== -1) {
          const start = data.indexOf(TEXT_FIELD) + TEXT_FIELD.length;
          this.onText(data.toString('latin1', start, start + 48));
          return;
        }
        const frame = JSON.parse(data.toString());
        if (frame.type === 'welcome') resolve();
        else if (frame.type === 'joined') this.#settleJoin(frame.room, null);
        else if (frame.type === 'ack') this.#settleAck(frame.ref, null);
        else if (frame.type === 'error' && frame.ref?.startsWith('join:')) {
          this.#settleJoin(frame.ref.slice(5), new Error(`${frame.code}: ${frame.message}`));
        } else if (frame.type === 'error') this.#settleAck(frame.ref, new Error(`${frame.code}: ${frame.message}`));
      });
    });
  }

  #settleJoin(room, error) {
    const pending = this.#pendingJoins.get(room);
    this.#pendingJoins.delete(room);
    if (pending) error ? pending.reject(error) : pending.resolve();
  }

  join(room) {
    return new Promise((resolve, reject) => {
      this.#pendingJoins.set(room, { resolve, reject });
      this.#ws.send(JSON.stringify({ type: 'join', room, ref: `join:${room}` }));
    });
  }

  #settleAck(ref, error) {
    const onAck = this.#pendingAcks.get(ref);
    this.#pendingAcks.delete(ref);
    onAck?.(error);
  }

  send(room, text, onAck) {
    if (!onAck) {
      this.#ws.send(`{"type":"send","room":"${room}","text":"${text}"}`);
      return;
    }
    const ref = `s${this.#nextRef++}`;
    this.#pendingAcks.set(ref, onAck);
    this.#ws.send(`{"type":"send","room":"${room}","text":"${text}","ref":"${ref}"}`);
  }

  close() {
    this.#ws?.terminate();
  }
}

/** Socket.IO 4 with the events of bench/peers/socketio-server.mjs, websocket transport only. */
export class SocketIoClient {
  #socket;

  constructor({ url, user, localAddress }) {
    this.url = url;
    this.user = user;
    this.localAddress = localAddress;
    this.onText = () => {};
  }

  open() {
    return new Promise((resolve, reject) => {
      const socket = io(this.url, {
        transports: ['websocket'],
        query: { user: this.user },
        reconnection: false,
        forceNew: true,
        timeout: 60_000,
        localAddress: this.localAddress,
        perMessageDeflate: false,
      });
      this.#socket = socket;
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
      socket.on('message', (message) => this.onText(message.text));
    });
  }

  join(room) {
    return new Promise((resolve) => this.#socket.emit('join', room, resolve));
  }

  send(room, text, onAck) {
    if (onAck) this.#socket.emit('send', { room, text }, () => onAck(null));
    else this.#socket.emit('send', { room, text });
  }

  close() {
    this.#socket?.disconnect();
  }
}

const PUSH_PREFIX = Buffer.from('{"push"');
const ID_PREFIX = Buffer.from('{"id":');
const NEWLINE = 0x0a;

/**
 * Centrifugo's bidirectional JSON protocol over WebSocket (connect, subscribe, publish, each a
 * command with an id answered by a reply with that id). A room is the channel `chat:<room>` of the
 * namespace bench/lib/systems.mjs configures. The server batches replies and pushes into one frame
 * as newline-delimited JSON, so every frame is read line by line; publications are read without
 * parsing (their `"text":"` field), replies are parsed only when a caller waits for them.
 */
export class CentrifugoClient {
  #ws;
  #nextId = 1;
  /** Command id → called with the parsed reply. */
  #pending = new Map();

  constructor({ url, localAddress }) {
    this.url = url;
    this.localAddress = localAddress;
    this.onText = () => {};
  }

  open() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { localAddress: this.localAddress, perMessageDeflate: false });
      this.#ws = ws;
      ws.once('error', reject);
      ws.on('message', (data) => this.#onFrame(data));
      ws.once('open', () => {
        this.#command('connect', {}, (reply) => {
          if (reply.connect) resolve();
          else reject(new Error(`connect refused: ${JSON.stringify(reply.error ?? reply)}`));
        });
      });
    });
  }

  #onFrame(data) {
    for (let start = 0; start < data.length;) {
      let end = data.indexOf(NEWLINE, start);
      if (end === -1) end = data.length;
      this.#onLine(data, start, end);
      start = end + 1;
    }
  }

  #onLine(data, start, end) {
    if (data.indexOf(PUSH_PREFIX, start) === start) {
      const at = data.indexOf(TEXT_FIELD, start);
      if (at !== -1 && at < end) {
        const textStart = at + TEXT_FIELD.length;
        this.onText(data.toString('latin1', textStart, Math.min(textStart + 48, end)));
      }
      return;
    }
    if (end - start === 2) {
      // `{}` is the server's ping; the connect reply asked for a pong, which is `{}` too.
      this.#ws.send('{}');
      return;
    }
    if (data.indexOf(ID_PREFIX, start) !== start) return;
    const id = parseInt(data.toString('latin1', start + ID_PREFIX.length, Math.min(start + ID_PREFIX.length + 12, end)), 10);
    const onReply = this.#pending.get(id);
    if (!onReply) return;
    this.#pending.delete(id);
    onReply(JSON.parse(data.toString('utf8', start, end)));
  }

  #command(method, params, onReply) {
    const id = this.#nextId++;
    if (onReply) this.#pending.set(id, onReply);
    this.#ws.send(`{"id":${id},"${method}":${JSON.stringify(params)}}`);
  }

  join(room) {
    return new Promise((resolve, reject) => {
      this.#command('subscribe', { channel: `chat:${room}` }, (reply) => {
        if (reply.subscribe) resolve();
        else reject(new Error(`subscribe refused: ${JSON.stringify(reply.error ?? reply)}`));
      });
    });
  }

  send(room, text, onAck) {
    const id = this.#nextId++;
    if (onAck) this.#pending.set(id, (reply) => onAck(reply.error ? new Error(JSON.stringify(reply.error)) : null));
    this.#ws.send(`{"id":${id},"publish":{"channel":"chat:${room}","data":{"text":"${text}"}}}`);
  }

  close() {
    this.#ws?.terminate();
  }
}

export const clientClasses = { 'chat.v1': ChatV1Client, 'socket.io': SocketIoClient, centrifugo: CentrifugoClient };
