// The ceiling of this stack: uWebSockets.js + ioredis and nothing else. It speaks the subset of
// chat.v1 the benchmark driver needs (welcome, join/joined, send/ack, message, ping/pong) so the
// same driver measures it and the gateway. No history, presence, validation, rate limit or metrics:
// each room message is one Redis PUBLISH, and every node with local members of that room relays it
// through a uWS topic. A node subscribes to a room's channel while it has members in it.
//
// Env: PORT (8090), REDIS_URL (redis://127.0.0.1:6379), NODE_ID (relay-PORT).
import uWS from 'uWebSockets.js';
import { Redis } from 'ioredis';

const port = Number(process.env.PORT ?? 8090);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const nodeId = process.env.NODE_ID ?? `relay-${port}`;
const channelPrefix = 'relay:room:';

const pub = new Redis(redisUrl);
const sub = new Redis(redisUrl);
const decoder = new TextDecoder();
let nextConn = 0;
let nextSeq = 0;

/** Rooms whose Redis subscription is pending or live, so joins wait for it before `joined`. */
const roomSubscriptions = new Map();

function subscribeRoom(room) {
  let pending = roomSubscriptions.get(room);
  if (!pending) {
    pending = sub.subscribe(channelPrefix + room);
    roomSubscriptions.set(room, pending);
  }
  return pending;
}

function unsubscribeRoom(room) {
  roomSubscriptions.delete(room);
  sub.unsubscribe(channelPrefix + room).catch(() => {});
}

const app = uWS.App();

sub.on('messageBuffer', (channel, payload) => {
  app.publish(channel.toString().slice(channelPrefix.length), payload, false);
});

function reply(ws, frame) {
  ws.send(JSON.stringify(frame), false);
}

function onJoin(ws, frame) {
  ws.subscribe(frame.room);
  subscribeRoom(frame.room).then(() => {
    if (!ws.getUserData().closed) {
      reply(ws, { type: 'joined', room: frame.room, members: [], history: [], gap: false, ref: frame.ref });
    }
  });
}

function onSend(ws, frame) {
  const ts = Date.now();
  const id = `${ts}-${nextSeq++}`;
  const message = { type: 'message', room: frame.room, id, from: ws.getUserData().user, text: frame.text, ts };
  pub.publish(channelPrefix + frame.room, JSON.stringify(message));
  reply(ws, { type: 'ack', ref: frame.ref, id });
}

app.ws('/ws', {
  idleTimeout: 60,
  sendPingsAutomatically: true,
  maxPayloadLength: 65536,
  maxBackpressure: 1024 * 1024,
  upgrade: (res, req, context) => {
    const user = req.getQuery('user') || `guest-${nextConn}`;
    res.upgrade(
      { user, conn: `${nodeId}-${nextConn++}`, closed: false },
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'),
      context,
    );
  },
  open: (ws) => {
    const { user, conn } = ws.getUserData();
    reply(ws, { type: 'welcome', user, conn, node: nodeId, heartbeat: 25000 });
  },
  message: (ws, data) => {
    const frame = JSON.parse(decoder.decode(data));
    if (frame.type === 'join') onJoin(ws, frame);
    else if (frame.type === 'send') onSend(ws, frame);
    else if (frame.type === 'ping') reply(ws, { type: 'pong', ts: Date.now(), ref: frame.ref });
  },
  subscription: (ws, topic, newCount) => {
    if (newCount === 0) unsubscribeRoom(Buffer.from(topic).toString());
  },
  close: (ws) => {
    ws.getUserData().closed = true;
  },
});

app.get('/readyz', (res) => {
  res.end(pub.status === 'ready' && sub.status === 'ready' ? 'ok' : 'not ready');
});

app.listen('127.0.0.1', port, (listenSocket) => {
  if (!listenSocket) {
    console.error(`uws-relay: cannot listen on ${port}`);
    process.exit(1);
  }
  console.log(`uws-relay ${nodeId} listening on ${port}`);
});

process.on('SIGTERM', () => process.exit(0));
