// What the benchmark measures: redisfs (two hosts A and B of one volume) and its references
// (null, local, and with --peers sshfs), each as two directories `a` and `b` that play the two
// hosts, plus the pids whose CPU and memory are watched; and the null filesystems of each FUSE
// binding that the "FUSE bindings" rows compare.
import { daemonEnv } from '../daemon/malloc-env.js';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LOWLEVEL_MOUNT_OPTIONS, lowLevelOptionString } from '../fuse/lowlevel/options.js';
import { freePort, isMounted, portOpen, startUntil, stop, track, trackMount, waitFor } from './procs.js';

export type TargetName = 'redisfs' | 'null' | 'local' | 'sshfs';

export interface Target {
  name: TargetName;
  /** The directory host A works in. */
  a: string;
  /** The directory host B works in (the same as `a` when there is only one mount). */
  b: string;
  /** Process serving B (or the only mount), if any: idle CPU and memory are read from it. */
  pidB: number | undefined;
  stop(): Promise<void>;
}

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const NULL_FS = fileURLToPath(new URL('./null-fs.js', import.meta.url));
const NULL_FS_LOWLEVEL = fileURLToPath(new URL('./null-fs-lowlevel.js', import.meta.url));

export interface Redis { url: string; pid: number; stop(): Promise<void> }

/** startRedis runs a private redis-server (no persistence) on a free loopback port. */
export async function startRedis(dir: string): Promise<Redis> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = track(spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no',
    '--loglevel', 'warning',
  ], { stdio: 'ignore' }));
  const deadline = Date.now() + 10000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid ?? 0, stop: () => stop(child) };
}

export interface RedisfsHost { mnt: string; pid: number; logFile: string; stop(): Promise<void> }

/** How redisfs daemons are started: their cache, where they log, extra node flags (profiling). */
export interface DaemonOptions {
  cacheSize: string;
  logDir: string;
  nodeArgs: string[];
  binding: string;
  /** More `redisfs mount` flags (e.g. --writeback-cache). */
  mountArgs?: readonly string[];
}

/** mountRedisfs starts one host: a foreground `redisfs mount` child, ready once it says so. */
export async function mountRedisfs(mnt: string, redisUrl: string, volume: string, home: string, o: DaemonOptions): Promise<RedisfsHost> {
  const logFile = join(o.logDir, `${basename(mnt)}.log`);
  mkdirSync(mnt, { recursive: true });
  trackMount(mnt);
  const env: NodeJS.ProcessEnv = daemonEnv({ ...process.env, REDISFS_HOME: home });
  delete env.REDISFS_REDIS;
  delete env.REDISFS_PASSWORD;
  mkdirSync(dirname(logFile), { recursive: true });
  const child = await startUntil(process.execPath, [...o.nodeArgs, CLI, 'mount', mnt, '--redis', redisUrl, '--volume', volume, '--cache-size', o.cacheSize, '--binding', o.binding, ...(o.mountArgs ?? []), '--foreground'],
    `redisfs: mounted ${mnt}`, { env, label: `redisfs mount ${mnt}`, stderrFile: logFile });
  return { mnt, pid: child.pid ?? 0, logFile, stop: () => stop(child) };
}

export async function redisfsTarget(root: string, redisUrl: string, volume: string, o: DaemonOptions): Promise<Target & { hostA: RedisfsHost; hostB: RedisfsHost }> {
  const home = join(root, 'home');
  const [hostA, hostB] = await Promise.all([
    mountRedisfs(join(root, 'mnt', 'A'), redisUrl, volume, home, o),
    mountRedisfs(join(root, 'mnt', 'B'), redisUrl, volume, home, o),
  ]);
  return {
    name: 'redisfs', a: hostA.mnt, b: hostB.mnt, pidB: hostB.pid, hostA, hostB,
    stop: async () => { await Promise.all([hostA.stop(), hostB.stop()]); },
  };
}

/**
 * A null filesystem: names and attributes kept, data dropped, every request answered at once.
 * `lowlevel` and `fuse-native` run in JS on that binding with the options redisfs uses on it
 * (null-fs-lowlevel.ts, null-fs.ts); `c` is the C libfuse3 low-level one (c/null_ll.c, built by
 * c-null.ts), which serves one fixed 100-byte file.
 */
export type NullKind = { binding: 'lowlevel'; keepCache?: boolean } | { binding: 'fuse-native'; timeouts?: KernelTimeouts } | { binding: 'c'; exe: string; timeouts: KernelTimeouts };

/** Kernel entry and attribute cache lifetimes, in seconds. */
export interface KernelTimeouts { entry: number; attr: number }

export interface NullMount { mnt: string; pid: number | undefined; stop(): Promise<void> }

export async function mountNull(mnt: string, kind: NullKind): Promise<NullMount> {
  mkdirSync(mnt, { recursive: true });
  trackMount(mnt);
  const t = kind.binding !== 'lowlevel' ? kind.timeouts : undefined;
  const times = t ? [String(t.entry), String(t.attr)] : kind.binding === 'lowlevel' && kind.keepCache ? ['--keep-cache'] : [];
  const child = kind.binding === 'c'
    ? await startUntil(kind.exe, [mnt, lowLevelOptionString({ ...DEFAULT_LOWLEVEL_MOUNT_OPTIONS, fsname: 'bench-null-c' }), ...times], `null-c: mounted ${mnt}`, { label: 'C null fs' })
    : await startUntil(process.execPath, [kind.binding === 'lowlevel' ? NULL_FS_LOWLEVEL : NULL_FS, mnt, ...times], `null: mounted ${mnt}`, { label: `${kind.binding} null fs` });
  return { mnt, pid: child.pid, stop: () => stop(child) };
}

