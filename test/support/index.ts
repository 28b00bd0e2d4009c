// Everything a test file needs from the harness.
export * from './fs.js';
export * from './mount.js';
export * from './proc.js';
export * from './redis.js';
export * from './wait.js';
export * from './binding.js';
export * from './restartable-redis.js';
export * from './signals.js';
