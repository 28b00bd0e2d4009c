// The fuse-native (libfuse2, high-level, path-based) binding of the VFS. Its only jobs: turn
// paths into inodes, call the VFS, and turn FsErrors into the negative errnos libfuse wants.
import { errnoNumber, isFsError } from '../core/errors.js';
import { log } from '../core/log.js';
import type { Caller, Vfs } from '../vfs/vfs.js';
import { PathResolver } from './path-resolver.js';
import { PatchedFuse, type Cb } from './patched-fuse.js';
import { statArray, typeArray, utimensArg } from './stat-array.js';
import { fuseOptionString, type FuseMountOptions } from './mount-options.js';
import { modeBits } from '../core/types.js';
import { OpStats } from '../vfs/op-stats.js';


/** errno turns any failure into a negative errno; unexpected ones are logged with their stack. */
function errno(err: unknown, op: string, path: string): number {
  if (isFsError(err)) {
    if (err.code === 'EIO') log.warn({ op, path, err: err.message }, 'EIO');
    return -errnoNumber(err.code);
  }
  log.error({ op, path, err: err instanceof Error ? err.stack : String(err) }, 'unexpected failure');
  return -errnoNumber('EIO');
}

// Replies with the value (or 0) on success and the errno on failure. Every op goes through
// here, so no promise is dropped and every kernel request is answered.
function reply<T>(cb: Cb, op: string, path: string, work: Promise<T>, ok: (v: T) => unknown[] = () => []): void {
  const done = opStats.start(op);
  work.then((v) => { done(false); cb(0, ...ok(v)); }, (err: unknown) => { done(failed(err)); cb(errno(err, op, path)); });
}

// A name that does not exist is an answer, not a failure: every create looks its name up
// first. Stats count it as a plain op.
function failed(err: unknown): boolean {
  return !(isFsError(err) && err.code === 'ENOENT');
}

// Read, write and getxattr answer with a byte count in the errno position.
function replyCount(cb: Cb, op: string, path: string, work: Promise<number>): void {
  const done = opStats.start(op);
  work.then((n) => { done(false); cb(n); }, (err: unknown) => { done(failed(err)); cb(errno(err, op, path)); });
}

/** Every FUSE op this process answered: count, errors, latency. */
export const opStats = new OpStats();

export class FuseNativeAdapter {
  private readonly paths: PathResolver;
  private fuse: PatchedFuse | undefined;
  private readonly caller: Caller = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

  constructor(private readonly vfs: Vfs, private readonly mountpoint: string, private readonly options: FuseMountOptions) {
    this.paths = new PathResolver(vfs);
  }

  /** mount resolves once the kernel has sent INIT: the mount is usable. */
  mount(): Promise<void> {
    const fuse = new PatchedFuse(this.mountpoint, this.ops(), fuseOptionString(this.options));
    this.fuse = fuse;
    return new Promise((resolve, reject) => fuse.mount((err) => (err ? reject(err) : resolve())));
  }

  unmount(): Promise<void> {
    const fuse = this.fuse;
    if (!fuse) return Promise.resolve();
    return new Promise((resolve, reject) => fuse.unmount((err) => (err ? reject(err) : resolve())));
  }

