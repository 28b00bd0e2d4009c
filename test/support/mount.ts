// Spawning redisfs daemons (one per simulated host) and running the CLI, for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, inject } from 'vitest';
import { forceUnmount, isMounted } from './proc.js';
import { startRedis, waitExit, type RedisInstance, type StartRedisOptions } from './redis.js';
import { sleep, waitFor } from './wait.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The CLI under test; REDISFS_TEST_CLI points the suites at another build. */
export const CLI = process.env.REDISFS_TEST_CLI ?? path.join(REPO_ROOT, 'dist', 'cli', 'main.js');

export function tmpRoot(): string {
  return inject('tmpRoot');
}

export function redisUrl(): string {
  return inject('redisUrl');
}

/** A fresh directory under the run's temp root (os.tmpdir()). */
export async function makeTempDir(label: string): Promise<string> {
  const dir = path.join(tmpRoot(), 'dirs');
  await mkdir(dir, { recursive: true });
  return await mkdtemp(path.join(dir, `${label}-`));
}

/**
 * Starts a redis-server of a test's own (e.g. with a password) under the run's temp root, and
 * records its pid so that the run's teardown kills it even if the test process dies.
 */
export async function startPrivateRedis(opts: Omit<StartRedisOptions, 'parentDir' | 'onSpawn'> = {}): Promise<RedisInstance> {
  const pids = path.join(tmpRoot(), 'pids');
  await mkdir(pids, { recursive: true });
  return await startRedis({ ...opts, parentDir: tmpRoot(), onSpawn: (pid) => void writeFile(path.join(pids, `redis-${pid}`), '') });
}

let volumeSerial = 0;
/** A volume name no other test file uses: [A-Za-z0-9._-]{1,64}. */
export function uniqueVolume(label: string): string {
  const name = `t-${label}-${process.pid}-${Date.now().toString(36)}-${volumeSerial++}`.replace(/[^A-Za-z0-9._-]/g, '_');
  return name.slice(-64);
}

function assertCliBuilt(): void {
  if (!existsSync(CLI)) {
    throw new Error(`${CLI} does not exist: build first (npm run build, or sh scripts/setup.sh)`);
  }
}

/** Keeps the last `limit` characters of a stream. */
class Tail {
  private text = '';
  constructor(private readonly limit = 64 * 1024) {}
  push(s: string): void {
    this.text = (this.text + s).slice(-this.limit);
  }
  toString(): string {
    return this.text;
  }
}

export interface StopResult {
  /** Exit code of the daemon, or null when it died of a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** SIGTERM alone made it unmount and exit 0 in time. */
  readonly clean: boolean;
  /** Had to fall back to lazy unmount and/or SIGKILL. */
  readonly forced: boolean;
  readonly stderr: string;
}

export interface Host {
  readonly mountpoint: string;
  readonly volume: string;
  readonly redisUrl: string;
  readonly pid: number;
  readonly label: string;
  readonly logFile: string;
  /** Absolute path of `rel` inside the mount. */
  p(...rel: string[]): string;
  /** The daemon's stderr so far (tail). */
  stderr(): string;
  /** Exit code/signal if the daemon has exited, else undefined. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Lines the daemon printed on stdout so far. */
  stdoutLines(): readonly string[];
  /** SIGTERM (or `signal`), wait (bounded), then fall back to lazy unmount + SIGKILL. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<StopResult>;
}

export interface MountOptions {
  volume: string;
  /** @default inject('redisUrl') */
  redisUrl?: string;
  /** Appended after the standard arguments. */
  extraArgs?: string[];
  /** @default a fresh directory under the run's temp root */
  mountpoint?: string;
  /** Names the host in logs and messages. @default 'host' */
  label?: string;
  /** @default 20000 */
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

const liveHosts = new Set<Host>();

/**
 * Environment for every CLI/daemon the tests start: the test process's own, less REDISFS_*
 * settings from the caller's shell that would change what the tests mean (REDISFS_LOG_LEVEL
 * stays), with REDISFS_HOME (pid files, logs, an embedded Redis) inside the run's temp root,
 * then `extra` on top (an undefined value removes a variable).
 */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('REDISFS_') && k !== 'REDISFS_LOG_LEVEL') continue;
    env[k] = v;
  }
  env.REDISFS_HOME = path.join(tmpRoot(), 'home');
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}


