// Opens the connections a mount needs and checks that the Redis behind them is fit to hold
// a filesystem. Every failure here becomes a one-line, human message (ConnectError).
//
// URL forms:
//   redis://[user:pass@]host:port[/db]         one server       (rediss:// for TLS)
//   unix:///path/to/redis.sock                 one server on a unix socket
//   redis-sentinel://[user:pass@]h1:26379,h2:26379/<master name>[/db]   Sentinel-managed
//   redis-cluster://[user:pass@]h1:7000,h2:7001                          Redis Cluster
// (append +tls to the scheme of the last two, e.g. redis-cluster+tls://…, for TLS)
import { readFileSync } from 'node:fs';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { nodeAddress } from './cluster-nodes.js';
import type { ConnectionOptions } from 'node:tls';
import type { ChunkReaderOptions } from './chunk-reader.js';

export class ConnectError extends Error {
  override name = 'ConnectError';
}

/** Every Redis client the store works with: one server (or Sentinel-managed), or a cluster. */
export type RedisClient = Redis | Cluster;

export interface TlsFiles {
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
}

export interface RedisTarget {
  url: string;
  password?: string | undefined;
  /** Bounds every command and the connection attempt, in ms. @default 5000 */
  ioTimeoutMs: number;
  tls?: TlsFiles | undefined;
}

export const DEFAULT_IO_TIMEOUT_MS = 5000;

interface Endpoint { host: string; port: number }

type Parsed =
  | { kind: 'single'; options: RedisOptions }
  | { kind: 'sentinel'; options: RedisOptions }
  | { kind: 'cluster'; nodes: Endpoint[]; options: RedisOptions };

