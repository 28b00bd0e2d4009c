// `redisfs mount <mountpoint>`: returns once the mount is usable (a daemon keeps serving it),
// or stays attached with --foreground.
import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv } from 'yargs';
import { DEFAULT_FUSE_BINDING, FUSE_BINDINGS, mount, type FuseBinding, type MountConfig } from '../../daemon/daemon.js';
import { DEFAULT_LOWLEVEL_MOUNT_OPTIONS } from '../../fuse/lowlevel/options.js';
import { daemonEnv } from '../../daemon/malloc-env.js';
import { logFile } from '../../daemon/paths.js';
import { DEFAULT_IO_TIMEOUT_MS, isClusterUrl } from '../../store/connect.js';
import { VOLUME_NAME } from '../../store/keys.js';
import { parseSize } from '../size.js';
import { CliError } from '../cli-error.js';

const READY_TIMEOUT_MS = 60_000;

export function mountCommand(y: Argv): Argv {
  return y.command(
    'mount <mountpoint>',
    'Mount a volume (returns once it is usable)',
    (c) => c
      .positional('mountpoint', { type: 'string', describe: 'An existing, empty directory', demandOption: true })
      .option('redis', { type: 'string', describe: 'Redis URL: redis://[user:pass@]host:port[/db], rediss://…, unix:///path. Default: $REDISFS_REDIS, else a local redis-server started on demand' })
      .option('volume', { type: 'string', default: 'default', describe: 'Volume name ([A-Za-z0-9._-], many volumes can share one Redis)' })
      .option('foreground', { type: 'boolean', default: false, describe: 'Stay attached; unmount on SIGINT/SIGTERM' })
      .option('password-file', { type: 'string', describe: 'Read the Redis password from this file (or set $REDISFS_PASSWORD)' })
      .option('cache-size', { type: 'string', default: '512M', describe: 'Memory for cached file data' })
      .option('io-timeout', { type: 'number', default: DEFAULT_IO_TIMEOUT_MS, describe: 'Longest wait for Redis on any call, in ms (then EIO)' })
      .option('allow-other', { type: 'boolean', default: false, describe: 'Let users other than the mounting one access the mount' })
      .option('allow-eviction', { type: 'boolean', default: false, describe: 'Mount even if Redis may evict keys (which deletes files)' })
      .option('chunk-size', { type: 'string', default: '1M', describe: 'Chunk size of a new volume' })
      .option('inline-max', { type: 'string', default: '8K', describe: 'Files up to this size are stored inline (new volume)' })
      .option('binding', { type: 'string', choices: FUSE_BINDINGS, default: DEFAULT_FUSE_BINDING, describe: 'FUSE binding: lowlevel (libfuse3 low-level, kernel cache invalidation) or fuse-native (libfuse2)' })
      .option('kernel-cache', { type: 'number', default: DEFAULT_LOWLEVEL_MOUNT_OPTIONS.attrTimeout, describe: 'lowlevel binding: seconds the kernel keeps attributes and names (other hosts\' changes invalidate them at once; while the invalidation stream is down, at most this long); 0 also stops keeping file pages across opens' })
      .option('writeback-cache', { type: 'boolean', default: false, describe: 'lowlevel binding: let the kernel gather small writes in its page cache' })
      .option('wait-replicas', { type: 'number', default: 0, describe: 'close/fsync return only once this many replicas have the commit (Redis WAIT)' })
      .option('tls-ca', { type: 'string', describe: 'CA certificate file for rediss:// (and +tls) URLs' })
      .option('tls-cert', { type: 'string', describe: 'Client certificate file for TLS' })
      .option('tls-key', { type: 'string', describe: 'Client key file for TLS' })
      .option('metrics', { type: 'string', describe: 'Serve Prometheus metrics at http://HOST:PORT/metrics and JSON at /status (e.g. 127.0.0.1:9567; loopback unless a host is named)' })
      .option('debug-fuse', { type: 'boolean', default: false, hidden: true })
      .option('daemon-child', { type: 'boolean', default: false, hidden: true })
      .example('$0 mount /srv/uploads', 'Mount the default volume on a local Redis started on demand')
      .example('$0 mount /srv/uploads --redis redis://10.0.0.5:6379 --volume uploads', 'Mount volume "uploads" of a shared Redis (do this on every host)')
      .example('REDISFS_PASSWORD=secret $0 mount /mnt/x --redis redis://db:6379', 'A Redis that needs a password')
      .example('$0 mount /mnt/x --redis redis-sentinel://s1:26379,s2:26379,s3:26379/mymaster', 'A Sentinel-managed Redis (follows failovers)')
      .example('$0 mount /mnt/x --redis redis-cluster://n1:7000,n2:7001,n3:7002', 'A Redis Cluster (data spreads over every master)'),
    async (argv) => {
      if (argv.daemonChild) return runDaemonChild();
      const cfg = buildConfig(argv);
      if (argv.foreground) return runForeground(cfg);
      return runBackground(cfg);
    },
  );
}

interface MountArgs {
  mountpoint: string | undefined;
  redis: string | undefined;
  volume: string;
  passwordFile: string | undefined;
  cacheSize: string;
  ioTimeout: number;
  allowOther: boolean;
  allowEviction: boolean;
  chunkSize: string;
  inlineMax: string;
  debugFuse: boolean;
  metrics: string | undefined;
  binding: string;
  kernelCache: number;
  writebackCache: boolean;
  waitReplicas: number;
  tlsCa: string | undefined;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
}

