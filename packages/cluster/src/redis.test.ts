import { after, before } from 'node:test';
import { startRedis, type RedisServer } from '@chat/testkit';
import { openCluster } from './cluster.js';
import { runClusterContract } from './contract-suite.js';

let server: RedisServer;
let prefixes = 0;
before(async () => {
  server = await startRedis();
});
after(() => server.stop());

runClusterContract('the Redis stores', async ({ historyLimit, presenceTtlMs }) => {
  const prefix = `t${++prefixes}:`;
  const cluster = openCluster({ redisUrl: server.url, prefix, historyLimit, presenceTtlMs, name: 'contract' });
  await new Promise<void>((ready) => {
    const poll = () => (cluster.bus.connected ? ready() : setTimeout(poll, 10));
    poll();
  });
  return {
    ...cluster,
    appendSilently: (room, body) => cluster.redis!.command.xadd(cluster.keys.roomLog(room), 'MAXLEN', historyLimit, '*', 'b', body) as Promise<string>,
  };
});
