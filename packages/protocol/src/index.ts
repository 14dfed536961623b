export * from './codes.js';
export * from './decode.js';
export * from './frames.js';
export * from './names.js';
export * from './encode.js';
