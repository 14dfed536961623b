// What moderation adds to every send: the check a gateway makes before publishing (banned? muted?
// slow mode?), against the room's rules cached on the node, measured in process on the embedded
// backend. Prints ns per check, and for scale the cost of a whole send through the core.
//
//   npm run build --silent && node bench/send-check.mjs
import { coreOnMemory, settle } from '../services/gateway/dist/testing-core.js';

const { gateway, connect, stop } = coreOnMemory({ RATE_LIMIT: '1000000' });
const { session } = connect('ann');
gateway.receive(session, JSON.stringify({ type: 'join', room: 'lobby' }));
await settle();
// A room with rules to check: someone else banned and muted, slow mode off.
await gateway.moderation.store.restrict('lobby', 'bans', 'zed', 0, 'spam');
await gateway.moderation.store.restrict('lobby', 'mutes', 'yan', 0, '');
gateway.moderation.invalidate('lobby');
await gateway.moderation.refuseSend(session, 'lobby'); // caches the rules

for (const round of [1, 2, 3]) {
  const checks = 1_000_000;
  let started = process.hrtime.bigint();
  let waited = 0;
  for (let i = 0; i < checks; i++) {
    const verdict = gateway.moderation.refuseSend(session, 'lobby');
    if (verdict instanceof Promise) {
      waited += 1;
      await verdict;
    }
  }
  if (waited > 0) throw new Error(`${waited} checks were not decided at once: the rules were not cached`);
  const checkNs = Number(process.hrtime.bigint() - started) / checks;

  const sends = 50_000;
  session.conn.frames.length = 0;
  started = process.hrtime.bigint();
  for (let i = 0; i < sends; i++) gateway.receive(session, `{"type":"send","room":"lobby","text":"m${i}"}`);
  await settle(0);
  while (session.conn.of('ack').length < sends) await settle(5);
  const sendNs = Number(process.hrtime.bigint() - started) / sends;
  console.log(`round ${round}: moderation check ${checkNs.toFixed(0)} ns; whole send through the core (memory bus) ${(sendNs / 1000).toFixed(1)} µs; the check is ${(100 * checkNs / sendNs).toFixed(1)} %`);
}
await stop();
