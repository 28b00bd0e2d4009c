// The one place that turns what Redis or the connection said into an errno.
import { FsError, type Errno } from '../core/errors.js';
import { log } from '../core/log.js';

const SCRIPT_ERRNOS = new Set<string>([
  'ENOENT', 'EEXIST', 'ENOTDIR', 'EISDIR', 'ENOTEMPTY', 'EINVAL', 'EPERM', 'ENODATA', 'ESTALE',
]);

/** toFsError maps a Redis reply error or connection failure to an FsError. */
export function toFsError(err: unknown, what: string): FsError {
  if (err instanceof FsError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // Redis prefixes a script's error_reply with "ERR " unless it looks like an error code.
  const words = message.split(/[\s:]+/, 2);
  const first = (words[0] === 'ERR' ? words[1] : words[0]) ?? '';
  if (SCRIPT_ERRNOS.has(first)) return new FsError(first as Errno);
  if (first === 'OOM') return new FsError('ENOSPC', `${what}: Redis is out of memory`);
  log.warn({ err: message, op: what }, 'redis call failed');
  return new FsError('EIO', `${what}: ${message}`);
}

/** mapErrors runs a store call and rethrows its failure as an FsError. */
export async function mapErrors<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toFsError(err, what);
  }
}
