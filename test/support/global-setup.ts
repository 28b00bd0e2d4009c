// Vitest global setup: one redis-server for the whole run and a run-private temp root.
// Tests read them with inject('redisUrl'), inject('tmpRoot'), inject('logDir').
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { cleanupRoot, isAlive } from './proc.js';
import { startRedis } from './redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** redis://127.0.0.1:PORT of the run's shared redis-server. */
    redisUrl: string;
    /** Run-private directory under os.tmpdir(): mountpoints, local copies, pid files. */
    tmpRoot: string;
    /** Where daemon logs go (kept after the run): <repo>/tmp/test-logs. */
    logDir: string;
  }
}

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ROOT_PREFIX = 'redisfs-test-';

/** Removes what earlier runs that died left behind (their owning vitest pid is gone). */
async function cleanupStaleRuns(): Promise<void> {
  for (const name of await readdir(os.tmpdir())) {
    const m = new RegExp(`^${ROOT_PREFIX}(\\d+)-`).exec(name);
    if (!m || (await isAlive(Number(m[1])))) continue;
    const cleaned = await cleanupRoot(path.join(os.tmpdir(), name), { remove: true });
    if (cleaned.length > 0) console.warn(`redisfs tests: cleaned up after an earlier run: ${cleaned.join('; ')}`);
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await cleanupStaleRuns();
  const tmpRoot = await mkdtemp(path.join(os.tmpdir(), `${ROOT_PREFIX}${process.pid}-`));
  await mkdir(path.join(tmpRoot, 'pids'), { recursive: true });
  const logDir = path.join(REPO_ROOT, 'tmp', 'test-logs');
  await rm(logDir, { recursive: true, force: true });
  await mkdir(logDir, { recursive: true });

  const redis = await startRedis({
    parentDir: tmpRoot,
    onSpawn: (pid) => void writeFile(path.join(tmpRoot, 'pids', `redis-${pid}`), ''),
  });
  project.provide('redisUrl', redis.url);
  project.provide('tmpRoot', tmpRoot);
  project.provide('logDir', logDir);

  // Last resort if vitest itself is torn down without running the teardown.
  const onExit = (): void => {
    try {
      process.kill(redis.pid, 'SIGKILL');
    } catch {
      // gone
    }
  };
  process.once('exit', onExit);

  return async () => {
    process.removeListener('exit', onExit);
    await redis.stop();
    const cleaned = await cleanupRoot(tmpRoot, { remove: true });
    // The summary reporter has already flagged leaks (and its line must stay the last one):
    // record what was cleaned in a file only.
    if (cleaned.length > 0) await writeFile(path.join(logDir, 'teardown-cleanup.txt'), cleaned.join('\n') + '\n');
  };
}
