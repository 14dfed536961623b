// Row 1 (docs/protocol.md#faults): a gateway SIGKILLed under steady traffic, right after each of its clients
// wrote one more send (in flight when it dies). Its clients (the SDK, given every node's URL)
// reconnect to the others and resume: 0 lost, 0 doubled, 0 reordered; and the SDK resends what was
// in flight with its mid, so every send is acked in the end (docs/protocol.md#connect).
import { RedisNode, sleep, startGateways, totalRss } from '../lib/cluster.mjs';
import { Ledger } from '../lib/ledger.mjs';
import { check, rowResult } from '../lib/row.mjs';
import { readAllHistory } from '../lib/traffic.mjs';
import { startSdkTraffic } from '../lib/sdk-traffic.mjs';

export async function gatewayKilled(opts) {
  const startedAt = Date.now();
  const redis = await new RedisNode().start();
  const gateways = await startGateways(redis, 3);
  const ledger = new Ledger();
  const traffic = await startSdkTraffic({
    urls: gateways.map((g) => g.wsUrl), ledger, members: opts.sdkMembers, intervalMs: opts.full ? 1000 : 250,
  });
  try {
    await sleep(opts.warmMs);
    const rssBefore = totalRss(gateways.slice(1));
    const victims = traffic.all.filter(({ client }) => client.node === gateways[0].nodeId).length;
    traffic.burst(gateways[0].nodeId);
    await gateways[0].kill();
    const faultEndAt = Date.now();
    const reconnectMs = await traffic.movedOff(gateways[0].nodeId);
    await sleep(opts.afterMs);
    await traffic.stop();
    const survivors = gateways.slice(1);
    const history = await readAllHistory(survivors[0].wsUrl, traffic.roomNames);
    const summary = ledger.summarize({ rooms: traffic.rooms, history, faultEndAt });
    const checks = [
      check('every client of the dead node reconnected', reconnectMs >= 0, `${victims} clients on it`),
      check('every send acked in the end (the SDK resends with its mid)', summary.failed === 0, `${summary.failed} failed: ${JSON.stringify(summary.errors)}`),
      check('0 lost (acked, not delivered)', summary.lost === 0, summary.lost),
      check('0 doubled', summary.doubled === 0, `${summary.doubled}, ${summary.storedTwice} stored twice`),
      check('0 reordered', summary.reordered === 0, summary.reordered),
    ];
    return rowResult('gateway-kill', summary, {
      rssBefore, rssAfter: totalRss(survivors), note: 'rss: the two surviving gateways', checks, startedAt,
      extra: { clients: opts.sdkMembers, victims, reconnectMs, sendFailures: summary.errors },
    });
  } finally {
    traffic.close();
    await Promise.all(gateways.map((g) => g.kill()));
    await redis.kill();
  }
}
