// glibc malloc settings for a mount daemon, which churns through 1 MiB chunk buffers: serving
// those from mmap (and capping arenas) returns their memory to the system when freed, where
// the default heap fragments and peak RSS crept ~250 MiB past the cache size in the 10 GiB
// read benchmark (measured: 750 MiB vs 654 MiB with these, cache 512 MiB). They must be in
// the environment before the process starts, so whoever spawns a daemon adds them.
export const DAEMON_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_ARENA_MAX: '2',
};

/** daemonEnv returns env with the malloc settings added (values already set are kept). */
export function daemonEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...DAEMON_MALLOC_ENV, ...env };
}
