// One client per protocol under test, all with the same shape so the worker drives them alike:
// `open()`, `join(room)`, `send(room, text)`, `close()`, and `onText(text)` called for every room
// message received. Each client reads only what the measurement needs from a message.
import WebSocket from 'ws';
import { io } from 'socket.io-client';

const TEXT_FIELD = Buffer.from('"text":"');
const MESSAGE_TYPE = Buffer.from('"type":"message"');

/** chat.v1 (SPEC section 3); the gateway and bench/peers/uws-relay.mjs both speak it. */
export class ChatV1Client {
  #ws;
  #pendingJoins = new Map();

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
        else if (frame.type === 'error' && frame.ref?.startsWith('join:')) {
          this.#settleJoin(frame.ref.slice(5), new Error(`${frame.code}: ${frame.message}`));
        }
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

  send(room, text) {
    this.#ws.send(`{"type":"send","room":"${room}","text":"${text}"}`);
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

  send(room, text) {
    this.#socket.emit('send', { room, text });
  }

  close() {
    this.#socket?.disconnect();
  }
}

export const clientClasses = { 'chat.v1': ChatV1Client, 'socket.io': SocketIoClient };
