export * from './env.js';
export * from './jwt.js';
export * from './log.js';
export * from './metrics.js';
export * from './ops-server.js';
export * from './prometheus-metrics.js';
export * from './service.js';