const MULTI_HOST = /^(redis-sentinel|redis-cluster)(\+tls)?:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)(?:\/([^?#]*))?$/;

function endpoints(list: string, defaultPort: number, url: string): Endpoint[] {
  return list.split(',').map((hp) => {
    const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(hp.trim());
    if (!m) throw new ConnectError(`invalid Redis URL '${safeUrl(url)}': bad host '${hp}'`);
    return { host: m[1]!, port: m[2] ? Number(m[2]) : defaultPort };
  });
}

function tlsOptions(files: TlsFiles | undefined): ConnectionOptions {
  const read = (what: string, file: string | undefined): Buffer | undefined => {
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConnectError(`cannot read the TLS ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  };
  const ca = read('CA', files?.ca);
  const cert = read('certificate', files?.cert);
  const key = read('key', files?.key);
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/** parseTarget validates a Redis URL and turns it into client options. */
export function parseTarget(target: RedisTarget): Parsed {
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
  const multi = MULTI_HOST.exec(target.url);
  if (multi) {
    const [, scheme, tls, user, pass, hosts, path] = multi;
    const password = target.password ?? (pass ? decodeURIComponent(pass) : undefined);
    const auth: RedisOptions = {
      ...(password !== undefined ? { password } : {}),
      ...(user ? { username: decodeURIComponent(user) } : {}),
      ...(tls ? { tls: tlsOptions(target.tls) } : {}),
    };
    if (scheme === 'redis-sentinel') {
      const [name, db] = (path ?? '').split('/');
      if (!name) throw new ConnectError(`invalid Redis URL '${safeUrl(target.url)}': name the master, e.g. redis-sentinel://host:26379/mymaster`);
      return {
        kind: 'sentinel',
        options: {
          ...base, ...auth, name, sentinels: endpoints(hosts!, 26379, target.url), db: db ? Number(db) : 0,
          ...(password !== undefined ? { sentinelPassword: password } : {}),
          ...(tls ? { sentinelTLS: tlsOptions(target.tls), enableTLSForSentinelMode: true } : {}),
          // After a failover, the next reconnect asks the sentinels for the new master.
          sentinelRetryStrategy: (times: number) => Math.min(times * 100, 2000),
        },
      };
    }
    return { kind: 'cluster', nodes: endpoints(hosts!, 6379, target.url), options: { ...base, ...auth } };
  }
  let url: URL;
  try {
    url = new URL(target.url);
  } catch {
    throw new ConnectError(`invalid Redis URL '${safeUrl(target.url)}' (expected redis://host:port, rediss://host:port, unix:///path, redis-sentinel://… or redis-cluster://…)`);
  }
  const password = target.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  if (password !== undefined) base.password = password;
  if (url.username) base.username = decodeURIComponent(url.username);
  switch (url.protocol) {
    case 'redis:':
    case 'rediss:': {
      if (!url.hostname) throw new ConnectError(`invalid Redis URL '${safeUrl(target.url)}': no host`);
      const port = url.port ? Number(url.port) : 6379;
      const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
      if (!Number.isInteger(db) || db < 0) throw new ConnectError(`invalid Redis URL '${safeUrl(target.url)}': bad database number`);
      const tls = url.protocol === 'rediss:' ? { tls: tlsOptions(target.tls) } : {};
      return { kind: 'single', options: { ...base, host: url.hostname.replace(/^\[|\]$/g, ''), port, db, ...tls } };
    }
    case 'unix:':
      return { kind: 'single', options: { ...base, path: url.pathname } };
    default:
      throw new ConnectError(`invalid Redis URL '${safeUrl(target.url)}': unsupported scheme '${url.protocol}'`);
  }
}

/**
 * chunkReaderOptions says how a ChunkReader reaches the server, or undefined where it cannot:
 * TLS, Sentinel and Cluster stay with ioredis.
 */
export function chunkReaderOptions(target: RedisTarget, name: string): ChunkReaderOptions | undefined {
  const parsed = parseTarget(target);
  const o = parsed.options;
  if (parsed.kind !== 'single' || o.tls) return undefined;
  const endpoint = o.path ? { path: o.path } : { host: o.host ?? '127.0.0.1', port: o.port ?? 6379 };
  return { endpoint, username: o.username, password: o.password, db: o.db ?? 0, ioTimeoutMs: target.ioTimeoutMs, name };
}

/** connect opens one client and waits (bounded) until it answers. */
export async function connect(target: RedisTarget, name: string): Promise<RedisClient> {
  const parsed = parseTarget(target);
  let client: RedisClient;
  if (parsed.kind === 'cluster') {
    const clusterOptions: ClusterOptions = {
      redisOptions: { ...parsed.options, connectionName: name },
      lazyConnect: true,
      enableOfflineQueue: false,
      enableReadyCheck: true,
      clusterRetryStrategy: (times) => Math.min(times * 100, 2000),
      slotsRefreshTimeout: target.ioTimeoutMs,
    };
    if (parsed.options.password !== undefined) clusterOptions.redisOptions!.password = parsed.options.password;
    client = new Cluster(parsed.nodes, clusterOptions);
  } else {
    client = new Redis({ ...parsed.options, connectionName: name });
  }
  // Connection errors arrive as events; the promise below often only says "Connection is
  // closed", so the last event (a TLS or socket error) is the better explanation.
  let lastEvent: Error | undefined;
  client.on('error', (err: Error) => { lastEvent = err; });
  const where = safeUrl(target.url);
  try {
    await withTimeout(client.connect(), target.ioTimeoutMs + 500, `Redis at ${where} did not answer within ${target.ioTimeoutMs} ms`);
    await client.ping();
  } catch (err) {
    client.disconnect();
    const generic = err instanceof Error && /Connection is closed/.test(err.message);
    throw new ConnectError(describeFailure(generic && lastEvent ? lastEvent : err, where));
  }
  return client;
}

/** subscriber returns a second client for pub/sub on the same Redis (a cluster's too). */
export function duplicate(client: RedisClient): RedisClient {
  return client.duplicate();
}

function describeFailure(err: unknown, where: string): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/WRONGPASS|invalid password|invalid username-password/i.test(msg)) return `Redis at ${where} refused the credentials (wrong password or user)`;
  if (/NOAUTH/i.test(msg)) return `Redis at ${where} needs a password (put it in the URL, REDISFS_PASSWORD or --password-file)`;
  if (/ECONNREFUSED/.test(msg)) return `cannot connect to Redis at ${where}: connection refused`;
  if (/ENOTFOUND|EAI_AGAIN/.test(msg)) return `cannot connect to Redis at ${where}: unknown host`;
  if (/ENOENT/.test(msg)) return `cannot connect to Redis at ${where}: no such socket`;
  if (/All sentinels are unreachable|No sentinel/i.test(msg)) return `cannot reach any sentinel of ${where}`;
  if (/certificate|self.signed|SSL|TLS|handshake/i.test(msg)) return `TLS with Redis at ${where} failed: ${msg} (give the server's CA with --tls-ca)`;
  return msg.startsWith('Redis at') || msg.startsWith('cannot') ? msg : `cannot connect to Redis at ${where}: ${msg}`;
}

/** isClusterUrl tells whether a Redis URL names a Redis Cluster (redis-cluster[+tls]://…). */
export function isClusterUrl(url: string): boolean {
  return MULTI_HOST.exec(url)?.[1] === 'redis-cluster';
}

/** safeUrl hides the password of a URL, for messages and logs. */
export function safeUrl(url: string): string {
  return url.replace(/^([a-z+-]+:\/\/)([^:@/]*):([^@/]*)@/i, (_, scheme: string, user: string) => `${scheme}${user}:***@`);
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
export async function checkServer(redis: RedisClient, allowEviction: boolean): Promise<ServerCheck> {
  // INFO and CONFIG name no key: on a cluster, ask every master (each holds chunks).
  if (redis instanceof Cluster) {
    const checks = await Promise.all(redis.nodes('master').map(async (n) => {
      const c = await checkServer(n, allowEviction).catch((err: unknown) => {
        throw new ConnectError(`Redis at ${nodeAddress(n)}: ${err instanceof Error ? err.message : String(err)}`);
      });
      return { ...c, warnings: c.warnings.map((w) => `${nodeAddress(n)}: ${w}`) };
    }));
    if (checks.length === 0) throw new ConnectError('the cluster has no master answering');
    return { ...checks[0]!, warnings: checks.flatMap((c) => c.warnings) };
  }
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
  if (Number.isFinite(major) && major < 7) throw new ConnectError(`Redis ${version} is too old: redisfs needs Redis 7 or newer`);
  return { version, evictionPolicy, warnings };
}
