// What a mount tells the world about itself: its entry in the volume's mount registry (with a
// heartbeat and its stats, for `redisfs stats` from any host), an info file beside its pid file
// (for `redisfs stats <mountpoint>`), and, with --metrics, a Prometheus/JSON endpoint.
import type { Server } from 'node:http';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Redis, Cluster } from 'ioredis';
import type { MetaStore } from '../store/meta-store.js';
import type { RedisCounters } from '../store/redis-metrics.js';
import { MountRegistry, registryOptionsFromEnv, type MountStatsSnapshot } from '../store/mounts.js';
import type { OpStats } from '../vfs/op-stats.js';
import type { Vfs } from '../vfs/vfs.js';
import { redisfsVersion } from '../core/version.js';
import { log } from '../core/log.js';
import { startMetricsServer } from './metrics-server.js';
import { infoFile } from './paths.js';

export interface InstrumentsConfig {
  mountpoint: string;
  volume: string;
  /** The Redis URL without its password. */
  redisUrl: string;
  /** HOST:PORT for the metrics endpoint, or undefined for none. */
  metrics: string | undefined;
}

/** What `redisfs stats <mountpoint>` reads to find the mount's volume and Redis. */
export interface MountInfoFile {
  volume: string;
  redis: string;
  session: string;
  pid: number;
}

export class Instruments {
  private server: Server | undefined;
  private readonly registry: MountRegistry;

  constructor(
    redis: Redis | Cluster,
    private readonly meta: MetaStore,
    private readonly vfs: Vfs,
    private readonly opStats: OpStats,
    private readonly redisCounters: RedisCounters,
    private readonly cfg: InstrumentsConfig,
  ) {
    this.registry = new MountRegistry(redis, meta, { mountpoint: cfg.mountpoint, version: redisfsVersion(), kind: 'mount' },
      () => this.snapshot(), registryOptionsFromEnv(), (items) => { if (items.length > 0) vfs.remoteChanged(items); });
  }

  /** start registers the mount, writes its info file and opens the metrics endpoint if asked. */
  async start(): Promise<void> {
    await this.registry.register();
    const info: MountInfoFile = { volume: this.cfg.volume, redis: this.cfg.redisUrl, session: this.meta.sessionId, pid: process.pid };
    const file = infoFile(this.cfg.mountpoint);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(info) + '\n');
    if (this.cfg.metrics !== undefined) {
      this.server = await startMetricsServer(this.cfg.metrics, {
        snapshot: () => this.snapshot(),
        describe: () => ({ mountpoint: this.cfg.mountpoint, volume: this.cfg.volume, session: this.meta.sessionId, pid: process.pid, version: redisfsVersion() }),
      });
      log.info({ metrics: this.cfg.metrics }, 'metrics endpoint listening');
    }
  }

  /** stop deregisters (a clean unmount leaves no entry), closes the endpoint, removes the info file. */
  async stop(): Promise<void> {
    this.server?.close();
    await rm(infoFile(this.cfg.mountpoint), { force: true });
    await this.registry.deregister().catch((err: unknown) => log.warn({ err: String(err) }, 'could not deregister the mount'));
  }

  snapshot(): MountStatsSnapshot {
    const opsByName = this.opStats.snapshot();
    const ops = { count: 0, errors: 0, totalUs: 0 };
    for (const c of Object.values(opsByName)) {
      ops.count += c.count;
      ops.errors += c.errors;
      ops.totalUs += c.totalUs;
    }
    const vs = this.vfs.stats;
    const cc = this.vfs.chunkCache;
    const r = this.redisCounters;
    return {
      at: Date.now(),
      ops,
      opsByName,
      bytesRead: this.vfs.io.bytesRead,
      bytesWritten: this.vfs.io.bytesWritten,
      cache: { hits: cc.hits, misses: cc.misses, bytes: cc.bytes, maxBytes: cc.maxBytes },
      redis: { commands: r.commands, errors: r.errors, totalUs: Math.round(r.totalUs), inflight: r.inflight },
      commits: this.meta.commits,
      invalidations: this.vfs.io.invalidations,
      openHandles: vs.openHandles,
      dirtyBytes: vs.dirtyBytes,
    };
  }
}

/** urlWithoutPassword drops the password of a Redis URL (kept: user, hosts, db). */
export function urlWithoutPassword(url: string): string {
  return url.replace(/^([a-z+-]+:\/\/)([^:@/]*):([^@/]*)@/i, (_m, scheme: string, user: string) => (user ? `${scheme}${user}@` : scheme));
}
