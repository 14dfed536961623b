export * from './processes.js';
export * from './ws-client.js';
export * from './redis-cluster.js';
export { NodeConnection, RespError, type RespValue } from './redis-cluster-command.js';
export { hashTagOf, keySlot, SLOT_COUNT } from './redis-cluster-slot.js';
