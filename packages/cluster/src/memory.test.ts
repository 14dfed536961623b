import { MemoryBus } from './memory-bus.js';
import { MemoryHistory } from './memory-history.js';
import { MemoryPresence } from './memory-presence.js';
import { MemoryReadMarkers } from './memory-read-markers.js';
import { runClusterContract } from './contract-suite.js';

runClusterContract('the in-process stores', async ({ historyLimit, presenceTtlMs, idempotencyMs }) => {
  const history = new MemoryHistory(historyLimit);
  const bus = new MemoryBus(history, idempotencyMs);
  return {
    bus,
    history,
    presence: new MemoryPresence(bus, presenceTtlMs),
    markers: new MemoryReadMarkers(history),
    appendSilently: async (room, body) => history.append(room, body).message.id,
    loseNewest: async (room, count) => history.loseNewest(room, count),
    close: () => bus.close(),
  };
});
