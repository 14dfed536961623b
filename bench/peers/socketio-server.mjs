// The Socket.IO 4 peer: rooms over @socket.io/redis-adapter, websocket transport only. Events
// mirror the chat.v1 subset the driver needs: `join` (room, ack), `send` ({room, text}, ack({id}))
// and `message` to every member of the room, the sender included, on every node.
//
// Env: PORT (8095), REDIS_URL (redis://127.0.0.1:6379), NODE_ID (socketio-PORT).
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';

const port = Number(process.env.PORT ?? 8095);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const nodeId = process.env.NODE_ID ?? `socketio-${port}`;

const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const httpServer = createServer((req, res) => {
  res.writeHead(req.url === '/readyz' && pub.status === 'ready' ? 200 : 404).end();
});
const io = new Server(httpServer, {
  transports: ['websocket'],
  serveClient: false,
  adapter: createAdapter(pub, sub, { key: 'bench-sio' }),
});
let nextSeq = 0;

io.on('connection', (socket) => {
  const from = String(socket.handshake.query.user ?? socket.id);
  socket.on('join', (room, ack) => {
    socket.join(String(room));
    if (typeof ack === 'function') ack({ room });
  });
  socket.on('send', (frame, ack) => {
    const ts = Date.now();
    const id = `${ts}-${nextSeq++}`;
    io.to(frame.room).emit('message', { room: frame.room, id, from, text: frame.text, ts });
    if (typeof ack === 'function') ack({ id });
  });
});

httpServer.listen(port, '127.0.0.1', () => console.log(`socketio ${nodeId} listening on ${port}`));
process.on('SIGTERM', () => process.exit(0));
