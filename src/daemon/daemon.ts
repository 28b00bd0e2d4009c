// The composition root of a mount: connects Redis, builds store → VFS → FUSE adapter, wires
// invalidations, and unmounts cleanly on SIGINT/SIGTERM or when the mount disappears.
import { readFile, writeFile, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { log } from '../core/log.js';
import { connect, checkServer, chunkReaderOptions, safeUrl, type RedisClient, type RedisTarget, type TlsFiles } from '../store/connect.js';
import { MetaStore } from '../store/meta-store.js';
import { ChunkStore } from '../store/chunk-store.js';
import { ChunkReader } from '../store/chunk-reader.js';
import { isFrom, parseMessage } from '../store/invalidation.js';
import { Reclaimer } from '../store/reclaimer.js';
import { subscribeChannel, type Subscription } from '../store/subscription.js';
import { Vfs, DEFAULT_VFS_OPTIONS } from '../vfs/vfs.js';
import { DEFAULT_FUSE_MOUNT_OPTIONS } from '../fuse/mount-options.js';
import { DEFAULT_LOWLEVEL_MOUNT_OPTIONS } from '../fuse/lowlevel/options.js';
import type { OpStats } from '../vfs/op-stats.js';
import { ensureEmbeddedRedis } from './embedded-redis.js';
import { checkMountpoint, mountedType } from './mountpoint.js';
import { pidFile } from './paths.js';
import { instrumentRedis } from '../store/redis-metrics.js';
import { Instruments, urlWithoutPassword } from './instruments.js';

export interface MountConfig {
  mountpoint: string;
  /** Redis URL; undefined means the embedded local redis-server. */
  redisUrl: string | undefined;
  password: string | undefined;
  volume: string;
  ioTimeoutMs: number;
  cacheBytes: number;
  allowOther: boolean;
  allowEviction: boolean;
  chunkSize: number;
  inlineMax: number;
  debugFuse: boolean;
  /** Which FUSE binding serves the mount. */
  binding: FuseBinding;
  /** lowlevel: seconds the kernel keeps attributes and entries. */
  kernelCacheSec: number;
  /** lowlevel: FUSE writeback cache. */
  writebackCache: boolean;
  /** HOST:PORT of the Prometheus/JSON endpoint (--metrics); undefined: none. */
  metrics?: string | undefined;
  /** Replicas that must acknowledge each commit (Redis WAIT); 0 for none. */
  waitReplicas: number;
  tls: TlsFiles;
}

/** lowlevel: our libfuse3 low-level addon (native/); fuse-native: libfuse2's high-level API. */
export type FuseBinding = 'lowlevel' | 'fuse-native';
export const FUSE_BINDINGS: readonly FuseBinding[] = ['lowlevel', 'fuse-native'];
export const DEFAULT_FUSE_BINDING: FuseBinding = 'lowlevel';

/** What the daemon needs of a binding. */
interface FuseAdapter {
  mount(): Promise<void>;
  unmount(): Promise<void>;
  /** Set by bindings that hear the kernel end the session (someone unmounted it). */
  onUnmounted?: (() => void) | undefined;
  /** True when the binding calls onUnmounted itself (the mount table is then read less often). */
  readonly hearsUnmount?: boolean;
  /** Set by such a binding once the session ended, in case that came before onUnmounted was. */
  readonly sessionEnded?: boolean;
  readonly opStats: OpStats;
}

export interface Mounted {
  /** Resolves when the mount has ended (signal, umount, or the mount vanished). */
  done: Promise<void>;
  describe: string;
}

/** mount brings a volume up at a mountpoint and resolves once it is usable. */
export async function mount(cfg: MountConfig): Promise<Mounted> {
  await checkMountpoint(cfg.mountpoint);
  const url = cfg.redisUrl ?? (await ensureEmbeddedRedis()).url;
  const target: RedisTarget = { url, password: cfg.password, ioTimeoutMs: cfg.ioTimeoutMs, tls: cfg.tls };
  const redis = await connect(target, `redisfs:${cfg.volume}`);
  const redisCounters = instrumentRedis(redis);
  let sub: Subscription | undefined;
  let reader: ChunkReader | undefined;
  try {
    const check = await checkServer(redis, cfg.allowEviction);
    for (const w of check.warnings) log.warn(w);
    const meta = new MetaStore(redis, cfg.volume);
    meta.waitReplicas = cfg.waitReplicas;
    // WAIT must give up before the command timeout does, to say how many replicas answered.
    meta.waitTimeoutMs = Math.max(100, cfg.ioTimeoutMs - 500);
    const { session } = await meta.open({ chunkSize: cfg.chunkSize, inlineMax: cfg.inlineMax });
    const readerOptions = chunkReaderOptions(target, `redisfs:${cfg.volume}:chunks`);
    reader = readerOptions ? new ChunkReader({ ...readerOptions, counters: redisCounters }) : undefined;
    const chunks = new ChunkStore(redis, meta.keys, session, reader);
    const vfs = new Vfs(meta, chunks, { ...DEFAULT_VFS_OPTIONS, cacheBytes: cfg.cacheBytes });

    sub = await subscribe(redis, target, `redisfs:${cfg.volume}:sub`, meta.keys.inval, meta.shardedPubsub, session, vfs);

    const adapter = await makeAdapter(cfg, vfs);
    const instruments = new Instruments(redis, meta, vfs, adapter.opStats, redisCounters,
      { mountpoint: cfg.mountpoint, volume: cfg.volume, redisUrl: urlWithoutPassword(url), metrics: cfg.metrics });
    await instruments.start();
    try {
      await adapter.mount();
    } catch (err) {
      await instruments.stop();
      throw err;
    }
    const reclaimer = new Reclaimer(redis, meta.keys, chunks);
    reclaimer.start();
    await writePid(cfg.mountpoint);
    log.info({ mountpoint: cfg.mountpoint, volume: cfg.volume, redis: safeUrl(url), session, redisVersion: check.version }, 'mounted');

    const subConn = sub;
    const done = new Promise<void>((resolve) => {
      let stopping = false;
      let watch: NodeJS.Timeout | undefined;
      const stop = async (why: string): Promise<void> => {
        if (stopping) return;
        stopping = true;
        clearInterval(watch);
        log.info({ why }, 'unmounting');
        reclaimer.stop();
        await vfs.shutdown();
        if ((await mountedType(cfg.mountpoint).catch(() => undefined)) !== undefined) {
          await adapter.unmount().catch((err: unknown) => log.warn({ err: String(err) }, 'unmount failed'));
        }
        await vfs.purged(); // what the kernel let go of while unmounting, before Redis is closed
        await rm(pidFile(cfg.mountpoint), { force: true });
        await instruments.stop();
        subConn.close();
        reader?.close();
        await redis.quit().catch(() => redis.disconnect());
        resolve();
      };
      process.on('SIGUSR2', () => log.info({ ops: adapter.opStats.snapshot(), vfs: vfs.stats }, 'stats'));
      adapter.onUnmounted = () => void stop('mount went away');
      if (adapter.sessionEnded) void stop('mount went away');
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      // Someone ran fusermount -u (or umount) directly: nothing left to serve. The lowlevel
      // binding hears that at once; but a lazy detach (umount -l) with files still open ends
      // the session only at the last close, and a detached daemon nobody can see or
      // `redisfs umount` should not keep running, so the mount table is still read: every 2 s
      // for a binding that hears nothing, every 5 s otherwise.
      watch = setInterval(() => {
        mountedType(cfg.mountpoint).then((t) => { if (t === undefined) void stop('mount went away'); }, () => undefined);
      }, adapter.hearsUnmount ? 5000 : 2000);
      watch.unref();
    });
    return { done, describe: `volume ${cfg.volume} on ${safeUrl(url)}` };
  } catch (err) {
    sub?.close();
    reader?.close();
    redis.disconnect();
    throw err;
  }
}

// Each binding is loaded only when chosen: each has a native part of its own to build.
async function makeAdapter(cfg: MountConfig, vfs: Vfs): Promise<FuseAdapter> {
  const fsname = `redisfs:${cfg.volume}`;
  if (cfg.binding === 'lowlevel') {
    const { FuseLowLevelAdapter } = await import('../fuse/lowlevel/adapter.js');
    return new FuseLowLevelAdapter(vfs, cfg.mountpoint, {
      ...DEFAULT_LOWLEVEL_MOUNT_OPTIONS, allowOther: cfg.allowOther, fsname, debug: cfg.debugFuse,
      attrTimeout: cfg.kernelCacheSec, entryTimeout: cfg.kernelCacheSec, writebackCache: cfg.writebackCache,
    });
  }
  const { FuseNativeAdapter, opStats } = await import('../fuse/fuse-native-adapter.js');
  const adapter = new FuseNativeAdapter(vfs, cfg.mountpoint, {
    ...DEFAULT_FUSE_MOUNT_OPTIONS, allowOther: cfg.allowOther, fsname, debug: cfg.debugFuse,
  });
  return Object.assign(adapter, { opStats });
}

// Every mount hears every other mount's changes; its own it has applied already.
async function subscribe(redis: RedisClient, target: RedisTarget, name: string, channel: string, sharded: boolean,
  session: string, vfs: Vfs): Promise<Subscription> {
  const sub = await subscribeChannel(redis, target, name, channel, sharded, {
    message: (message) => {
      if (isFrom(message, session)) return; // half of what a writing mount hears: not parsed
      vfs.remoteChanged(parseMessage(message).items);
    },
    // While the subscription is down, changes go unheard: trust no cached attr or entry until
    // it is back (immutable chunks stay valid).
    state: (up) => vfs.setSubscribed(up),
  });
  vfs.setSubscribed(true);
  return sub;
}

async function writePid(mountpoint: string): Promise<void> {
  const file = pidFile(mountpoint);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${process.pid}\n`);
}

/** daemonPid returns the pid of the daemon serving a mountpoint, if it is alive. */
export async function daemonPid(mountpoint: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(pidFile(mountpoint), 'utf8')).trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}
