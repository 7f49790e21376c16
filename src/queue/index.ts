export * from './connection.js';
export * from './train-queue.js';
export * from './worker-settings.js';
export * from './cancel-channel.js';
export * from './job-events-channel.js';
