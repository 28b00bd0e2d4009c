// The registry of live mounts of a volume (rfs:{V}:mounts) and their published stats
// (rfs:{V}:mstat:<session>). Each mount heart-beats; one whose heartbeat is older than its own
// staleMs is stale, and any other mount that notices reaps it (entry, stats, and the orphans
// it held open), so a killed daemon leaves nothing behind for long.
import { hostname } from 'node:os';
import { Cluster, type Redis } from 'ioredis';
import { keyOwner } from './cluster-nodes.js';
import type { MetaStore } from './meta-store.js';
import type { VolumeKeys } from './keys.js';
import type { Invalidation } from './invalidation.js';
import { log } from '../core/log.js';

export type SessionKind = 'mount' | 'import';

/** What a mount says about itself in the registry. */
export interface MountInfo {
  host: string;
  pid: number;
  mountpoint: string;
  version: string;
  kind: SessionKind;
  /** ms since the epoch (this host's clock). */
  started: number;
  /** After this many ms without a heartbeat the entry is stale. */
  staleMs: number;
  /** ms since the epoch, Redis's clock. */
  heartbeat: number;
}

export interface MountEntry extends MountInfo {
  session: string;
  /** The raw registry value (the reaper removes an entry only if it is still this). */
  raw: string;
  /** ms since the last heartbeat (Redis's clock). */
  ageMs: number;
  stale: boolean;
}

/** A snapshot of one session's counters since it started (rates come from differences). */
export interface MountStatsSnapshot {
  /** ms since the epoch when taken (this host's clock). */
  at: number;
  ops: { count: number; errors: number; totalUs: number };
  opsByName: Record<string, { count: number; errors: number; totalUs: number; maxUs: number }>;
  bytesRead: number;
  bytesWritten: number;
  cache: { hits: number; misses: number; bytes: number; maxBytes: number };
  redis: { commands: number; errors: number; totalUs: number; inflight: number };
  commits: number;
  invalidations: number;
  openHandles: number;
  dirtyBytes: number;
}

export interface RegistryOptions {
  /** How often counters are published while they change, in ms. @default 1000 */
  statsIntervalMs: number;
  /** Longest time between two heartbeats, even when idle, in ms. @default 3000 */
  heartbeatMs: number;
  /** A mount silent this long is stale and gets reaped, in ms. @default 30000 */
  staleMs: number;
}

export const DEFAULT_REGISTRY: RegistryOptions = { statsIntervalMs: 1000, heartbeatMs: 3000, staleMs: 30_000 };

/** registryOptionsFromEnv lets tests and operators tune the bounds ($REDISFS_HEARTBEAT_MS, $REDISFS_STALE_MS). */
export function registryOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RegistryOptions {
  const num = (v: string | undefined, d: number): number => (v && Number(v) > 0 ? Number(v) : d);
  const heartbeatMs = num(env.REDISFS_HEARTBEAT_MS, DEFAULT_REGISTRY.heartbeatMs);
  return {
    statsIntervalMs: Math.min(DEFAULT_REGISTRY.statsIntervalMs, heartbeatMs),
    heartbeatMs,
    staleMs: Math.max(num(env.REDISFS_STALE_MS, DEFAULT_REGISTRY.staleMs), 3 * heartbeatMs),
  };
}

/**
 * listMounts returns every registered session of a volume, judged against the clock that
 * stamped their heartbeats: that of the Redis running the volume's scripts (on a cluster,
 * the master owning its slot: TIME names no key, and another node's clock may be skewed).
 */
export async function listMounts(redis: Redis | Cluster, keys: VolumeKeys): Promise<MountEntry[]> {
  const clock = redis instanceof Cluster ? await keyOwner(redis, keys.vol) : redis;
  const [time, flat] = await Promise.all([clock.time(), redis.hgetall(keys.mounts)]);
  const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
  const out: MountEntry[] = [];
  for (const [session, raw] of Object.entries(flat)) {
    let info: Partial<MountInfo>;
    try { info = JSON.parse(raw) as Partial<MountInfo>; } catch { info = {}; }
    const heartbeat = Number(info.heartbeat ?? 0);
    const staleMs = Number(info.staleMs ?? DEFAULT_REGISTRY.staleMs);
    const ageMs = Math.max(0, now - heartbeat);
    out.push({
      session, raw, ageMs, stale: ageMs > staleMs,
      host: String(info.host ?? '?'), pid: Number(info.pid ?? 0), mountpoint: String(info.mountpoint ?? '?'),
      version: String(info.version ?? '?'), kind: info.kind === 'import' ? 'import' : 'mount',
      started: Number(info.started ?? 0), staleMs, heartbeat,
    });
  }
  return out.sort((a, b) => Number(a.session) - Number(b.session));
}

