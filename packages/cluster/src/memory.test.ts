import { openCluster } from './cluster.js';
import { runChangeContract } from './change-contract.js';
import { runClusterContract, type Backend, type BackendOptions } from './contract-suite.js';
import type { MemoryHistory } from './memory-history.js';

async function memoryBackend({ historyLimit, presenceTtlMs, idempotencyMs }: BackendOptions): Promise<Backend> {
  const cluster = openCluster({ redisUrl: undefined, prefix: 'chat:', historyLimit, presenceTtlMs, idempotencyMs, name: 'contract' });
  const history = cluster.history as MemoryHistory;
  return {
    ...cluster,
    appendSilently: async (room, body) => history.append(room, body).message.id,
    loseNewest: async (room, count) => history.loseNewest(room, count),
  };
}

runClusterContract('the in-process stores', memoryBackend);
runChangeContract('the in-process stores', memoryBackend);
