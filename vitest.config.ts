import { defineConfig } from 'vitest/config';

// FUSE tests spawn daemons (one per simulated host) and each one does a lot of syscalls
// through the mount: the Node threadpool (4 threads by default) is what bounds their
// concurrency in a test worker. Workers inherit this from the main process.
process.env.UV_THREADPOOL_SIZE ??= '16';

const maxWorkers = Math.max(1, Number(process.env.TEST_MAX_WORKERS ?? 1) || 1);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // One file at a time on 2 cores: every *.fuse.test.ts runs daemons and a redis-server
    // competes with them; parallel files would make the timing bounds flaky.
    // TEST_MAX_WORKERS=2 runs two files at once.
    pool: 'forks',
    fileParallelism: maxWorkers > 1,
    maxWorkers,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 60_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
