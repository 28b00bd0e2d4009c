// Garbage collection of a volume: chunks no chunk map references (uploads of mounts that died
// before committing), reclaim-queue entries past their grace period, stale mounts and the
// orphans they held. Safe on a volume in use:
// - a chunk of a live session (a registered mount or import whose heartbeat is fresh, or a
//   session opened after gc started) is never touched: it may be an upload about to commit;
// - a dead session cannot add a reference, so a dead session's chunk that no map named when
//   the maps were scanned (and that is not in the reclaim queue) is garbage for good;
// - maps are scanned before the reclaim queue, so a chunk moved from a map to the queue in
//   between is seen in one or the other.
// Memory: one bit per chunk counter per session (chunk ids are "<session>.<counter>").
import type { MetaStore } from '../../store/meta-store.js';
import { listMounts, reapStale } from '../../store/mounts.js';
import { DEFAULT_RECLAIMER } from '../../store/reclaimer.js';
import type { RedisConn } from '../volume-target.js';
import { eachKey, keyCount, scanKeys } from '../../store/key-scan.js';
import type { Progress } from './progress.js';
import { BitSet } from './bitset.js';

export interface GcOptions {
  dryRun: boolean;
  /** Reclaim-queue entries older than this are deleted, in ms. @default 600000 */
  graceMs: number;
}

export interface GcReport {
  staleMountsReaped: string[];
  orphansPurged: number;
  unreferencedChunks: number;
  unreferencedBytes: number;
  expiredReclaimChunks: number;
  expiredReclaimBytes: number;
  chunksScanned: number;
  mapsScanned: number;
  liveSessions: string[];
  dryRun: boolean;
}

const PAGE = 1000;

function parseChunkId(id: string): { session: string; counter: number } | undefined {
  const dot = id.indexOf('.');
  if (dot <= 0) return undefined;
  const session = parseInt(id.slice(0, dot), 36);
  const counter = parseInt(id.slice(dot + 1), 36);
  if (!Number.isSafeInteger(session) || !Number.isSafeInteger(counter)) return undefined;
  return { session: String(session), counter };
}

class ChunkMarks {
  private readonly bySession = new Map<string, BitSet>();
  add(id: string): void {
    const p = parseChunkId(id);
    if (!p) return;
    let b = this.bySession.get(p.session);
    if (!b) this.bySession.set(p.session, (b = new BitSet()));
    b.add(p.counter);
  }
  has(session: string, counter: number): boolean {
    return this.bySession.get(session)?.has(counter) ?? false;
  }
}

async function liveSessionSet(redis: RedisConn, meta: MetaStore, sessionAtStart: number): Promise<(s: string) => boolean> {
  const live = new Set((await listMounts(redis, meta.keys)).filter((m) => !m.stale).map((m) => m.session));
  return (s) => live.has(s) || Number(s) > sessionAtStart;
}

export async function runGc(redis: RedisConn, meta: MetaStore, opts: GcOptions, progress: Progress): Promise<GcReport> {
  const k = meta.keys;
  const sessionAtStart = Number((await redis.hget(k.ctr, 'session')) ?? 0);
  const mounts = await listMounts(redis, k);
  const report: GcReport = {
    staleMountsReaped: [], orphansPurged: 0, unreferencedChunks: 0, unreferencedBytes: 0,
    expiredReclaimChunks: 0, expiredReclaimBytes: 0, chunksScanned: 0, mapsScanned: 0,
    liveSessions: mounts.filter((m) => !m.stale).map((m) => m.session), dryRun: opts.dryRun,
  };

  // 1. Stale mounts, and orphans whose holder is no live session.
  if (opts.dryRun) report.staleMountsReaped = mounts.filter((m) => m.stale).map((m) => m.session);
  else report.staleMountsReaped = await reapStale(redis, meta);
  const isLive = await liveSessionSet(redis, meta, sessionAtStart);
  for (const [ino, holder] of Object.entries(await redis.hgetall(k.orphans))) {
    if (isLive(holder)) continue;
    report.orphansPurged++;
    if (!opts.dryRun) await meta.purgeOrphan(Number(ino));
  }

  // 2. Mark every chunk a map references, then every chunk in the reclaim queue.
  const marks = new ChunkMarks();
  progress.phase('chunk maps', await keyCount(redis, { sameSlotAs: k.vol }));
  for await (const keys of scanKeys(redis, k.chunkMapPattern, PAGE, { sameSlotAs: k.vol })) {
    if (keys.length > 0) {
      const p = redis.pipeline();
      for (const key of keys) p.hvals(key);
      for (const [err, ids] of (await p.exec()) ?? []) {
        if (err) throw err;
        for (const id of ids as string[]) marks.add(id);
      }
      report.mapsScanned += keys.length;
    }
    progress.tick(PAGE);
  }
  let cursor = '0';
  do {
    const [next, flat] = await redis.zscan(k.reclaim, cursor, 'COUNT', PAGE);
    cursor = next;
    for (let i = 0; i < flat.length; i += 2) marks.add(flat[i]!);
  } while (cursor !== '0');

  // 3. Every chunk of a dead session that nothing marked is garbage.
  progress.phase('chunks', await keyCount(redis, 'everywhere'));
  for await (const keys of scanKeys(redis, k.chunkPattern, PAGE, 'everywhere')) {
    report.chunksScanned += keys.length;
    const garbage: string[] = [];
    for (const key of keys) {
      const id = k.chunkIdOf(key);
      const p = parseChunkId(id);
      if (!p || isLive(p.session) || marks.has(p.session, p.counter)) continue;
      garbage.push(key);
    }
    if (garbage.length > 0) {
      // A session may have registered since: ask again just before deleting.
      const liveNow = await liveSessionSet(redis, meta, sessionAtStart);
      const sure = garbage.filter((key) => !liveNow(parseChunkId(k.chunkIdOf(key))!.session));
      const { count, bytes } = await measureAndDelete(redis, sure, opts.dryRun);
      report.unreferencedChunks += count;
      report.unreferencedBytes += bytes;
    }
    progress.tick(PAGE);
  }

  // 4. Reclaim-queue entries past their grace period (what every mount's reclaimer does).
  const cutoff = Date.now() - opts.graceMs;
  let offset = 0;
  for (;;) {
    const ids = await redis.zrangebyscore(k.reclaim, '-inf', cutoff, 'LIMIT', offset, 500);
    if (ids.length === 0) break;
    const { count, bytes } = await measureAndDelete(redis, ids.map((id) => k.chunk(id)), opts.dryRun);
    report.expiredReclaimChunks += count;
    report.expiredReclaimBytes += bytes;
    if (opts.dryRun) offset += ids.length;
    else await redis.zrem(k.reclaim, ...ids);
  }
  progress.stop();
  return report;
}

// STRLEN then UNLINK, one key per command (chunks spread over cluster slots).
async function measureAndDelete(redis: RedisConn, keys: string[], dryRun: boolean): Promise<{ count: number; bytes: number }> {
  let bytes = 0;
  let count = 0;
  for (const n of await eachKey(redis, 'strlen', keys)) {
    bytes += n;
    if (n > 0) count++;
  }
  if (!dryRun) await eachKey(redis, 'unlink', keys);
  return { count, bytes };
}

export { DEFAULT_RECLAIMER };