function buildConfig(a: MountArgs): MountConfig {
  if (!a.mountpoint) throw new CliError('mount needs a mountpoint');
  if (!VOLUME_NAME.test(a.volume)) throw new CliError(`invalid volume name '${a.volume}' (letters, digits, . _ -; at most 64)`);
  if (!Number.isFinite(a.ioTimeout) || a.ioTimeout < 100) throw new CliError('--io-timeout must be at least 100 (ms)');
  if (!Number.isFinite(a.waitReplicas) || a.waitReplicas < 0) throw new CliError('--wait-replicas must be 0 or more');
  if (!Number.isFinite(a.kernelCache) || a.kernelCache < 0 || a.kernelCache > 3600) throw new CliError('--kernel-cache must be between 0 and 3600 (seconds)');
  const size = (flag: string, v: string): number => {
    try { return parseSize(v); } catch (err) { throw new CliError(`--${flag}: ${(err as Error).message}`); }
  };
  let password = process.env.REDISFS_PASSWORD;
  if (a.passwordFile) {
    try {
      password = readFileSync(a.passwordFile, 'utf8').trim();
    } catch (err) {
      throw new CliError(`cannot read --password-file ${a.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  const chunkSize = size('chunk-size', a.chunkSize);
  if (chunkSize < 64 * 1024 || chunkSize > 64 * 1024 * 1024) throw new CliError('--chunk-size must be between 64K and 64M');
  const redisUrl = a.redis ?? process.env.REDISFS_REDIS ?? undefined;
  // WAIT names no key: on a cluster it would ask some node, not the ones a commit wrote to.
  if (a.waitReplicas > 0 && redisUrl && isClusterUrl(redisUrl)) {
    throw new CliError('--wait-replicas works with one Redis server or Sentinel, not Redis Cluster');
  }
  return {
    mountpoint: resolve(a.mountpoint),
    redisUrl,
    password,
    volume: a.volume,
    ioTimeoutMs: a.ioTimeout,
    cacheBytes: size('cache-size', a.cacheSize),
    allowOther: a.allowOther,
    allowEviction: a.allowEviction,
    chunkSize,
    inlineMax: Math.min(size('inline-max', a.inlineMax), chunkSize),
    debugFuse: a.debugFuse,
    metrics: a.metrics,
    waitReplicas: Math.max(0, Math.floor(a.waitReplicas)),
    tls: { ca: a.tlsCa, cert: a.tlsCert, key: a.tlsKey },
    binding: parseBinding(a.binding),
    kernelCacheSec: a.kernelCache,
    writebackCache: a.writebackCache,
  };
}

function parseBinding(v: string): FuseBinding {
  const b = FUSE_BINDINGS.find((x) => x === v);
  if (!b) throw new CliError(`--binding must be one of ${FUSE_BINDINGS.join(', ')}`);
  return b;
}

async function runForeground(cfg: MountConfig): Promise<void> {
  const m = await mount(cfg);
  process.stdout.write(`redisfs: mounted ${cfg.mountpoint}\n`);
  await m.done;
}

async function runBackground(cfg: MountConfig): Promise<void> {
  const log = logFile(cfg.mountpoint);
  mkdirSync(dirname(log), { recursive: true });
  const out = openSync(log, 'a');
  const main = fileURLToPath(new URL('../main.js', import.meta.url));
  const child = spawn(process.execPath, [main, 'mount', cfg.mountpoint, '--daemon-child'], {
    detached: true,
    stdio: ['ignore', out, out, 'ipc'],
    env: daemonEnv(process.env),
  });
  // The configuration (the Redis URL may carry a password) goes over the IPC channel: argv
  // shows in `ps`, and a process's initial environment stays readable in /proc/PID/environ.
  child.send({ config: cfg });
  const outcome = await new Promise<{ ok: true } | { ok: false; error: string }>((done) => {
    const timer = setTimeout(() => done({ ok: false, error: `the mount did not become ready within ${READY_TIMEOUT_MS / 1000} s; see ${log}` }), READY_TIMEOUT_MS);
    child.on('message', (m: { ready?: boolean; error?: string }) => {
      clearTimeout(timer);
      done(m.ready ? { ok: true } : { ok: false, error: m.error ?? 'mount failed' });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ ok: false, error: `the mount daemon exited (code ${code}); see ${log}` });
    });
  });
  if (!outcome.ok) {
    child.kill('SIGTERM');
    throw new CliError(outcome.error);
  }
  child.disconnect();
  child.unref();
}

async function runDaemonChild(): Promise<void> {
  if (!process.send) throw new CliError('--daemon-child is internal');
  const cfg = await new Promise<MountConfig>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CliError('--daemon-child got no configuration')), 10_000);
    process.once('message', (m: { config?: MountConfig }) => {
      clearTimeout(timer);
      if (m.config) resolve(m.config); else reject(new CliError('--daemon-child got no configuration'));
    });
  });
  let m;
  try {
    m = await mount(cfg);
  } catch (err) {
    process.send({ error: err instanceof Error ? err.message : String(err) });
    process.exitCode = 1;
    return;
  }
  process.send({ ready: true });
  process.disconnect?.();
  await m.done;
}
