// Steady traffic over WireMembers: `members` users spread over the gateways (user i on gateway
// i mod n), rooms of `roomSize`, the first `sendersPerRoom` of each room posting every
// `intervalMs`. Sends are not awaited (the member resends by itself), but each sender keeps at
// most `maxInFlight` unacked, so a fault cannot grow an unbounded backlog.
import WebSocket from 'ws';
import { WireMember } from './wire-member.mjs';
import { textOf } from './ledger.mjs';
import { sleep } from './cluster.mjs';

export async function startTraffic({ urls, ledger, members = 60, roomSize = 10, sendersPerRoom = 2, intervalMs = 200, maxInFlight = 20, padChars = 0, tag = 'w' }) {
  const all = [];
  const rooms = new Map();
  for (let i = 0; i < members; i++) {
    const user = `${tag}${i}`;
    const room = `${tag}room${Math.floor(i / roomSize)}`;
    const member = new WireMember({ urls, user, ledger, start: i });
    all.push({ member, room, sender: i % roomSize < sendersPerRoom });
    rooms.set(user, [room]);
  }
  for (let i = 0; i < all.length; i += 50) {
    await Promise.all(all.slice(i, i + 50).map(async ({ member, room }) => { await member.connect(); await member.join(room); }));
  }
  const pad = padChars > 0 ? ` ${'x'.repeat(padChars)}` : '';
  let running = true;
  const loops = all.filter((m) => m.sender).map(async ({ member, room }, k) => {
    await sleep((k * 37) % intervalMs);
    for (let seq = 0; running && seq < 1_000_000; seq++) {
      if (member.pendingCount < maxInFlight) void member.send(room, `${member.user}.${seq}`, `${textOf(`${member.user}.${seq}`)}${pad}`); // settles into the ledger
      await sleep(intervalMs);
    }
  });
  return {
    all,
    rooms,
    roomNames: [...new Set(all.map((m) => m.room))],
    /** Stops sending, waits (bounded) for every pending send to settle, then for deliveries. */
    async stop(settleMs = 1500, drainMs = 45_000) {
      running = false;
      await Promise.all(loops);
      const deadline = Date.now() + drainMs;
      while (Date.now() < deadline && all.some(({ member }) => member.pendingCount > 0)) await sleep(100);
      await sleep(settleMs);
    },
    close() { for (const { member } of all) member.close(); },
  };
}

/** Every message the room holds, oldest first, read through one gateway by paging `history`. */
export async function readHistory(url, room) {
  const ws = new WebSocket(`${url}?user=faults-reader`, { perMessageDeflate: false });
  const replies = new Map();
  ws.on('message', (data) => {
    const f = JSON.parse(String(data));
    if (f.ref !== undefined) replies.get(f.ref)?.(f);
  });
  const request = (frame) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply to ${frame.type} ${room}`)), 10_000);
    replies.set(frame.ref, (f) => { clearTimeout(timer); resolve(f); });
    ws.send(JSON.stringify(frame));
  });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  try {
    const joined = await request({ type: 'join', room, ref: 'j' });
    let messages = [...(joined.history ?? [])];
    for (let page = 0; page < 2000 && messages.length > 0; page++) {
      const reply = await request({ type: 'history', room, before: messages[0].id, limit: 100, ref: `h${page}` });
      if (reply.type !== 'history' || reply.messages.length === 0) break;
      messages = [...reply.messages, ...messages];
    }
    return messages;
  } finally {
    ws.terminate();
  }
}

export async function readAllHistory(url, roomNames) {
  const out = new Map();
  for (const room of roomNames) out.set(room, await readHistory(url, room));
  return out;
}
