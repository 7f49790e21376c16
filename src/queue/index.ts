export * from './connection.js';
export * from './train-queue.js';
export * from './worker-settings.js';
export * from './cancel-channel.js';
