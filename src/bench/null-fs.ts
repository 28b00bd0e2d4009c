// The "null" reference of the benchmark on the fuse-native binding: the same binding with the
// same -o options as redisfs on it, serving an in-memory filesystem that keeps names and attributes but no
// data (writes are dropped, reads return zeros). Every op answers at once from JS, so it
// measures the ceiling this binding allows on this machine.
//
// Run as its own process (`node dist/bench/null-fs.js <mountpoint> [<entry s> <attr s>]`): a
// process must never do file I/O on a mount it serves. The optional kernel timeouts replace
// redisfs' (the "FUSE bindings" rows give every binding the same). Prints `null: mounted <mnt>`
// once usable; SIGTERM unmounts.
import { constants } from 'node:os';
import { DEFAULT_FUSE_MOUNT_OPTIONS, fuseOptionString } from '../fuse/mount-options.js';
import { statArray, typeArray } from '../fuse/stat-array.js';
import { PatchedFuse, type Cb } from '../fuse/patched-fuse.js';
import { S_IFDIR, S_IFMT, S_IFREG, nowNs, type Attr } from '../core/types.js';


interface Node {
  attr: Attr;
  /** Names in a directory; undefined for files. */
  children: Set<string> | undefined;
}

const E = constants.errno;
/** Only for st_blocks: with no chunks, blocks follow the size. */
const CHUNK = 1 << 20;

/** NullFs is the in-memory namespace: path → node, sizes kept, bytes dropped. */
class NullFs {
  private readonly nodes = new Map<string, Node>();
  private readonly handles = new Map<number, Node>();
  private nextIno = 2;
  private nextFh = 1;
  private readonly uid = process.getuid?.() ?? 0;
  private readonly gid = process.getgid?.() ?? 0;

  constructor() {
    this.nodes.set('/', { attr: this.newAttr(1, S_IFDIR | 0o755), children: new Set() });
  }

  ops(): Record<string, unknown> {
    const attrOf = (path: string, cb: Cb): void => {
      const n = this.nodes.get(path);
      if (!n) return cb(-E.ENOENT);
      cb(0, statArray(n.attr, CHUNK));
    };
    return {
      init: (cb: Cb) => cb(0),
      getattr: attrOf,
      fgetattr: (path: string, fd: number, cb: Cb) => {
        const n = this.handles.get(fd);
        return n ? cb(0, statArray(n.attr, CHUNK)) : attrOf(path, cb);
      },
      access: (path: string, _mode: number, cb: Cb) => cb(this.nodes.has(path) ? 0 : -E.ENOENT),
      statfs: (_path: string, cb: Cb) =>
        cb(0, { bsize: 4096, frsize: 4096, blocks: 2 ** 28, bfree: 2 ** 28, bavail: 2 ** 28, files: 2 ** 32 - 1, ffree: 2 ** 32 - 1, favail: 2 ** 32 - 1, namemax: 255 }),
      readdir: (path: string, cb: Cb) => {
        const n = this.nodes.get(path);
        if (!n) return cb(-E.ENOENT);
        if (!n.children) return cb(-E.ENOTDIR);
        const names = ['.', '..'];
        const stats = [typeArray(0, S_IFDIR), typeArray(0, S_IFDIR)];
        for (const name of n.children) {
          const c = this.nodes.get(join(path, name));
          if (!c) continue;
          names.push(name);
          stats.push(typeArray(c.attr.ino, c.attr.mode & S_IFMT));
        }
        return cb(0, names, stats);
      },
      truncate: (path: string, size: number, cb: Cb) => cb(this.resize(this.nodes.get(path), size)),
      ftruncate: (_path: string, fd: number, size: number, cb: Cb) => cb(this.resize(this.handles.get(fd), size)),
      utimens: (path: string, _atime: unknown, _mtime: unknown, cb: Cb) => {
        const n = this.nodes.get(path);
        if (!n) return cb(-E.ENOENT);
        n.attr.ctimeNs = nowNs();
        return cb(0);
      },
      chmod: (path: string, mode: number, cb: Cb) => {
        const n = this.nodes.get(path);
        if (!n) return cb(-E.ENOENT);
        n.attr.mode = (n.attr.mode & S_IFMT) | (mode & 0o7777);
        return cb(0);
      },
      chown: (path: string, uid: number, gid: number, cb: Cb) => {
        const n = this.nodes.get(path);
        if (!n) return cb(-E.ENOENT);
        if (uid !== 0xffffffff) n.attr.uid = uid;
        if (gid !== 0xffffffff) n.attr.gid = gid;
        return cb(0);
      },
      create: (path: string, mode: number, _flags: number, cb: Cb) => {
        const r = this.add(path, S_IFREG | (mode & 0o7777));
        if (typeof r === 'number') return cb(r);
        return cb(0, this.open(r));
      },
      open: (path: string, _flags: number, cb: Cb) => {
        const n = this.nodes.get(path);
        return n ? cb(0, this.open(n)) : cb(-E.ENOENT);
      },
      read: (_path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Cb) => {
        const n = this.handles.get(fd);
        if (!n) return cb(-E.EBADF);
        const count = Math.max(0, Math.min(len, n.attr.size - pos));
        buf.fill(0, 0, count);
        return cb(count);
      },
      write: (_path: string, fd: number, _buf: Buffer, len: number, pos: number, cb: Cb) => {
        const n = this.handles.get(fd);
        if (!n) return cb(-E.EBADF);
        if (pos + len > n.attr.size) n.attr.size = pos + len;
        n.attr.mtimeNs = nowNs();
        return cb(len);
      },
      flush: (_path: string, _fd: number, cb: Cb) => cb(0),
      fsync: (_path: string, _datasync: number, _fd: number, cb: Cb) => cb(0),
      release: (_path: string, fd: number, cb: Cb) => {
        this.handles.delete(fd);
        return cb(0);
      },
      mkdir: (path: string, mode: number, cb: Cb) => {
        const r = this.add(path, S_IFDIR | (mode & 0o7777));
        return cb(typeof r === 'number' ? r : 0);
      },
      unlink: (path: string, cb: Cb) => cb(this.remove(path, false)),
      rmdir: (path: string, cb: Cb) => cb(this.remove(path, true)),
      rename: (src: string, dest: string, cb: Cb) => cb(this.rename(src, dest)),
    };
  }