  private ops(): Record<string, unknown> {
    const { vfs, paths, caller } = this;
    const cs = vfs.chunkSize;
    const ino = (p: string) => paths.ino(p);
    return {
      init: (cb: Cb) => cb(0),
      getattr: (path: string, cb: Cb) => reply(cb, 'getattr', path, paths.attr(path), (a) => [statArray(a, cs)]),
      fgetattr: (path: string, fd: number, cb: Cb) => reply(cb, 'fgetattr', path, vfs.fgetattr(fd), (a) => [statArray(a, cs)]),
      access: (path: string, _mode: number, cb: Cb) => reply(cb, 'access', path, paths.attr(path)),
      statfs: (path: string, cb: Cb) => reply(cb, 'statfs', path, vfs.statfs(), (s) => [{ ...s, frsize: s.bsize, favail: s.ffree }]),
      readdir: (path: string, cb: Cb) =>
        reply(cb, 'readdir', path, ino(path).then((i) => vfs.readdir(i)), (entries) => {
          const names = ['.', '..'];
          const stats = [typeArray(0, modeBits('d')), typeArray(0, modeBits('d'))];
          for (const e of entries) {
            names.push(e.name);
            stats.push(typeArray(e.ino, modeBits(e.type)));
          }
          return [names, stats];
        }),
      truncate: (path: string, size: number, cb: Cb) => reply(cb, 'truncate', path, ino(path).then((i) => vfs.setattr(i, { size }))),
      ftruncate: (path: string, fd: number, size: number, cb: Cb) => reply(cb, 'ftruncate', path, vfs.ftruncate(fd, size)),
      utimens: (path: string, atime: ReturnType<typeof utimensArg>, mtime: ReturnType<typeof utimensArg>, cb: Cb) =>
        reply(cb, 'utimens', path, ino(path).then((i) => vfs.setTimes(i, atime, mtime))),
      readlink: (path: string, cb: Cb) => reply(cb, 'readlink', path, ino(path).then((i) => vfs.readlink(i)), (t) => [t]),
      chown: (path: string, uid: number, gid: number, cb: Cb) =>
        reply(cb, 'chown', path, ino(path).then((i) => vfs.setattr(i, {
          ...(uid !== 0xffffffff ? { uid } : {}), ...(gid !== 0xffffffff ? { gid } : {}),
        }))),
      chmod: (path: string, mode: number, cb: Cb) => reply(cb, 'chmod', path, ino(path).then((i) => vfs.setattr(i, { mode }))),
      mknod: (path: string, mode: number, rdev: number, cb: Cb) =>
        reply(cb, 'mknod', path, paths.parent(path).then(({ parent, name }) => vfs.mknod(parent, name, mode, rdev, caller))),
      setxattr: (path: string, name: string, value: Buffer, _pos: number, flags: number, cb: Cb) =>
        reply(cb, 'setxattr', path, ino(path).then((i) => vfs.setxattr(i, name, Buffer.from(value), flags))),
      getxattr: (path: string, name: string, _pos: number, cb: (err: number, value?: Buffer) => void) =>
        ino(path).then((i) => vfs.getxattr(i, name)).then((v) => cb(0, v), (err: unknown) => cb(errno(err, 'getxattr', path))),
      listxattr: (path: string, cb: Cb) => reply(cb, 'listxattr', path, ino(path).then((i) => vfs.listxattr(i)), (l) => [l]),
      removexattr: (path: string, name: string, cb: Cb) => reply(cb, 'removexattr', path, ino(path).then((i) => vfs.removexattr(i, name))),
      open: (path: string, flags: number, cb: Cb) => reply(cb, 'open', path, paths.attr(path).then((a) => vfs.open(a.ino, flags)), (fh) => [fh]),
      create: (path: string, mode: number, flags: number, cb: Cb) =>
        reply(cb, 'create', path, paths.parent(path).then(({ parent, name }) => vfs.create(parent, name, mode, flags, caller)), (r) => [r.fh]),
      read: (path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Cb) =>
        replyCount(cb, 'read', path, vfs.read(fd, pos, len, buf).then((data) => data.length)),
      write: (path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Cb) => {
        // The kernel's buffer stays valid until we answer, and the writer copies it into its
        // chunk before answering: no copy here.
        replyCount(cb, 'write', path, vfs.write(fd, pos, buf.subarray(0, len)));
      },
      flush: (path: string, fd: number, cb: Cb) => reply(cb, 'flush', path, vfs.flush(fd)),
      fsync: (path: string, _datasync: number, fd: number, cb: Cb) => reply(cb, 'fsync', path, vfs.fsync(fd)),
      release: (path: string, fd: number, cb: Cb) => reply(cb, 'release', path, vfs.release(fd)),
      unlink: (path: string, cb: Cb) => reply(cb, 'unlink', path, paths.parent(path).then(({ parent, name }) => vfs.unlink(parent, name))),
      rmdir: (path: string, cb: Cb) => reply(cb, 'rmdir', path, paths.parent(path).then(({ parent, name }) => vfs.rmdir(parent, name))),
      mkdir: (path: string, mode: number, cb: Cb) =>
        reply(cb, 'mkdir', path, paths.parent(path).then(({ parent, name }) => vfs.mkdir(parent, name, mode, caller))),
      symlink: (target: string, path: string, cb: Cb) =>
        reply(cb, 'symlink', path, paths.parent(path).then(({ parent, name }) => vfs.symlink(parent, name, target, caller))),
      link: (src: string, dest: string, cb: Cb) =>
        reply(cb, 'link', dest, Promise.all([ino(src), paths.parent(dest)]).then(([i, { parent, name }]) => vfs.link(i, parent, name))),
      rename: (src: string, dest: string, cb: Cb) =>
        reply(cb, 'rename', src, Promise.all([paths.parent(src), paths.parent(dest)])
          .then(([s, d]) => vfs.rename(s.parent, s.name, d.parent, d.name))),
    };
  }
}
