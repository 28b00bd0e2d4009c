// `redisfs import <dir>`: loads a local tree into a volume straight through Redis (no FUSE),
// in parallel, keeping modes, owners, times, symlinks and hard links; a second run skips what
// is already there and identical. While it runs it is registered like a mount (kind import),
// so gc leaves its uploads alone and `redisfs stats` shows its progress.
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { ChunkStore } from '../../store/chunk-store.js';
import { MountRegistry, registryOptionsFromEnv, type MountStatsSnapshot } from '../../store/mounts.js';
import { instrumentRedis } from '../../store/redis-metrics.js';
import { redisfsVersion } from '../../core/version.js';
import { CliError } from '../cli-error.js';
import { openVolume, withVolumeOptions } from '../volume-target.js';
import { Importer } from '../ops/importer.js';
import { makeProgress } from '../ops/progress.js';
import { bytes } from '../ops/stats-view.js';

export function importCommand(y: Argv): Argv {
  return y.command(
    'import <dir>',
    'Load a local directory tree into a volume directly through Redis (resumable)',
    (c) => withVolumeOptions(c
      .positional('dir', { type: 'string', demandOption: true, describe: 'The local directory to load' })
      .option('to', { type: 'string', default: '/', describe: 'Directory in the volume to load it into (created if missing)' })
      .option('concurrency', { type: 'number', default: 32, describe: 'Files loading at once' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the summary as JSON' })
      .option('quiet', { type: 'boolean', default: false, describe: 'No progress' })
      .example('$0 import /srv/old-uploads --volume uploads --redis redis://10.0.0.5', '')
      .example('$0 import ./site --to /www/site', 'Into a subdirectory of the volume')),
    async (argv) => {
      const dir = resolve(argv.dir as string);
      if (!Number.isInteger(argv.concurrency) || argv.concurrency < 1) throw new CliError('--concurrency must be a positive integer');
      const vol = await openVolume(argv, { create: true, name: 'import' });
      // Many small scripts in flight at once: send each tick's commands as one write.
      (vol.redis.options as { enableAutoPipelining?: boolean }).enableAutoPipelining = true;
      const counters = instrumentRedis(vol.redis);
      const chunks = new ChunkStore(vol.redis, vol.meta.keys, vol.meta.sessionId);
      const progress = makeProgress(argv.quiet || argv.json);
      const importer = new Importer(vol.meta, chunks, { concurrency: argv.concurrency, to: argv.to }, progress);
      const snapshot = (): MountStatsSnapshot => {
        const s = importer.summary;
        const nodes = s.files + s.directories + s.symlinks + s.hardLinks + s.special + s.skipped;
        return {
          at: Date.now(), ops: { count: nodes, errors: s.errors.length, totalUs: 0 }, opsByName: {},
          bytesRead: 0, bytesWritten: s.bytes, cache: { hits: 0, misses: 0, bytes: 0, maxBytes: 0 },
          redis: { commands: counters.commands, errors: counters.errors, totalUs: Math.round(counters.totalUs), inflight: counters.inflight },
          commits: s.files, invalidations: 0, openHandles: 0, dirtyBytes: 0,
        };
      };
      const registry = new MountRegistry(vol.redis, vol.meta, { mountpoint: dir, version: redisfsVersion(), kind: 'import' }, snapshot, registryOptionsFromEnv());
      try {
        await registry.register();
        const s = await importer.run(dir);
        const mbps = s.bytes / 1e6 / Math.max(s.seconds, 1e-3);
        const nodes = s.files + s.directories + s.symlinks + s.hardLinks + s.special;
        if (argv.json) {
          process.stdout.write(JSON.stringify({ ...s, errors: s.errors.length, firstErrors: s.errors.slice(0, 20), mbPerSec: mbps, filesPerSec: s.files / Math.max(s.seconds, 1e-3) }) + '\n');
        } else {
          process.stdout.write(
            `imported ${dir} into volume ${vol.volume}:${argv.to} in ${s.seconds.toFixed(1)} s\n` +
            `  ${s.files} files (${bytes(s.bytes)}), ${s.directories} directories, ${s.symlinks} symlinks, ${s.hardLinks} hard links, ${s.special} special files\n` +
            `  ${s.skipped} already there and identical (skipped), ${s.replaced} replaced, ${s.errors.length} errors\n` +
            `  ${mbps.toFixed(1)} MB/s, ${(s.files / Math.max(s.seconds, 1e-3)).toFixed(0)} files/s, ${(nodes / Math.max(s.seconds, 1e-3)).toFixed(0)} nodes/s\n`,
          );
        }
        if (s.errors.length > 0) process.exitCode = 1;
      } finally {
        await registry.deregister().catch(() => undefined);
        await vol.close();
      }
    },
  );
}
