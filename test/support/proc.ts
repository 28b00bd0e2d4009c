// Process and mount-table helpers shared by the global setup and the tests.
// No vitest imports here: the global setup (main process) uses this module too.
import { execFile } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

export interface MountEntry {
  readonly source: string;
  readonly mountpoint: string;
  readonly fstype: string;
  readonly options: string;
}

/** Decodes the octal escapes (\040 for a space…) of /proc/mounts fields. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses /proc/mounts. */
export async function procMounts(): Promise<MountEntry[]> {
  const text = await readFile('/proc/mounts', 'utf8');
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 4) continue;
    out.push({
      source: unescapeMountField(f[0] ?? ''),
      mountpoint: unescapeMountField(f[1] ?? ''),
      fstype: f[2] ?? '',
      options: f[3] ?? '',
    });
  }
  return out;
}

/** Number of entries in /proc/mounts whose mountpoint is exactly `mountpoint`. */
export async function mountCount(mountpoint: string): Promise<number> {
  const mp = path.resolve(mountpoint);
  return (await procMounts()).filter((m) => m.mountpoint === mp).length;
}

export async function isMounted(mountpoint: string): Promise<boolean> {
  return (await mountCount(mountpoint)) > 0;
}

function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, _stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stderr: String(stderr) });
    });
  });
}

/** Lazily detaches a mount (fusermount -uz, fusermount3 -uz, then umount -l). True if it is gone. */
export async function forceUnmount(mountpoint: string): Promise<boolean> {
  const mp = path.resolve(mountpoint);
  for (const [cmd, args] of [
    ['fusermount', ['-uz', mp]],
    ['fusermount3', ['-uz', mp]],
    ['umount', ['-l', mp]],
  ] as const) {
    if (!(await isMounted(mp))) return true;
    await run(cmd, [...args]);
  }
  return !(await isMounted(mp));
}

/** True if a process with this pid exists (and is not a zombie). */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export async function processCmdline(pid: number): Promise<string[]> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((s) => s !== '');
  } catch {
    return [];
  }
}

async function processComm(pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
  } catch {
    return '';
  }
}

/** Pids of live processes whose command line contains every one of `needles`. */
export async function findProcesses(needles: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const cmd = await processCmdline(pid);
    if (cmd.length > 0 && needles.every((n) => cmd.includes(n)) && (await isAlive(pid))) out.push(pid);
  }
  return out;
}

/**
 * Cleans up what test processes of one run left under `root`: lazily unmounts every mount
 * below it, SIGKILLs the daemons and redis-servers recorded in `root/pids/` (files named
 * `daemon-PID` or `redis-PID`, checked against the process's command line or name so a
 * reused pid is never hit), and optionally removes `root`. Returns what it had to clean.
 */
export async function cleanupRoot(root: string, opts: { remove: boolean }): Promise<string[]> {
  const cleaned: string[] = [];
  const prefix = path.resolve(root) + '/';
  // Kill first: an unmount can block on a daemon that hangs; killing it aborts the connection.
  let pidFiles: string[] = [];
  try {
    pidFiles = await readdir(path.join(root, 'pids'));
  } catch {
    // none recorded
  }
  for (const f of pidFiles) {
    const m = /^(daemon|redis)-(\d+)$/.exec(f);
    if (!m) continue;
    const pid = Number(m[2]);
    if (!(await isAlive(pid))) continue;
    const ours =
      m[1] === 'daemon'
        ? (await processCmdline(pid)).some((a) => a.startsWith(prefix))
        : (await processComm(pid)).startsWith('redis-server');
    if (!ours) continue;
    try {
      process.kill(pid, 'SIGKILL');
      cleaned.push(`killed ${m[1]} ${pid}`);
    } catch {
      // already gone
    }
  }
  // Daemons started by `redisfs mount` in the background are not in pids/: find them by a
  // mountpoint below root in their command line.
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const pid = Number(name);
    const cmd = await processCmdline(pid);
    if (cmd.includes('mount') && cmd.some((a) => a.startsWith(prefix)) && (await isAlive(pid))) {
      try {
        process.kill(pid, 'SIGKILL');
        cleaned.push(`killed ${cmd.join(' ').slice(0, 200)} (${pid})`);
      } catch {
        // already gone
      }
    }
  }
  for (const m of (await procMounts()).reverse()) {
    if (m.mountpoint.startsWith(prefix)) {
      await forceUnmount(m.mountpoint);
      cleaned.push(`unmounted ${m.mountpoint}`);
    }
  }
  if (opts.remove) {
    // Never recurse into something still mounted.
    if (!(await procMounts()).some((m) => m.mountpoint.startsWith(prefix))) {
      await rm(root, { recursive: true, force: true, maxRetries: 3 });
    } else {
      cleaned.push(`left ${root} in place: something below it is still mounted`);
    }
  }
  return cleaned;
}
