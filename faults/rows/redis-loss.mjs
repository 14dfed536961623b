// Rows 5 and 6 (docs/protocol.md#connect, docs/protocol.md#faults): Redis loses history, restarted empty or "failed over" to a
// replica that lags (an old RDB snapshot started on the same port). Promise: every member online
// through the loss gets an unsolicited `joined` with `gap: true`, every client resuming with a
// `since` from before the loss gets `gap: true`, and no message after the loss is presented as
// following one before it (a member that saw a lost message sees a gap before the next survivor).
import { RedisNode, sleep, startGateways, totalRss } from '../lib/cluster.mjs';
import { Ledger, midOf, sentAtOf } from '../lib/ledger.mjs';
import { check, rowResult } from '../lib/row.mjs';
import { readAllHistory, startTraffic } from '../lib/traffic.mjs';
import { WireMember } from '../lib/wire-member.mjs';

/** Members that read a while, then leave and keep their last id: they come back after the loss. */
async function startResumers(urls, roomNames) {
  return Promise.all(roomNames.map(async (room, i) => {
    const member = new WireMember({ urls, user: `back${i}`, ledger: new Ledger(), start: i });
    await member.connect();
    await member.join(room);
    return { member, room };
  }));
}

/** They leave just before the loss, each with the last id it saw. */
function leave(resumers) {
  return resumers.map(({ member, room }) => {
    member.close();
    return { room, since: member.lastId(room) };
  });
}

async function resume(urls, left) {
  const gaps = [];
  for (const [i, { room, since }] of left.entries()) {
    const again = new WireMember({ urls, user: `back${i}`, ledger: new Ledger(), start: i + 1 });
    await again.connect();
    const joined = await again.join(room, since);
    gaps.push({ since, gap: joined.gap === true });
    again.close();
  }
  return gaps;
}

/** Members whose sequence shows a surviving message right after a lost one with no gap between. */
function presentedAsFollowing(ledger, history, since) {
  const stored = new Set();
  for (const list of history.values()) for (const m of list) stored.add(`${m.id} ${midOf(m.text)} ${sentAtOf(m.text)}`);
  let violations = 0;
  for (const events of ledger.members.values()) {
    const tainted = new Set();
    for (const e of events) {
      if (e.kind === 'gap') { tainted.delete(e.room); continue; }
      if (e.at < since) continue;
      const survived = stored.has(`${e.id} ${e.mid} ${e.sentAt}`);
      if (!survived) tainted.add(e.room);
      else if (tainted.has(e.room)) { violations += 1; tainted.delete(e.room); }
    }
  }
  return violations;
}

async function lossRow(name, opts, lose) {
  const startedAt = Date.now();
  const redis = await new RedisNode().start();
  const gateways = await startGateways(redis, 3);
  const urls = gateways.map((g) => g.wsUrl);
  const ledger = new Ledger();
  const traffic = await startTraffic({ urls, ledger, members: opts.members, tag: name.replace(/\W/g, '') });
  const resumers = await startResumers(urls, traffic.roomNames);
  try {
    await sleep(opts.warmMs);
    const rssBefore = totalRss(gateways);
    const left = leave(resumers);
    const lossAt = Date.now();
    const faultEndAt = await lose(redis, opts);
    await sleep(opts.afterMs);
    const resumed = await resume(urls, left);
    await traffic.stop();
    const history = await readAllHistory(urls[0], traffic.roomNames);
    const summary = ledger.summarize({ rooms: traffic.rooms, history, faultEndAt });
    const told = [...traffic.rooms.keys()].filter((user) => (ledger.members.get(user) ?? []).some((e) => e.kind === 'gap' && e.at >= lossAt));
    const unsolicited = [...ledger.members.values()].flat().filter((e) => e.kind === 'gap' && e.unsolicited).length;
    const notTold = resumed.filter((r) => !r.gap).length;
    const following = presentedAsFollowing(ledger, history, lossAt - opts.warmMs);
    const checks = [
      check('every member online through the loss got gap: true', told.length === traffic.rooms.size, `${told.length}/${traffic.rooms.size}, ${unsolicited} unsolicited`),
      check('every client resuming from before the loss got gap: true', notTold === 0, `${notTold}/${resumed.length} told gap: false`),
      check('no message after the loss presented as following one before it', following === 0, `${following} members`),
    ];
    return rowResult(name, summary, { rssBefore, rssAfter: totalRss(gateways), checks, startedAt, extra: { told: told.length, unsolicited, resumed } });
  } finally {
    traffic.close();
    for (const { member } of resumers) member.close();
    await Promise.all(gateways.map((g) => g.kill()));
    await redis.kill();
  }
}

export const redisRestartedEmpty = (opts) => lossRow('redis-empty', opts, async (redis) => {
  await redis.kill();
  await redis.start();
  return Date.now();
});

export const redisLagging = (opts) => lossRow('redis-lagging', opts, async (redis) => {
  const replica = await redis.snapshot();
  await sleep(opts.warmMs);
  await redis.kill();
  await redis.startFrom(replica);
  return Date.now();
});
