// `redisfs umount <mountpoint>`: asks the daemon to commit and unmount, or clears the mount
// directly when no daemon is alive (a dead daemon's leftover).
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Argv } from 'yargs';
import { daemonPid } from '../../daemon/daemon.js';
import { mountedType } from '../../daemon/mountpoint.js';
import { CliError } from '../cli-error.js';

const run = promisify(execFile);
const STOP_TIMEOUT_MS = 30_000;

export function umountCommand(y: Argv): Argv {
  return y.command(
    'umount <mountpoint>',
    'Unmount a volume (pending writes are committed first)',
    (c) => c
      .positional('mountpoint', { type: 'string', demandOption: true })
      .option('lazy', { type: 'boolean', default: false, describe: 'Detach now even if files are open' })
      .example('$0 umount /srv/uploads', ''),
    async (argv) => {
      const mnt = resolve(argv.mountpoint as string);
      if ((await mountedType(mnt)) === undefined) throw new CliError(`${mnt} is not mounted`);
      const pid = await daemonPid(mnt);
      if (!argv.lazy) {
        try {
          await run('fusermount', ['-u', mnt]);
        } catch (err) {
          const msg = String((err as { stderr?: string }).stderr ?? err);
          if (/busy/i.test(msg)) throw new CliError(`${mnt} is busy (files are open or a shell is inside it); close them or use --lazy`);
          if (!/not connected|not found|Invalid argument/i.test(msg)) throw new CliError(`cannot unmount ${mnt}: ${msg.trim().split('\n')[0]}`);
          await run('fusermount', ['-uz', mnt]);
        }
      } else {
        await run('fusermount', ['-uz', mnt]);
      }
      if (pid !== undefined) {
        process.kill(pid, 'SIGTERM');
        const deadline = Date.now() + STOP_TIMEOUT_MS;
        while (Date.now() < deadline && (await daemonPid(mnt)) === pid) await new Promise((r) => setTimeout(r, 50));
      }
    },
  );
}
