// Opens the connections a mount needs and checks that the Redis behind them is fit to hold
// a filesystem. Every failure here becomes a one-line, human message (ConnectError).
import { Redis, type RedisOptions } from 'ioredis';

export class ConnectError extends Error {
  override name = 'ConnectError';
}

export interface RedisTarget {
  /** redis://[user:pass@]host:port[/db], rediss://… or unix:///path/to/socket */
  url: string;
  password?: string | undefined;
  /** Bounds every command and the connection attempt, in ms. @default 5000 */
  ioTimeoutMs: number;
}

export const DEFAULT_IO_TIMEOUT_MS = 5000;

/** redisOptions parses and validates a Redis URL into ioredis options. */
export function redisOptions(target: RedisTarget): RedisOptions {
  let url: URL;
  try {
    url = new URL(target.url);
  } catch {
    throw new ConnectError(`invalid Redis URL '${target.url}' (expected redis://host:port, rediss://host:port or unix:///path)`);
  }
  const base: RedisOptions = {
    connectTimeout: target.ioTimeoutMs,
    commandTimeout: target.ioTimeoutMs,
    maxRetriesPerRequest: 1,
    // While the connection is down a command fails at once (EIO, or the cached answer) instead
    // of queueing until the timeout: a file system call must not hang on an outage.
    enableOfflineQueue: false,
    enableReadyCheck: true,
    lazyConnect: true,
    // Keep reconnecting (bounded back-off); each command still fails within its timeout.
    retryStrategy: (times) => Math.min(times * 100, 2000),
  };
  const password = target.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  if (password !== undefined) base.password = password;
  if (url.username) base.username = decodeURIComponent(url.username);
  switch (url.protocol) {
    case 'redis:':
    case 'rediss:': {
      if (!url.hostname) throw new ConnectError(`invalid Redis URL '${target.url}': no host`);
      const port = url.port ? Number(url.port) : 6379;
      const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
      if (!Number.isInteger(db) || db < 0) throw new ConnectError(`invalid Redis URL '${target.url}': bad database number`);
      return { ...base, host: url.hostname.replace(/^\[|\]$/g, ''), port, db, ...(url.protocol === 'rediss:' ? { tls: {} } : {}) };
    }
    case 'unix:':
      return { ...base, path: url.pathname };
    default:
      throw new ConnectError(`invalid Redis URL '${target.url}': unsupported scheme '${url.protocol}'`);
  }
}

/** connect opens one connection and waits (bounded) until it answers. */
export async function connect(target: RedisTarget, name: string): Promise<Redis> {
  const redis = new Redis({ ...redisOptions(target), connectionName: name });
  redis.on('error', () => { /* reported through command failures and the ready wait below */ });
  const where = safeUrl(target.url);
  try {
    await withTimeout(redis.connect(), target.ioTimeoutMs + 500, `Redis at ${where} did not answer within ${target.ioTimeoutMs} ms`);
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new ConnectError(describeFailure(err, where));
  }
  return redis;
}

function describeFailure(err: unknown, where: string): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/WRONGPASS|invalid password|invalid username-password/i.test(msg)) return `Redis at ${where} refused the credentials (wrong password or user)`;
  if (/NOAUTH/i.test(msg)) return `Redis at ${where} needs a password (put it in the URL, REDISFS_PASSWORD or --password-file)`;
  if (/ECONNREFUSED/.test(msg)) return `cannot connect to Redis at ${where}: connection refused`;
  if (/ENOTFOUND|EAI_AGAIN/.test(msg)) return `cannot connect to Redis at ${where}: unknown host`;
  if (/ENOENT/.test(msg)) return `cannot connect to Redis at ${where}: no such socket`;
  return msg.startsWith('Redis at') ? msg : `cannot connect to Redis at ${where}: ${msg}`;
}

/** safeUrl hides the password of a URL, for messages and logs. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ServerCheck {
  version: string;
  evictionPolicy: string | undefined;
  warnings: string[];
}

/** checkServer reads the server's version and eviction policy: eviction would delete files. */
export async function checkServer(redis: Redis, allowEviction: boolean): Promise<ServerCheck> {
  const info = await redis.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  const warnings: string[] = [];
  let evictionPolicy: string | undefined;
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    evictionPolicy = reply[1];
  } catch {
    warnings.push('cannot read maxmemory-policy (CONFIG is not allowed); make sure it is noeviction');
  }
  if (evictionPolicy && evictionPolicy !== 'noeviction') {
    const msg = `Redis maxmemory-policy is '${evictionPolicy}': eviction would silently delete files; set it to noeviction or pass --allow-eviction`;
    if (!allowEviction) throw new ConnectError(msg);
    warnings.push(msg);
  }
  const major = Number(version.split('.')[0]);
  if (Number.isFinite(major) && major < 6) throw new ConnectError(`Redis ${version} is too old: redisfs needs Redis 6 or newer`);
  return { version, evictionPolicy, warnings };
}
