export * from './schema.js';
export * from './validate.js';
export * from './defaults.js';
export * from './hash.js';
