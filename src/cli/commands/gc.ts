// `redisfs gc [--dry-run]`: deletes chunks nothing references (uploads of mounts that died),
// reclaim-queue entries past their grace, stale mounts and their orphans; reports the bytes.
import type { Argv } from 'yargs';
import { openVolume, withVolumeOptions } from '../volume-target.js';
import { DEFAULT_RECLAIMER, runGc } from '../ops/gc.js';
import { makeProgress } from '../ops/progress.js';
import { bytes } from '../ops/stats-view.js';

export function gcCommand(y: Argv): Argv {
  return y.command(
    'gc',
    'Reclaim chunks nothing references (dead mounts\' uploads, expired reclaim entries)',
    (c) => withVolumeOptions(c
      .option('dry-run', { type: 'boolean', default: false, describe: 'Only report what would be reclaimed' })
      .option('grace', { type: 'number', default: DEFAULT_RECLAIMER.graceMs / 1000, describe: 'Seconds a released chunk stays readable before gc deletes it' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the report as JSON' })
      .option('quiet', { type: 'boolean', default: false, describe: 'No progress' })
      .example('$0 gc --dry-run --volume uploads', '')),
    async (argv) => {
      const vol = await openVolume(argv, { name: 'gc' });
      try {
        const progress = makeProgress(argv.quiet || argv.json);
        const r = await runGc(vol.redis, vol.meta, { dryRun: argv.dryRun, graceMs: argv.grace * 1000 }, progress);
        if (argv.json) {
          process.stdout.write(JSON.stringify(r) + '\n');
          return;
        }
        const verb = r.dryRun ? 'would reclaim' : 'reclaimed';
        process.stdout.write(
          `gc of volume ${vol.volume}: scanned ${r.mapsScanned} chunk maps and ${r.chunksScanned} chunks (live sessions: ${r.liveSessions.join(', ') || 'none'})\n` +
          `  ${verb} ${r.unreferencedChunks} unreferenced chunks (${bytes(r.unreferencedBytes)})\n` +
          `  ${verb} ${r.expiredReclaimChunks} expired reclaim-queue chunks (${bytes(r.expiredReclaimBytes)})\n` +
          `  ${r.dryRun ? 'would reap' : 'reaped'} ${r.staleMountsReaped.length} stale mounts, ${r.dryRun ? 'would purge' : 'purged'} ${r.orphansPurged} orphans of dead mounts\n` +
          `  total ${bytes(r.unreferencedBytes + r.expiredReclaimBytes)}\n`,
        );
      } finally {
        await vol.close();
      }
    },
  );
}
