// Rates between two stats snapshots of a mount, and the ≤ 80-column rows `redisfs stats` prints.
import type { MountStatsSnapshot } from '../../store/mounts.js';

export interface Rates {
  opsPerSec: number;
  /** Mean FUSE op latency over the interval, ms. */
  opLatencyMs: number;
  readMBps: number;
  writeMBps: number;
  /** Chunk cache hit ratio over the interval (0..1), or undefined when no chunk was asked for. */
  hitRatio: number | undefined;
  cacheBytes: number;
  redisCmdsPerSec: number;
  redisLatencyMs: number;
  commitsPerSec: number;
  invalidationsPerSec: number;
  /** FUSE op errors and Redis command errors in the interval. */
  errors: number;
}

export const ZERO_RATES: Rates = {
  opsPerSec: 0, opLatencyMs: 0, readMBps: 0, writeMBps: 0, hitRatio: undefined, cacheBytes: 0,
  redisCmdsPerSec: 0, redisLatencyMs: 0, commitsPerSec: 0, invalidationsPerSec: 0, errors: 0,
};

/** rates computes what happened between two snapshots of one session (by their own clocks). */
export function rates(prev: MountStatsSnapshot, cur: MountStatsSnapshot): Rates {
  const dt = (cur.at - prev.at) / 1000;
  if (dt <= 0) return { ...ZERO_RATES, cacheBytes: cur.cache.bytes };
  const dOps = cur.ops.count - prev.ops.count;
  const dRedis = cur.redis.commands - prev.redis.commands;
  const hits = cur.cache.hits - prev.cache.hits;
  const misses = cur.cache.misses - prev.cache.misses;
  return {
    opsPerSec: dOps / dt,
    opLatencyMs: dOps > 0 ? (cur.ops.totalUs - prev.ops.totalUs) / dOps / 1000 : 0,
    readMBps: (cur.bytesRead - prev.bytesRead) / dt / 1e6,
    writeMBps: (cur.bytesWritten - prev.bytesWritten) / dt / 1e6,
    hitRatio: hits + misses > 0 ? hits / (hits + misses) : undefined,
    cacheBytes: cur.cache.bytes,
    redisCmdsPerSec: dRedis / dt,
    redisLatencyMs: dRedis > 0 ? (cur.redis.totalUs - prev.redis.totalUs) / dRedis / 1000 : 0,
    commitsPerSec: (cur.commits - prev.commits) / dt,
    invalidationsPerSec: (cur.invalidations - prev.invalidations) / dt,
    errors: cur.ops.errors - prev.ops.errors + (cur.redis.errors - prev.redis.errors),
  };
}

/** sumRates adds up the rates of several mounts (latencies weighted by their op counts). */
export function sumRates(all: readonly Rates[]): Rates {
  const t = { ...ZERO_RATES };
  let hitW = 0;
  let hitSum = 0;
  for (const r of all) {
    t.opLatencyMs += r.opLatencyMs * r.opsPerSec;
    t.redisLatencyMs += r.redisLatencyMs * r.redisCmdsPerSec;
    t.opsPerSec += r.opsPerSec;
    t.readMBps += r.readMBps;
    t.writeMBps += r.writeMBps;
    t.cacheBytes += r.cacheBytes;
    t.redisCmdsPerSec += r.redisCmdsPerSec;
    t.commitsPerSec += r.commitsPerSec;
    t.invalidationsPerSec += r.invalidationsPerSec;
    t.errors += r.errors;
    if (r.hitRatio !== undefined) { hitW++; hitSum += r.hitRatio; }
  }
  t.opLatencyMs = t.opsPerSec > 0 ? t.opLatencyMs / t.opsPerSec : 0;
  t.redisLatencyMs = t.redisCmdsPerSec > 0 ? t.redisLatencyMs / t.redisCmdsPerSec : 0;
  t.hitRatio = hitW > 0 ? hitSum / hitW : undefined;
  return t;
}

// label(14) ops/s(6) lat(6) rdMB/s(7) wrMB/s(7) hit%(5) cache(6) cmd/s(7) rlat(6) cmt/s(6) inv/s(6) err(4) = 80
const WIDTHS = [6, 6, 7, 7, 5, 6, 7, 6, 6, 6, 4];
const LABEL = 14;

export function header(label: string): string {
  const names = ['ops/s', 'lat', 'rdMB/s', 'wrMB/s', 'hit%', 'cache', 'cmd/s', 'rlat', 'cmt/s', 'inv/s', 'err'];
  return label.padEnd(LABEL).slice(0, LABEL) + names.map((n, i) => n.padStart(WIDTHS[i]!)).join('');
}

/** The unit line under the header: latencies are in ms. */
export function units(): string {
  const u = ['', 'ms', '', '', '', '', '', 'ms', '', '', ''];
  return ''.padEnd(LABEL) + u.map((n, i) => n.padStart(WIDTHS[i]!)).join('');
}

export function row(label: string, r: Rates): string {
  const cells = [
    compact(r.opsPerSec), ms(r.opLatencyMs), mb(r.readMBps), mb(r.writeMBps),
    r.hitRatio === undefined ? '-' : String(Math.round(r.hitRatio * 100)),
    bytes(r.cacheBytes), compact(r.redisCmdsPerSec), ms(r.redisLatencyMs),
    compact(r.commitsPerSec), compact(r.invalidationsPerSec), compact(r.errors),
  ];
  const lab = label.length > LABEL - 1 ? label.slice(0, LABEL - 2) + '…' : label;
  return lab.padEnd(LABEL) + cells.map((c, i) => c.padStart(WIDTHS[i]!)).join('');
}

function compact(n: number): string {
  if (n < 10) return n === 0 ? '0' : n < 1 ? n.toFixed(1) : String(Math.round(n));
  if (n < 10_000) return String(Math.round(n));
  if (n < 10_000_000) return `${Math.round(n / 1000)}k`;
  return `${Math.round(n / 1e6)}M`;
}

function ms(n: number): string {
  if (n === 0) return '0';
  if (n < 10) return n.toFixed(2);
  if (n < 1000) return n.toFixed(0);
  return `${(n / 1000).toFixed(0)}s`;
}

function mb(n: number): string {
  if (n === 0) return '0';
  return n < 100 ? n.toFixed(1) : n.toFixed(0);
}

export function bytes(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)}${units[i]}`;
}