/**
 * Mounts the volume with `redisfs mount MP --redis URL --volume V --foreground` as a child
 * process and resolves once it printed `redisfs: mounted <MP>` and the kernel lists the mount.
 */
export async function mountHost(opts: MountOptions): Promise<Host> {
  assertCliBuilt();
  const label = opts.label ?? 'host';
  const url = opts.redisUrl ?? redisUrl();
  let mountpoint = opts.mountpoint;
  let ownMountpoint = false;
  if (mountpoint === undefined) {
    await mkdir(path.join(tmpRoot(), 'mnt'), { recursive: true });
    mountpoint = await mkdtemp(path.join(tmpRoot(), 'mnt', `${label}-`));
    ownMountpoint = true;
  }
  mountpoint = path.resolve(mountpoint);
  // REDISFS_TEST_BINDING picks the FUSE binding under test (see binding.ts); unset, the CLI's default.
  const binding = process.env.REDISFS_TEST_BINDING ? ['--binding', process.env.REDISFS_TEST_BINDING] : [];
  const args = [CLI, 'mount', mountpoint, '--redis', url, '--volume', opts.volume, '--foreground', ...binding, ...(opts.extraArgs ?? [])];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: cliEnv(opts.env),
  });
  const pid = child.pid ?? -1;
  const pidFile = path.join(tmpRoot(), 'pids', `daemon-${pid}`);
  if (pid > 0) await writeFile(pidFile, `${args.join(' ')}\n`);

  const logDir = inject('logDir');
  await mkdir(logDir, { recursive: true });
  const logFile = path.join(logDir, `${opts.volume}.${label}.${pid}.log`);
  const log: WriteStream = createWriteStream(logFile);
  log.on('error', () => undefined);
  log.write(`$ node ${args.join(' ')}\n`);
  const stderr = new Tail();
  let spawnError: Error | undefined;
  child.on('error', (e) => {
    spawnError = e;
  });
  let stdoutBuf = '';
  const stdoutLines: string[] = [];
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    log.write(d.replace(/^(?=.)/gm, '[out] '));
    stdoutBuf += d;
    let i: number;
    while ((i = stdoutBuf.indexOf('\n')) >= 0) {
      stdoutLines.push(stdoutBuf.slice(0, i));
      stdoutBuf = stdoutBuf.slice(i + 1);
    }
  });
  child.stderr?.on('data', (d: string) => {
    log.write(d.replace(/^(?=.)/gm, '[err] '));
    stderr.push(d);
  });
  child.on('exit', (code, signal) => log.write(`[exit] code=${code} signal=${signal}\n`));

  let stopping: Promise<StopResult> | undefined;
  const host: Host = {
    mountpoint,
    volume: opts.volume,
    redisUrl: url,
    pid,
    label,
    logFile,
    p: (...rel) => path.join(mountpoint, ...rel),
    stderr: () => stderr.toString(),
    exited: () =>
      child.exitCode !== null || child.signalCode !== null ? { code: child.exitCode, signal: child.signalCode } : undefined,
    stdoutLines: () => [...stdoutLines],
    stop: (signal: NodeJS.Signals = 'SIGTERM') => {
      stopping ??= (async (): Promise<StopResult> => {
        let forced = false;
        const alreadyExited = host.exited() !== undefined;
        if (!alreadyExited) {
          child.kill(signal);
          if (!(await waitExit(child, 10_000))) {
            forced = true;
            await forceUnmount(mountpoint);
            child.kill('SIGKILL');
            await waitExit(child, 5000);
          }
        }
        if (await isMounted(mountpoint)) {
          forced = true;
          await forceUnmount(mountpoint);
        }
        // Let the stdio pipes drain so the log has everything.
        await Promise.race([new Promise((r) => child.once('close', r)), sleep(500)]);
        log.end();
        liveHosts.delete(host);
        await rm(pidFile, { force: true });
        if (ownMountpoint) await rmdir(mountpoint).catch(() => undefined);
        const code = child.exitCode;
        return { code, signal: child.signalCode, clean: !alreadyExited && !forced && code === 0, forced, stderr: stderr.toString() };
      })();
      return stopping;
    },
  };
  liveHosts.add(host);

  const realMountpoint = await realpath(mountpoint).catch(() => mountpoint);
  const readyLines = new Set([`redisfs: mounted ${mountpoint}`, `redisfs: mounted ${realMountpoint}`]);
  const readyTimeoutMs = opts.readyTimeoutMs ?? 20_000;
  try {
    await waitFor(
      () => {
        if (spawnError) throw spawnError;
        if (stdoutLines.some((l) => readyLines.has(l))) return true;
        const ex = host.exited();
        if (ex) throw new Error(`daemon exited before it was ready (code ${ex.code}, signal ${ex.signal})`);
        throw new Error('no ready line yet');
      },
      { timeoutMs: readyTimeoutMs, intervalMs: 10 },
    );
    await waitFor(async () => await isMounted(mountpoint), {
      timeoutMs: 2000,
      message: `printed its ready line but ${mountpoint} is not in /proc/mounts`,
    });
  } catch (e) {
    await host.stop();
    const err = e instanceof Error ? e : new Error(String(e));
    err.message =
      `mount of volume ${opts.volume} on ${mountpoint} (${label}) failed: ${err.message}\n` +
      `stdout: ${JSON.stringify(stdoutLines.join('\n').slice(-2000))}\n` +
      `stderr:\n${stderr.toString().slice(-4000)}`;
    throw err;
  }
  return host;
}

