// Counts every command a Redis connection sends and how long its reply took, by wrapping the
// client's one entry point (sendCommand: plain calls, scripts and pipelines all pass there),
// so no call site has to remember to count.
import type { Redis, Cluster } from 'ioredis';

export interface RedisCounters {
  /** Commands sent (EVALSHA and its EVAL fallback count as two). */
  commands: number;
  /** Commands that failed (error reply, timeout, connection down). */
  errors: number;
  /** Sum of reply times, in µs. */
  totalUs: number;
  /** Commands sent but not answered yet. */
  inflight: number;
}

interface Sendable { name?: string; promise: Promise<unknown> }

/** instrumentRedis wraps a client's sendCommand and returns its live counters. */
export function instrumentRedis(redis: Redis | Cluster): RedisCounters {
  const c: RedisCounters = { commands: 0, errors: 0, totalUs: 0, inflight: 0 };
  const target = redis as unknown as { sendCommand: (cmd: Sendable, ...rest: unknown[]) => unknown };
  const send = target.sendCommand.bind(redis);
  target.sendCommand = (cmd: Sendable, ...rest: unknown[]) => {
    countCommand(c, cmd.promise);
    return send(cmd, ...rest);
  };
  return c;
}

/** countCommand counts one command sent now, answered (or failed) when `reply` settles. */
export function countCommand(c: RedisCounters, reply: Promise<unknown>): void {
  const t0 = process.hrtime.bigint();
  c.commands++;
  c.inflight++;
  const end = (failed: boolean): void => {
    c.inflight--;
    if (failed) c.errors++;
    c.totalUs += Number(process.hrtime.bigint() - t0) / 1000;
  };
  // Observing the promise must not mark a rejection as handled for the caller: it is a
  // separate chain that swallows its own copy.
  reply.then(() => end(false), () => end(true));
}
