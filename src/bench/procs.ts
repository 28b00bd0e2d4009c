// Child processes of the benchmark (redis-server, mount daemons, sshd, sshfs): start them,
// wait until they are usable, and stop them, every one, even when the bench fails.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';

const children = new Set<ChildProcess>();
const mounts = new Set<string>();

/** A child that is stopped by stopAll() whatever happens. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** startUntil spawns a command and resolves once its stdout shows `ready` (or fails). */
export function startUntil(cmd: string, args: string[], ready: string, opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; label: string; stderrFile?: string }): Promise<ChildProcess> {
  const errFd = opts.stderrFile !== undefined ? openSync(opts.stderrFile, 'a') : 'pipe';
  const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', errFd], env: opts.env ?? process.env }));
  if (typeof errFd === 'number') closeSync(errFd);
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${opts.label}: ${why}${opts.stderrFile !== undefined ? ` (see ${opts.stderrFile})` : ''}\n${err.trim()}`));
    };
    const timer = setTimeout(() => fail(`not ready within ${(opts.timeoutMs ?? 30000) / 1000} s`), opts.timeoutMs ?? 30000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(ready)) {
        clearTimeout(timer);
        out = '';
        resolve(child);
      }
    });
    child.once('error', (e) => fail(e.message));
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before it was ready`));
  });
}

export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => { clearTimeout(t); resolve(true); });
  });
}

/** stop sends SIGTERM, then SIGKILL after `ms`. */
export async function stop(child: ChildProcess, ms = 15000): Promise<void> {
  if (exited(child)) return;
  child.kill('SIGTERM');
  if (await waitExit(child, ms)) return;
  child.kill('SIGKILL');
  await waitExit(child, 5000);
}

/** A FUSE mountpoint to unmount (lazily) at the end if its server did not. */
export function trackMount(mnt: string): void {
  mounts.add(mnt);
}

export function isMounted(mnt: string): boolean {
  return readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === mnt);
}

/** stopAll stops every child (mounts first, then the rest) and clears leftover mounts. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stop(c)));
  for (const m of mounts) {
    if (isMounted(m)) spawnSync('fusermount', ['-uz', m]);
  }
  mounts.clear();
}

/** waitFor polls `ok` every 20 ms until it holds or `ms` pass. */
export async function waitFor(ok: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** freePort returns a loopback TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** portOpen tells whether something accepts connections on a loopback port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** cpuSeconds returns a process's user+system CPU time so far (from /proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** memKiB returns a /proc/<pid>/status memory figure (VmHWM, VmRSS) in KiB. */
export function memKiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
