#!/usr/bin/env node
// The redisfs command line: one file per command under commands/.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { mountCommand } from './commands/mount.js';
import { umountCommand } from './commands/umount.js';
import { statsCommand } from './commands/stats.js';
import { statusCommand } from './commands/status.js';
import { gcCommand } from './commands/gc.js';
import { fsckCommand } from './commands/fsck.js';
import { importCommand } from './commands/import.js';

function fail(message: string): never {
  process.stderr.write(`redisfs: ${message.split('\n')[0]}\n`);
  process.exit(1);
}

let y = yargs(hideBin(process.argv))
  .scriptName('redisfs')
  .usage('$0 <command> [options]\n\nA shared POSIX filesystem for many hosts, kept in Redis.')
  .strict()
  .demandCommand(1, 'name a command (see redisfs --help)')
  .recommendCommands()
  .help()
  .version()
  .wrap(Math.min(100, process.stdout.columns || 100))
  .fail((msg, err) => fail(err ? err.message : msg));
y = mountCommand(y);
y = umountCommand(y);
y = statsCommand(y);
y = statusCommand(y);
y = fsckCommand(y);
y = gcCommand(y);
y = importCommand(y);

try {
  await y.parseAsync();
  // A finished command (or an unmounted daemon) must not linger on a leftover handle.
  process.exit(process.exitCode ?? 0);
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
