// The process-wide structured logger (pino): JSON lines on stderr, or a file for daemons.
import { pino, destination, type Logger } from 'pino';

const level = process.env.REDISFS_LOG_LEVEL ?? 'info';

export let log: Logger = pino({ level, base: { pid: process.pid } }, destination(2));

/** logToFile sends every later log line to a file (used by a daemon that left its terminal). */
export function logToFile(path: string): void {
  log = pino({ level, base: { pid: process.pid } }, destination({ dest: path, mkdir: true, sync: false }));
}