/** readStats returns the published stats of these sessions (undefined where none). */
export async function readStats(redis: Redis | Cluster, keys: VolumeKeys, sessions: readonly string[]): Promise<Array<MountStatsSnapshot | undefined>> {
  if (sessions.length === 0) return [];
  const raws = await redis.mget(...sessions.map((s) => keys.mountStats(s)));
  return raws.map((r) => {
    if (!r) return undefined;
    try { return JSON.parse(r) as MountStatsSnapshot; } catch { return undefined; }
  });
}

/** reapStale removes every stale session of the volume; returns the sessions reaped. */
export async function reapStale(redis: Redis | Cluster, meta: MetaStore, onChanged?: (items: Invalidation[]) => void): Promise<string[]> {
  const reaped: string[] = [];
  for (const m of await listMounts(redis, meta.keys)) {
    if (!m.stale || m.session === meta.sessionId) continue;
    const changed = await meta.reapMount(m.session, m.raw);
    onChanged?.(changed);
    log.warn({ session: m.session, host: m.host, pid: m.pid, mountpoint: m.mountpoint, silentMs: m.ageMs }, 'reaped a stale mount');
    reaped.push(m.session);
  }
  return reaped;
}

/** The heart of one session: registers it, beats, publishes stats, reaps stale peers. */
export class MountRegistry {
  private timer: NodeJS.Timeout | undefined;
  private lastBeat = 0;
  private lastReap = 0;
  private lastStats = '';
  private busy = false;
  private readonly entryPrefix: string;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly meta: MetaStore,
    info: Omit<MountInfo, 'heartbeat' | 'staleMs' | 'host' | 'pid' | 'started'> & Partial<Pick<MountInfo, 'host' | 'pid' | 'started'>>,
    private readonly stats: (() => MountStatsSnapshot) | undefined,
    private readonly opts: RegistryOptions = DEFAULT_REGISTRY,
    /** Told what a reap deleted (the orphans of a dead mount), to drop it from caches. */
    private readonly onChanged?: (items: Invalidation[]) => void,
  ) {
    const full = { host: hostname(), pid: process.pid, started: Date.now(), ...info, staleMs: opts.staleMs };
    const json = JSON.stringify(full);
    this.entryPrefix = json.slice(0, -1);
  }

  /** register writes the entry now and starts the periodic beat (its timer never keeps the process up). */
  async register(): Promise<void> {
    await this.beat(true);
    this.schedule();
  }

  /** deregister stops beating and removes the entry and stats (a clean unmount). */
  async deregister(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const s = this.meta.sessionId;
    await this.redis.multi().hdel(this.meta.keys.mounts, s).del(this.meta.keys.mountStats(s)).exec();
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.tick(), this.opts.statsIntervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.busy) return this.schedule();
    this.busy = true;
    try {
      const now = Date.now();
      const due = now - this.lastBeat >= this.opts.heartbeatMs;
      await this.beat(due);
      // A peer is stale after staleMs: looking three times in that span finds it soon enough,
      // without every mount of a volume reading the whole registry at every beat.
      if (now - this.lastReap >= Math.max(this.opts.heartbeatMs, this.opts.staleMs / 3)) {
        this.lastReap = now;
        await reapStale(this.redis, this.meta, this.onChanged);
      }
    } catch (err) {
      log.warn({ err: String(err) }, 'heartbeat failed; will retry');
    } finally {
      this.busy = false;
      if (this.timer) this.schedule();
    }
  }

  // Beats when due, or sooner when the counters moved (so `redisfs stats` sees each second).
  private async beat(force: boolean): Promise<void> {
    const snap = this.stats?.();
    // Redis counters move with every beat itself: they alone do not make a beat due.
    const text = snap ? JSON.stringify({ ...snap, at: 0, redis: 0 }) : '';
    if (!force && text === this.lastStats) return;
    this.lastStats = text;
    const stats = snap ? JSON.stringify(snap) : '';
    await this.meta.heartbeat(this.entryPrefix, stats, this.opts.staleMs);
    this.lastBeat = Date.now();
  }
}
