export * from './processes.js';
export * from './ws-client.js';
