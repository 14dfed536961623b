// Steady traffic over the SDK (@chat/client/node), as an application would use it: each client is
// given every gateway URL (rotated, so user i starts on gateway i mod n), joins one room, and
// the first `sendersPerRoom` of each room post every `intervalMs`. What the SDK hands the
// application (`message` events and `joined.history`) goes to the Ledger.
import { createNodeClient } from '@chat/client/node';
import { textOf } from './ledger.mjs';
import { sleep } from './cluster.mjs';

export async function startSdkTraffic({ urls, ledger, members, roomSize = 10, sendersPerRoom = 2, intervalMs = 250, tag = 's' }) {
  const all = [];
  const rooms = new Map();
  for (let i = 0; i < members; i++) {
    const user = `${tag}${i}`;
    const room = `${tag}room${Math.floor(i / roomSize)}`;
    const order = [...urls.slice(i % urls.length), ...urls.slice(0, i % urls.length)];
    const client = createNodeClient({ url: order, user, backoff: { initialMs: 200, maxMs: 2000 }, requestTimeoutMs: 10_000, maxQueued: 1000 });
    client.on('message', (m) => ledger.received(user, m.room, m.id, m.text, Date.now()));
    client.on('joined', (j) => {
      const now = Date.now();
      if (j.gap) ledger.gap(user, j.room, false, now);
      for (const m of j.history) ledger.received(user, j.room, m.id, m.text, now);
    });
    all.push({ client, user, room, sender: i % roomSize < sendersPerRoom });
    rooms.set(user, [room]);
  }
  for (let i = 0; i < all.length; i += 50) {
    await Promise.all(all.slice(i, i + 50).map(async ({ client, room }) => { await client.connect(); await client.join(room); }));
  }
  let running = true;
  const inFlight = new Set();
  const post = ({ client, user, room }, mid) => {
    ledger.sent += 1;
    const sending = client.send(room, textOf(mid)).then(
      (id) => ledger.acked(mid, room, id),
      (error) => { ledger.failed += 1; ledger.errors[error.code ?? error.name] = (ledger.errors[error.code ?? error.name] ?? 0) + 1; },
    ).finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  };
  const loops = all.filter((m) => m.sender).map(async (entry, k) => {
    await sleep((k * 37) % intervalMs);
    for (let seq = 0; running && seq < 1_000_000; seq++) {
      post(entry, `${entry.user}.${seq}`);
      await sleep(intervalMs);
    }
  });
  return {
    all,
    rooms,
    roomNames: [...new Set(all.map((m) => m.room))],
    /** One send from every client on `node`, not awaited: sends in flight when the node dies. */
    burst(node) {
      for (const entry of all) if (entry.client.node === node) post(entry, `${entry.user}.burst`);
    },
    /** Resolves once no client is connected to `deadNode` any more (bounded), with the time it took. */
    async movedOff(deadNode, timeoutMs = 30_000) {
      const started = Date.now();
      const stuck = () => all.some(({ client }) => client.state !== 'connected' || client.node === deadNode);
      while (Date.now() - started < timeoutMs && stuck()) await sleep(50);
      return stuck() ? -1 : Date.now() - started;
    },
    async stop(settleMs = 1500) {
      running = false;
      await Promise.all(loops);
      await Promise.all([...inFlight]);
      await sleep(settleMs);
    },
    close() { for (const { client } of all) client.close(); },
  };
}
