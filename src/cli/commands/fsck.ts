// `redisfs fsck [--repair]`: checks a volume's structure (entries, reachability, link counts,
// sizes against chunk maps, chunks present) and, with --repair, fixes what is safe.
import type { Argv } from 'yargs';
import { openVolume, withVolumeOptions } from '../volume-target.js';
import { runFsck } from '../ops/fsck.js';
import { makeProgress } from '../ops/progress.js';

export function fsckCommand(y: Argv): Argv {
  return y.command(
    'fsck',
    'Check a volume (entries, reachability, link counts, sizes, chunks); --repair fixes what is safe',
    (c) => withVolumeOptions(c
      .option('repair', { type: 'boolean', default: false, describe: 'Fix what is safe (each fix one atomic script that re-checks first)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the report as JSON' })
      .option('quiet', { type: 'boolean', default: false, describe: 'No progress' })
      .example('$0 fsck --volume uploads', 'Report problems by path (exit 1 if any)')
      .example('$0 fsck --volume uploads --repair', 'Fix them')),
    async (argv) => {
      const vol = await openVolume(argv, { name: 'fsck' });
      try {
        const r = await runFsck(vol.redis, vol.meta, argv.repair, makeProgress(argv.quiet || argv.json));
        const unrepaired = r.problems.filter((p) => !p.repaired).length;
        if (argv.json) {
          process.stdout.write(JSON.stringify(r) + '\n');
        } else {
          for (const p of r.problems) {
            process.stdout.write(`${p.kind.padEnd(16)} ${p.path}: ${p.detail}${p.repaired ? ` -> REPAIRED: ${p.repaired}` : ''}\n`);
          }
          process.stdout.write(`fsck of volume ${vol.volume}: ${r.inodes} inodes, ${r.directories} directories, ${r.entries} entries, ${r.chunksChecked} chunks checked; ` +
            `${r.problems.length} problem(s)${argv.repair ? `, ${r.repaired} repaired` : ''}\n`);
        }
        if (unrepaired > 0) process.exitCode = 1;
      } finally {
        await vol.close();
      }
    },
  );
}
