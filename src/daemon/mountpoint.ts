// Checks a mountpoint before mounting: it must exist, be a directory and not be mounted. A
// stale FUSE mount left by a dead redisfs daemon is cleared.
import { stat, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export class MountpointError extends Error {
  override name = 'MountpointError';
}

/** mountsAt returns the fstype of what is mounted at path, if anything. */
export async function mountedType(path: string): Promise<string | undefined> {
  const text = await readFile('/proc/self/mounts', 'utf8');
  for (const line of text.split('\n')) {
    const [, where, type] = line.split(' ');
    if (where && unescapeMount(where) === path) return type;
  }
  return undefined;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export async function checkMountpoint(path: string): Promise<void> {
  const type = await mountedType(path);
  if (type !== undefined) {
    let stale = false;
    try {
      await stat(path);
    } catch (err) {
      stale = (err as NodeJS.ErrnoException).code === 'ENOTCONN';
    }
    if (stale && type.startsWith('fuse')) {
      await run('fusermount', ['-uz', path]).catch(() => undefined);
      if ((await mountedType(path)) !== undefined) throw new MountpointError(`${path} is a dead FUSE mount that could not be cleared; run 'redisfs umount ${path}'`);
    } else {
      throw new MountpointError(`${path} is already mounted (${type}); unmount it first`);
    }
  }
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MountpointError(`mountpoint ${path} does not exist (create it with mkdir -p ${path})`);
    throw new MountpointError(`cannot use mountpoint ${path}: ${code ?? String(err)}`);
  }
  if (!st.isDirectory()) throw new MountpointError(`mountpoint ${path} is not a directory`);
  const parent = await stat(dirname(path));
  if (parent.dev !== st.dev && path !== '/') throw new MountpointError(`${path} is already a mountpoint; unmount it first`);
}