/** Stops every host this worker mounted and has not stopped yet. */
export async function stopAllHosts(): Promise<void> {
  await Promise.all([...liveHosts].map((h) => h.stop()));
}

/**
 * After each failed test, prints the tail of these hosts' stderr (and whether they died), so
 * a failure report carries the daemon's side of the story.
 */
export function dumpLogsOnFailure(hosts: () => ReadonlyArray<Host | undefined>): void {
  afterEach((ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const h of hosts()) {
      if (!h) continue;
      const ex = h.exited();
      const tail = h.stderr().split('\n').slice(-40).join('\n');
      console.error(
        `--- ${h.label} (pid ${h.pid}, ${ex ? `EXITED code=${ex.code} signal=${ex.signal}` : 'running'}) ` +
          `stderr tail; full log ${h.logFile}\n${tail}`,
      );
    }
  });
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Until the process exited. */
  readonly elapsedMs: number;
  /** Killed because it had not exited within timeoutMs. */
  readonly timedOut: boolean;
  /** Its stdout/stderr were still open 2 s after it exited (a daemon kept them). */
  readonly pipesHeldOpen: boolean;
}

/** Runs `node CLI ...args` and collects its output; never hangs past timeoutMs. */
export async function runCli(
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  assertCliBuilt();
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const start = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: cliEnv(opts.env),
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => (stdout += d));
  child.stderr?.on('data', (d: string) => (stderr += d));
  const closed = new Promise<void>((r) => child.once('close', () => r()));
  let timedOut = false;
  const exited = await waitExit(child, timeoutMs);
  if (!exited) {
    timedOut = true;
    child.kill('SIGKILL');
    await waitExit(child, 5000);
  }
  const elapsedMs = performance.now() - start;
  const pipesHeldOpen = !(await Promise.race([closed.then(() => true), sleep(2000).then(() => false)]));
  if (pipesHeldOpen) {
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
  return { code: child.exitCode, signal: child.signalCode, stdout, stderr, elapsedMs, timedOut, pipesHeldOpen };
}
