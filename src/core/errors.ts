// Errno is the currency between layers: every layer returns or throws FsError with a
// Node-style code; only the FUSE adapter turns it into the negative number the kernel wants.
import { constants } from 'node:os';

export type Errno = keyof typeof constants.errno;

export class FsError extends Error {
  readonly code: Errno;
  constructor(code: Errno, message?: string) {
    // An errno is an answer, not a bug: most are ENOENT from lookups, and capturing a stack
    // trace for each cost more than the lookup itself (~60 µs on a busy mount).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message ?? code);
    Error.stackTraceLimit = limit;
    this.code = code;
    this.name = 'FsError';
  }
}

export function fsError(code: Errno, message?: string): FsError {
  return new FsError(code, message);
}

export function isFsError(err: unknown): err is FsError {
  return err instanceof FsError;
}

/** errnoNumber returns the positive errno for a code (EIO for anything unknown). */
export function errnoNumber(code: string): number {
  const n = (constants.errno as Record<string, number>)[code];
  return typeof n === 'number' ? n : constants.errno.EIO;
}
