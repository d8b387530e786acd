export * from './prometheus.js';
export * from './server.js';
