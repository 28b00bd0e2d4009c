// Where a host keeps redisfs's local state: the embedded Redis, daemon logs and pid files.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** home is $REDISFS_HOME, else /var/lib/redisfs for root, else ~/.local/share/redisfs. */
export function redisfsHome(): string {
  if (process.env.REDISFS_HOME) return process.env.REDISFS_HOME;
  return process.getuid?.() === 0 ? '/var/lib/redisfs' : join(homedir(), '.local', 'share', 'redisfs');
}

/** pidFile names the file holding the pid of the daemon serving a mountpoint. */
export function pidFile(mountpoint: string): string {
  return join(redisfsHome(), 'run', `${encodeURIComponent(mountpoint)}.pid`);
}

export function logFile(mountpoint: string): string {
  return join(redisfsHome(), 'logs', `${encodeURIComponent(mountpoint)}.log`);
}

/** infoFile names the file where a daemon records its volume, Redis (no password) and session. */
export function infoFile(mountpoint: string): string {
  return join(redisfsHome(), 'run', `${encodeURIComponent(mountpoint)}.json`);
}
