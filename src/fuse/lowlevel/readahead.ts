// The kernel reads a FUSE file ahead 128 KiB at a time (a new mount's default; INIT can only
// lower it), so a 1 MiB read() reaches the daemon as eight requests, each a round trip through
// the one JS thread. Root may raise the mount's read_ahead_kb to the request size instead: one
// request per MiB (measured: 4,800 -> 600 READs for 600 MiB).
import { readFile, writeFile } from 'node:fs/promises';

/**
 * raiseReadahead sets the read-ahead of the FUSE mount at `mountpoint` to `kib`, found through
 * /proc/self/mountinfo (never through the mount itself: its server is this process). Returns
 * why it could not (not root, no such mount), or undefined when done.
 */
export async function raiseReadahead(mountpoint: string, kib: number): Promise<string | undefined> {
  try {
    const dev = mountDevice(await readFile('/proc/self/mountinfo', 'utf8'), mountpoint);
    if (!dev) return `${mountpoint} is not in /proc/self/mountinfo`;
    await writeFile(`/sys/class/bdi/${dev}/read_ahead_kb`, String(kib));
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** mountDevice returns the major:minor of the newest mount at `mountpoint`. */
export function mountDevice(mountinfo: string, mountpoint: string): string | undefined {
  let dev: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f.length > 4 && unescapeMountPath(f[4]!) === mountpoint) dev = f[2];
  }
  return dev;
}

// mountinfo writes space, tab, newline and backslash in paths as octal escapes (\040 …).
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
