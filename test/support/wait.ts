// Polling with a bounded deadline: cross-host visibility is asserted this way, never by sleeping.

export interface WaitForOptions {
  /** Give up after this long. @default 2000 */
  timeoutMs?: number;
  /** Pause between attempts. @default 5 */
  intervalMs?: number;
  /** Prefixed to the error when the deadline passes. */
  message?: string;
}

export interface WaitForResult<T> {
  readonly value: T;
  /** Time from the first attempt to the successful one. */
  readonly elapsedMs: number;
  readonly attempts: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Calls `fn` until it neither throws nor returns `false`, at most `timeoutMs`. On timeout it
 * throws the last failure (an assertion error keeps its expected/actual) with the deadline
 * added to its message.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitForOptions = {}): Promise<WaitForResult<T>> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const intervalMs = opts.intervalMs ?? 5;
  const start = performance.now();
  let attempts = 0;
  let last: unknown;
  for (;;) {
    attempts++;
    try {
      const value = await fn();
      if (value !== false) return { value, elapsedMs: performance.now() - start, attempts };
      last = new Error('condition returned false');
    } catch (e) {
      last = e;
    }
    if (performance.now() - start >= timeoutMs) break;
    await sleep(intervalMs);
  }
  const prefix = `${opts.message ? opts.message + ': ' : ''}still failing after ${timeoutMs} ms (${attempts} attempts)`;
  if (last instanceof Error) {
    last.message = `${prefix}: ${last.message}`;
    throw last;
  }
  throw new Error(`${prefix}: ${String(last)}`);
}

/** Rejects with `message` if `p` has not settled within `timeoutMs`. */
export async function withTimeout<T>(p: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${message} (no result in ${timeoutMs} ms)`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