/** nullTarget is the null reference of redisfs: the null filesystem on redisfs' binding. */
export async function nullTarget(root: string, binding: string): Promise<Target> {
  if (binding !== 'lowlevel' && binding !== 'fuse-native') throw new Error(`no null filesystem for binding ${binding}`);
  // On lowlevel, redisfs keeps a file's pages across opens (KEEP_CACHE): so does its null.
  const m = await mountNull(join(root, 'mnt', 'null'), binding === 'lowlevel' ? { binding, keepCache: true } : { binding });
  return { name: 'null', a: m.mnt, b: m.mnt, pidB: m.pid, stop: m.stop };
}

export function localTarget(root: string): Target {
  const dir = join(root, 'local');
  mkdirSync(dir, { recursive: true });
  return { name: 'local', a: dir, b: dir, pidB: undefined, stop: () => Promise.resolve() };
}

/** nfsNote says why kernel NFS is not among the peers. */
export function nfsNote(): string {
  const fs = readFileSync('/proc/filesystems', 'utf8');
  return /\bnfsd\b/.test(fs)
    ? 'kernel NFS: available on this kernel but not set up by the bench, so not measured'
    : 'kernel NFS: not available on this kernel (no nfsd in /proc/filesystems), so not measured';
}

/**
 * sshfsTarget runs a private sshd on a free loopback port (keys made for this run) and mounts
 * one exported directory twice with sshfs, as hosts A and B. Installs sshfs and
 * openssh-server with apt-get when missing.
 */
export async function sshfsTarget(root: string): Promise<Target> {
  ensurePackages(['sshfs', 'openssh-server']);
  const dir = join(root, 'ssh');
  const exportDir = join(root, 'peers', 'export');
  mkdirSync(dir, { recursive: true });
  mkdirSync(exportDir, { recursive: true });
  mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege separation directory
  for (const key of ['host_key', 'client_key']) {
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, key)]);
    if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr.toString()}`);
  }
  spawnSync('cp', [join(dir, 'client_key.pub'), join(dir, 'authorized_keys')]);
  chmodSync(join(dir, 'authorized_keys'), 0o600);
  const port = await freePort();
  writeFileSync(join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_key')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'PubkeyAuthentication yes', 'PasswordAuthentication no',
    'KbdInteractiveAuthentication no', 'PermitRootLogin prohibit-password', 'StrictModes no', 'UsePAM no',
    `PidFile ${join(dir, 'sshd.pid')}`, 'Subsystem sftp internal-sftp', '',
  ].join('\n'));
  const sshd = track(spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: 'ignore' }));
  const deadline = Date.now() + 10000;
  while (!(await portOpen(port))) {
    if (sshd.exitCode !== null || Date.now() > deadline) throw new Error(`sshd on port ${port} did not start`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const mountOne = async (mnt: string): Promise<{ pid: number; stop(): Promise<void> }> => {
    mkdirSync(mnt, { recursive: true });
    trackMount(mnt);
    const child = track(spawn('sshfs', ['-f', `${userInfo().username}@127.0.0.1:${exportDir}`, mnt, '-p', String(port),
      '-o', `IdentityFile=${join(dir, 'client_key')},StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,BatchMode=yes,LogLevel=ERROR`,
    ], { stdio: 'ignore' }));
    await waitFor(() => isMounted(mnt) || child.exitCode !== null, 20000, `sshfs on ${mnt}`);
    if (child.exitCode !== null) throw new Error(`sshfs on ${mnt} exited (${child.exitCode})`);
    return { pid: child.pid ?? 0, stop: () => stop(child) };
  };
  const a = await mountOne(join(root, 'mnt', 'sshA'));
  const b = await mountOne(join(root, 'mnt', 'sshB'));
  return {
    name: 'sshfs', a: join(root, 'mnt', 'sshA'), b: join(root, 'mnt', 'sshB'), pidB: b.pid,
    stop: async () => { await Promise.all([a.stop(), b.stop()]); await stop(sshd); },
  };
}

function ensurePackages(pkgs: string[]): void {
  const missing = pkgs.filter((p) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${db:Status-Abbrev}', p]);
    return !r.stdout?.toString().startsWith('ii');
  });
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing packages ${missing.join(' ')} (as root: apt-get install ${missing.join(' ')})`);
  process.stderr.write(`bench: installing ${missing.join(' ')}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { env });
    r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  }
  if (r.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed: ${r.stderr.toString().slice(-500)}`);
}

/** removeTree deletes a benchmark directory, unless something is still mounted inside. */
export function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  const mounted = readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1]?.startsWith(dir + '/'));
  if (mounted) {
    process.stderr.write(`bench: ${dir} still has mounts inside; not removed\n`);
    return;
  }
  rmSync(dir, { recursive: true, force: true });
}
