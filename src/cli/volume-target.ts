// The options every operations command shares to reach a volume (--redis, --volume,
// --password-file), and opening it: one connection, the volume's settings checked.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { connect, safeUrl, DEFAULT_IO_TIMEOUT_MS } from '../store/connect.js';
import { MetaStore, formatError } from '../store/meta-store.js';
import { VOLUME_NAME } from '../store/keys.js';
import { ensureEmbeddedRedis } from '../daemon/embedded-redis.js';
import { infoFile, redisfsHome } from '../daemon/paths.js';
import type { MountInfoFile } from '../daemon/instruments.js';
import { CliError } from './cli-error.js';

export type RedisConn = Awaited<ReturnType<typeof connect>>;

export interface VolumeArgs {
  redis: string | undefined;
  volume: string | undefined;
  passwordFile: string | undefined;
  ioTimeout: number;
}

/** withVolumeOptions adds --redis, --volume, --password-file and --io-timeout. */
export function withVolumeOptions<T>(c: Argv<T>): Argv<T & VolumeArgs> {
  return c
    .option('redis', { type: 'string', describe: 'Redis URL (default: $REDISFS_REDIS, else the local redis-server of `redisfs mount`)' })
    .option('volume', { type: 'string', describe: 'Volume name (default: default)' })
    .option('password-file', { type: 'string', describe: 'Read the Redis password from this file (or set $REDISFS_PASSWORD)' })
    .option('io-timeout', { type: 'number', default: DEFAULT_IO_TIMEOUT_MS, describe: 'Longest wait for Redis on any call, in ms' }) as unknown as Argv<T & VolumeArgs>;
}

export interface OpenVolume {
  redis: RedisConn;
  meta: MetaStore;
  volume: string;
  /** The URL, password hidden, for messages. */
  where: string;
  close(): Promise<void>;
}

/** readMountInfo finds the volume and Redis of a local mountpoint from the file its daemon wrote. */
export async function readMountInfo(mountpoint: string): Promise<MountInfoFile> {
  const mnt = resolve(mountpoint);
  try {
    return JSON.parse(await readFile(infoFile(mnt), 'utf8')) as MountInfoFile;
  } catch {
    throw new CliError(`${mnt} is not a redisfs mount of this host (no ${infoFile(mnt)}); give --volume and --redis instead`);
  }
}

/**
 * openVolume connects and reads the volume's settings. With create, a missing volume is
 * created (import); otherwise it is an error.
 */
export async function openVolume(a: VolumeArgs, opts: { create?: boolean; name?: string } = {}): Promise<OpenVolume> {
  const volume = a.volume ?? 'default';
  if (!VOLUME_NAME.test(volume)) throw new CliError(`invalid volume name '${volume}' (letters, digits, . _ -; at most 64)`);
  let password = process.env.REDISFS_PASSWORD;
  if (a.passwordFile) {
    try {
      password = (await readFile(a.passwordFile, 'utf8')).trim();
    } catch (err) {
      throw new CliError(`cannot read --password-file ${a.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  // Only import may start the local redis-server; the other commands look at what is there.
  const url = a.redis ?? process.env.REDISFS_REDIS
    ?? (opts.create ? (await ensureEmbeddedRedis()).url : `unix://${join(redisfsHome(), 'redis', 'redis.sock')}`);
  const redis = await connect({ url, password, ioTimeoutMs: a.ioTimeout }, `redisfs:${volume}:${opts.name ?? 'admin'}`);
  const meta = new MetaStore(redis, volume);
  const close = async (): Promise<void> => { await redis.quit().catch(() => redis.disconnect()); };
  try {
    if (opts.create) {
      await meta.open({ chunkSize: 1 << 20, inlineMax: 8192 });
    } else {
      const vol = await redis.hgetall(meta.keys.vol);
      if (vol.format === undefined) throw new CliError(`there is no volume '${volume}' on ${safeUrl(url)}`);
      const bad = formatError(volume, vol.format);
      if (bad) throw new CliError(bad);
      meta.settings = { chunkSize: Number(vol.chunkSize), inlineMax: Number(vol.inlineMax) };
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { redis, meta, volume, where: safeUrl(url), close };
}
