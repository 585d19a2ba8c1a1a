// Public API of the desired-state layer (pure functions; the runtime wires I/O around them).
export * from './facts.js';
export * from './objects.js';
export * from './resolve.js';
export * from './claims.js';
export * from './children.js';
export * from './status.js';
export * from './state.js';
export * from './compare.js';
