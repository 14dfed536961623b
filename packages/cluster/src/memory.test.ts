import { openCluster } from './cluster.js';
import { runClusterContract } from './contract-suite.js';
import type { MemoryHistory } from './memory-history.js';

runClusterContract('the in-process stores', async ({ historyLimit, presenceTtlMs, idempotencyMs }) => {
  const cluster = openCluster({ redisUrl: undefined, prefix: 'chat:', historyLimit, presenceTtlMs, idempotencyMs, name: 'contract' });
  const history = cluster.history as MemoryHistory;
  return {
    ...cluster,
    appendSilently: async (room, body) => history.append(room, body).message.id,
    loseNewest: async (room, count) => history.loseNewest(room, count),
  };
});