  private newAttr(ino: number, mode: number): Attr {
    const now = nowNs();
    const isDir = (mode & S_IFMT) === S_IFDIR;
    return {
      ino, type: isDir ? 'd' : 'f', mode, uid: this.uid, gid: this.gid, nlink: isDir ? 2 : 1, size: 0,
      atimeNs: now, mtimeNs: now, ctimeNs: now, rdev: 0, version: 0, chunks: 0,
    };
  }

  private open(n: Node): number {
    const fh = this.nextFh++;
    this.handles.set(fh, n);
    return fh;
  }

  private resize(n: Node | undefined, size: number): number {
    if (!n) return -E.ENOENT;
    if (n.children) return -E.EISDIR;
    n.attr.size = size;
    n.attr.mtimeNs = nowNs();
    return 0;
  }

  private add(path: string, mode: number): Node | number {
    const parent = this.nodes.get(dirname(path));
    if (!parent?.children) return -E.ENOENT;
    if (this.nodes.has(path)) return -E.EEXIST;
    const n: Node = { attr: this.newAttr(this.nextIno++, mode), children: (mode & S_IFMT) === S_IFDIR ? new Set() : undefined };
    this.nodes.set(path, n);
    parent.children.add(basename(path));
    return n;
  }

  private remove(path: string, dir: boolean): number {
    const n = this.nodes.get(path);
    if (!n) return -E.ENOENT;
    if (dir && !n.children) return -E.ENOTDIR;
    if (!dir && n.children) return -E.EISDIR;
    if (n.children && n.children.size > 0) return -E.ENOTEMPTY;
    this.nodes.delete(path);
    this.nodes.get(dirname(path))?.children?.delete(basename(path));
    return 0;
  }

  private rename(src: string, dest: string): number {
    const n = this.nodes.get(src);
    const destParent = this.nodes.get(dirname(dest));
    if (!n) return -E.ENOENT;
    if (!destParent?.children) return -E.ENOENT;
    const old = this.nodes.get(dest);
    if (old?.children && old.children.size > 0) return -E.ENOTEMPTY;
    this.nodes.get(dirname(src))?.children?.delete(basename(src));
    this.nodes.delete(src);
    this.nodes.set(dest, n);
    destParent.children.add(basename(dest));
    if (n.children) {
      const prefix = src + '/';
      for (const [p, c] of [...this.nodes]) {
        if (!p.startsWith(prefix)) continue;
        this.nodes.delete(p);
        this.nodes.set(dest + '/' + p.slice(prefix.length), c);
      }
    }
    return 0;
  }
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

async function main(): Promise<void> {
  const mnt = process.argv[2];
  if (!mnt) throw new Error('usage: null-fs <mountpoint> [<entry timeout s> <attr timeout s>]');
  const timeouts = process.argv.length > 4 ? { entryTimeout: Number(process.argv[3]), attrTimeout: Number(process.argv[4]) } : {};
  const options = fuseOptionString({ ...DEFAULT_FUSE_MOUNT_OPTIONS, fsname: 'bench-null', ...timeouts });
  const fuse = new PatchedFuse(mnt, new NullFs().ops(), options);
  await new Promise<void>((resolve, reject) => fuse.mount((err) => (err ? reject(err) : resolve())));
  process.stdout.write(`null: mounted ${mnt}\n`);
  const stop = (): void => {
    fuse.unmount(() => process.exit(0));
    setTimeout(() => process.exit(1), 5000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`null: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
