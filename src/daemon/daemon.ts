// The composition root of a mount: connects Redis, builds store → VFS → FUSE adapter, wires
// invalidations, and unmounts cleanly on SIGINT/SIGTERM or when the mount disappears.
import { readFile, writeFile, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Redis } from 'ioredis';
import { log } from '../core/log.js';
import { connect, checkServer, safeUrl, type RedisTarget } from '../store/connect.js';
import { MetaStore } from '../store/meta-store.js';
import { ChunkStore } from '../store/chunk-store.js';
import { parseMessage } from '../store/invalidation.js';
import { Reclaimer } from '../store/reclaimer.js';
import { Vfs, DEFAULT_VFS_OPTIONS } from '../vfs/vfs.js';
import { FuseNativeAdapter, opStats } from '../fuse/fuse-native-adapter.js';
import { DEFAULT_FUSE_MOUNT_OPTIONS } from '../fuse/mount-options.js';
import { ensureEmbeddedRedis } from './embedded-redis.js';
import { checkMountpoint, mountedType } from './mountpoint.js';
import { pidFile } from './paths.js';

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
  const target: RedisTarget = { url, password: cfg.password, ioTimeoutMs: cfg.ioTimeoutMs };
  const redis = await connect(target, `redisfs:${cfg.volume}`);
  let sub: Redis | undefined;
  try {
    const check = await checkServer(redis, cfg.allowEviction);
    for (const w of check.warnings) log.warn(w);
    const meta = new MetaStore(redis, cfg.volume);
    const { session } = await meta.open({ chunkSize: cfg.chunkSize, inlineMax: cfg.inlineMax });
    const chunks = new ChunkStore(redis, meta.keys, session);
    const vfs = new Vfs(meta, chunks, { ...DEFAULT_VFS_OPTIONS, cacheBytes: cfg.cacheBytes });

    sub = await connect(target, `redisfs:${cfg.volume}:sub`);
    await subscribe(sub, meta.keys.inval, session, vfs);

    const adapter = new FuseNativeAdapter(vfs, cfg.mountpoint, {
      ...DEFAULT_FUSE_MOUNT_OPTIONS, allowOther: cfg.allowOther, fsname: `redisfs:${cfg.volume}`, debug: cfg.debugFuse,
    });
    await adapter.mount();
    const reclaimer = new Reclaimer(redis, meta.keys, chunks);
    reclaimer.start();
    await writePid(cfg.mountpoint);
    log.info({ mountpoint: cfg.mountpoint, volume: cfg.volume, redis: safeUrl(url), session, redisVersion: check.version }, 'mounted');

    const subConn = sub;
    const done = new Promise<void>((resolve) => {
      let stopping = false;
      const stop = async (why: string): Promise<void> => {
        if (stopping) return;
        stopping = true;
        clearInterval(watch);
        log.info({ why }, 'unmounting');
        reclaimer.stop();
        await vfs.shutdown();
        await adapter.unmount().catch((err: unknown) => log.warn({ err: String(err) }, 'unmount failed'));
        await rm(pidFile(cfg.mountpoint), { force: true });
        subConn.disconnect();
        await redis.quit().catch(() => redis.disconnect());
        resolve();
      };
      process.on('SIGUSR2', () => log.info({ ops: opStats.snapshot(), vfs: vfs.stats }, 'stats'));
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      // Someone ran fusermount -u (or umount) directly: nothing left to serve.
      const watch = setInterval(() => {
        mountedType(cfg.mountpoint).then((t) => { if (t === undefined) void stop('mount went away'); }, () => undefined);
      }, 2000);
      watch.unref();
    });
    return { done, describe: `volume ${cfg.volume} on ${safeUrl(url)}` };
  } catch (err) {
    sub?.disconnect();
    redis.disconnect();
    throw err;
  }
}

// Every mount hears every other mount's changes; its own it has applied already.
async function subscribe(sub: Redis, channel: string, session: string, vfs: Vfs): Promise<void> {
  sub.on('messageBuffer', (_ch: Buffer, message: Buffer) => {
    const m = parseMessage(message);
    if (m.session !== session) vfs.remoteChanged(m.items);
  });
  // While the subscription is down, changes go unheard: trust no cached attr or entry until
  // it is back (immutable chunks stay valid).
  sub.on('close', () => vfs.setSubscribed(false));
  sub.on('ready', () => {
    sub.subscribe(channel).then(() => vfs.setSubscribed(true), (err: unknown) => log.warn({ err: String(err) }, 'resubscribe failed'));
  });
  await sub.subscribe(channel);
  vfs.setSubscribed(true);
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
