// The "null" reference of the benchmark on the lowlevel binding: our libfuse3 low-level addon
// (native/redisfs_fuse.c) with the mount options, kernel timeouts and max_write redisfs uses on
// it (DEFAULT_LOWLEVEL_MOUNT_OPTIONS), serving an in-memory namespace by inode that keeps names
// and attributes but no data (writes are dropped, reads return zeros). Every request is answered
// inside the dispatch call that brings it, so this measures the ceiling the binding allows.
//
// Run as its own process (`node dist/bench/null-fs-lowlevel.js <mountpoint>`): a process must
// never do file I/O on a mount it serves. Prints `null: mounted <mnt>` once the kernel has sent
// INIT; SIGTERM unmounts.
import { constants as fsc } from 'node:fs';
import { constants } from 'node:os';
import { ROOT_INO, S_IFDIR, S_IFMT, S_IFREG, nowNs, type Attr, type Ino } from '../core/types.js';
import { ATTR_SIZE, Op, OpenReply, SetAttrBit, addon, fillAttr, fillNameOnly, type Session } from '../fuse/lowlevel/addon.js';
import { raiseReadahead } from '../fuse/lowlevel/readahead.js';
import { DEFAULT_LOWLEVEL_MOUNT_OPTIONS, lowLevelOptionString } from '../fuse/lowlevel/options.js';

/** `--keep-cache`: files keep their pages across opens, as redisfs's do (the main reference). */
const KEEP_CACHE = process.argv.includes('--keep-cache');
const E = constants.errno;
const O = { ...DEFAULT_LOWLEVEL_MOUNT_OPTIONS, fsname: 'bench-null' };
/** Only for st_blocks (fillAttr): with no chunks, blocks follow the size. */
const CHUNK = 1 << 20;
/** Bytes a readdirplus entry takes besides its name, as the adapter counts them. */
const DIRENTPLUS_BYTES = 160;
const RENAME_NOREPLACE = 1;
/** What every read answers: a slice of zeros (fuse_reply_buf copies it out at once). */
const ZEROS = new Uint8Array(O.maxWrite);

interface Node {
  attr: Attr;
  /** name → inode in a directory; undefined for files. */
  children: Map<string, Ino> | undefined;
  /** The kernel's references (entries it got); a node unlinked meanwhile lives until they go. */
  lookups: number;
}

class NullLowLevel {
  private readonly ll = addon();
  private readonly nodes = new Map<Ino, Node>();
  /** Open directories: the listing taken at their first readdir, served page by page. */
  private readonly dirs = new Map<number, { ino: Ino; entries: [string, Ino][] | undefined }>();
  private nextIno = ROOT_INO + 1;
  private nextDir = 1;
  private readonly one = new Float64Array(ATTR_SIZE);
  private session: Session | undefined;

  constructor(private readonly mnt: string) {
    this.nodes.set(ROOT_INO, { attr: newAttr(ROOT_INO, S_IFDIR | 0o755, process.getuid?.() ?? 0, process.getgid?.() ?? 0), children: new Map(), lookups: 1 });
  }

  mount(): void {
    this.session = this.ll.mount(this.mnt, lowLevelOptionString(O), (op, id, ...a) => this.dispatch(op, id, a), O.maxWrite, O.writebackCache, false);
  }

  unmount(): void {
    if (this.session) this.ll.unmount(this.session);
    this.session = undefined;
  }

  private dispatch(op: number, id: number, a: unknown[]): void {
    const n = (i: number): number => a[i] as number;
    const s = (i: number): string => a[i] as string;
    const ll = this.ll;
    switch (op) {
      case Op.LOOKUP: {
        const ino = this.nodes.get(n(0))?.children?.get(s(1));
        return ino === undefined ? void ll.replyErr(id, E.ENOENT) : this.entry(id, this.nodes.get(ino)!);
      }
      case Op.GETATTR: return this.attr(id, this.nodes.get(n(0)));
      case Op.SETATTR: return this.attr(id, this.setattr(n(0), n(1), n(2), n(3), n(4), n(5), a[6] as bigint, a[7] as bigint));
      case Op.MKNOD: return this.add(id, n(0), s(1), n(2), n(4), n(5));
      case Op.MKDIR: return this.add(id, n(0), s(1), S_IFDIR | (n(2) & 0o7777), n(3), n(4));
      case Op.UNLINK: return void ll.replyErr(id, this.remove(n(0), s(1), false));
      case Op.RMDIR: return void ll.replyErr(id, this.remove(n(0), s(1), true));
      case Op.RENAME: return void ll.replyErr(id, this.rename(n(0), s(1), n(2), s(3), n(4)));
      case Op.LINK: return this.link(id, n(0), n(1), s(2));
      case Op.OPEN: return void (this.nodes.has(n(0)) ? ll.replyOpen(id, 0, KEEP_CACHE ? OpenReply.KEEP_CACHE : 0) : ll.replyErr(id, E.ENOENT));
      case Op.READ: {
        const node = this.nodes.get(n(0));
        if (!node) return void ll.replyErr(id, E.EBADF);
        const count = Math.max(0, Math.min(n(2), node.attr.size - n(3), ZEROS.length));
        return void ll.replyBuf(id, ZEROS.subarray(0, count));
      }
      case Op.WRITE: {
        const node = this.nodes.get(n(0));
        if (!node) return void ll.replyErr(id, E.EBADF);
        const len = (a[2] as Buffer).length;
        node.attr.size = Math.max(node.attr.size, n(3) + len);
        node.attr.mtimeNs = nowNs();
        return void ll.replyWrite(id, len);
      }
      case Op.FLUSH: case Op.RELEASE: case Op.FSYNC:
        return void ll.replyErr(id, 0);
      case Op.OPENDIR: {
        if (!this.nodes.get(n(0))?.children) return void ll.replyErr(id, E.ENOTDIR);
        const fh = this.nextDir++;
        this.dirs.set(fh, { ino: n(0), entries: undefined });
        return void ll.replyOpen(id, fh, KEEP_CACHE ? OpenReply.KEEP_CACHE : 0);
      }
      case Op.READDIR: return this.readdir(id, n(1), n(2), n(3), a[4] as boolean);
      case Op.RELEASEDIR:
        this.dirs.delete(n(1));
        return void ll.replyErr(id, 0);
      case Op.STATFS:
        return void ll.replyStatfs(id, Float64Array.of(4096, 4096, 2 ** 28, 2 ** 28, 2 ** 28, 2 ** 32 - 1, 2 ** 32 - 1, 2 ** 32 - 1, 255));
      // No xattrs, answered as redisfs answers a file without them (not ENOSYS, which would
      // stop the kernel from asking: redisfs cannot do that).
      case Op.GETXATTR: case Op.REMOVEXATTR: return void ll.replyErr(id, E.ENODATA);
      case Op.LISTXATTR: return void (n(1) === 0 ? ll.replyXattr(id, 0) : ll.replyBuf(id, new Uint8Array(0)));
      case Op.SETXATTR: return void ll.replyErr(id, E.ENOTSUP);
      case Op.ACCESS: return void ll.replyErr(id, this.nodes.has(n(0)) ? 0 : E.ENOENT);
      case Op.CREATE: return this.create(id, n(0), s(1), n(2), n(3), n(4), n(5));
      case Op.FORGET: return this.forget(n(0), n(1));
      case Op.EV_INIT:
        // The same kernel read-ahead as a redisfs mount on this binding.
        void raiseReadahead(this.mnt, Math.max(128, n(0) >> 10)).then(() => process.stdout.write(`null: mounted ${this.mnt}\n`));
        return;
      case Op.EV_EXITED:
        process.exit(0);
        return;
      case Op.EV_DESTROY:
        return;
      default:
        if (id >= 0) ll.replyErr(id, E.ENOSYS);
    }
  }

  private entry(id: number, node: Node): void {
    fillAttr(this.one, 0, node.attr, CHUNK);
    if (this.ll.replyEntry(id, this.one, O.entryTimeout, O.attrTimeout)) node.lookups++;
  }

  private attr(id: number, node: Node | number | undefined): void {
    if (typeof node === 'number') return void this.ll.replyErr(id, node);
    if (!node) return void this.ll.replyErr(id, E.ENOENT);
    fillAttr(this.one, 0, node.attr, CHUNK);
    this.ll.replyAttr(id, this.one, O.attrTimeout);
  }

  private setattr(ino: Ino, valid: number, mode: number, uid: number, gid: number, size: number, atimeNs: bigint, mtimeNs: bigint): Node | number {
    const node = this.nodes.get(ino);
    if (!node) return E.ENOENT;
    const at = node.attr;
    const now = nowNs();
    if (valid & SetAttrBit.MODE) at.mode = (at.mode & S_IFMT) | (mode & 0o7777);
    if (valid & SetAttrBit.UID) at.uid = uid;
    if (valid & SetAttrBit.GID) at.gid = gid;
    if (valid & SetAttrBit.SIZE) {
      if (node.children) return E.EISDIR;
      at.size = size;
      at.mtimeNs = now;
    }
    if (valid & SetAttrBit.ATIME) at.atimeNs = valid & SetAttrBit.ATIME_NOW ? now : atimeNs;
    if (valid & SetAttrBit.MTIME) at.mtimeNs = valid & SetAttrBit.MTIME_NOW ? now : mtimeNs;
    at.ctimeNs = now;
    return node;
  }

  /** newChild makes a node under a directory; an errno when it cannot. */
  private newChild(parent: Ino, name: string, mode: number, uid: number, gid: number): Node | number {
    const dir = this.nodes.get(parent)?.children;
    if (!dir) return E.ENOENT;
    if (dir.has(name)) return E.EEXIST;
    const ino = this.nextIno++;
    const node: Node = { attr: newAttr(ino, mode, uid, gid), children: (mode & S_IFMT) === S_IFDIR ? new Map() : undefined, lookups: 0 };
    this.nodes.set(ino, node);
    dir.set(name, ino);
    return node;
  }

  private add(id: number, parent: Ino, name: string, mode: number, uid: number, gid: number): void {
    const node = this.newChild(parent, name, mode, uid, gid);
    if (typeof node === 'number') return void this.ll.replyErr(id, node);
    this.entry(id, node);
  }

  // Like redisfs: a name that exists by now is opened (the kernel asked for O_EXCL itself).
  private create(id: number, parent: Ino, name: string, mode: number, flags: number, uid: number, gid: number): void {
    const existing = this.nodes.get(parent)?.children?.get(name);
    if (existing !== undefined && flags & fsc.O_EXCL) return void this.ll.replyErr(id, E.EEXIST);
    const node = existing !== undefined ? this.nodes.get(existing)! : this.newChild(parent, name, S_IFREG | (mode & 0o7777), uid, gid);
    if (typeof node === 'number') return void this.ll.replyErr(id, node);
    fillAttr(this.one, 0, node.attr, CHUNK);
    if (this.ll.replyCreate(id, this.one, O.entryTimeout, O.attrTimeout, 0, 0)) node.lookups++;
  }

  private link(id: number, ino: Ino, parent: Ino, name: string): void {
    const node = this.nodes.get(ino);
    const dir = this.nodes.get(parent)?.children;
    if (!node || !dir) return void this.ll.replyErr(id, E.ENOENT);
    if (node.children) return void this.ll.replyErr(id, E.EPERM);
    if (dir.has(name)) return void this.ll.replyErr(id, E.EEXIST);
    dir.set(name, ino);
    node.attr.nlink++;
    this.entry(id, node);
  }

  private remove(parent: Ino, name: string, isDir: boolean): number {
    const dir = this.nodes.get(parent)?.children;
    const ino = dir?.get(name);
    const node = ino === undefined ? undefined : this.nodes.get(ino);
    if (!dir || !node) return E.ENOENT;
    if (isDir && !node.children) return E.ENOTDIR;
    if (!isDir && node.children) return E.EISDIR;
    if (node.children && node.children.size > 0) return E.ENOTEMPTY;
    dir.delete(name);
    this.unlinked(node);
    return 0;
  }

  private unlinked(node: Node): void {
    node.attr.nlink = node.children ? 0 : node.attr.nlink - 1;
    node.attr.ctimeNs = nowNs();
    if (node.attr.nlink <= 0 && node.lookups <= 0) this.nodes.delete(node.attr.ino);
  }

  // No RENAME_EXCHANGE (EINVAL): nothing the benchmark does needs it.
  private rename(parent: Ino, name: string, newParent: Ino, newName: string, flags: number): number {
    if (flags & ~RENAME_NOREPLACE) return E.EINVAL;
    const from = this.nodes.get(parent)?.children;
    const to = this.nodes.get(newParent)?.children;
    const ino = from?.get(name);
    if (!from || !to || ino === undefined) return E.ENOENT;
    const oldIno = to.get(newName);
    if (oldIno === ino) return 0;
    if (oldIno !== undefined) {
      if (flags & RENAME_NOREPLACE) return E.EEXIST;
      const old = this.nodes.get(oldIno)!;
      const moving = this.nodes.get(ino)!;
      if (old.children && !moving.children) return E.EISDIR;
      if (!old.children && moving.children) return E.ENOTDIR;
      if (old.children && old.children.size > 0) return E.ENOTEMPTY;
      this.unlinked(old);
    }
    from.delete(name);
    to.set(newName, ino);
    return 0;
  }

  private forget(ino: Ino, count: number): void {
    const node = this.nodes.get(ino);
    if (!node || ino === ROOT_INO) return;
    node.lookups -= count;
    if (node.lookups <= 0 && node.attr.nlink <= 0) this.nodes.delete(ino);
  }

  // Offsets: entry i of the listing ('.' and '..' first) ends at offset i + 1; the listing is
  // taken when a reader starts at 0. Entries sent with attributes (readdirplus) are lookups.
  private readdir(id: number, fh: number, size: number, off: number, plus: boolean): void {
    const d = this.dirs.get(fh);
    const dir = d ? this.nodes.get(d.ino)?.children : undefined;
    if (!d || !dir) return void this.ll.replyErr(id, E.EBADF);
    if (off === 0 || !d.entries) d.entries = [['.', d.ino], ['..', d.ino], ...dir];
    const page = d.entries.slice(off, off + Math.ceil(size / (plus ? DIRENTPLUS_BYTES + 8 : 32)) + 1);
    const attrs = new Float64Array(page.length * ATTR_SIZE);
    const sent = page.map(([name, ino], i): Node | undefined => {
      const node = name === '.' || name === '..' ? undefined : this.nodes.get(ino);
      if (plus && node) fillAttr(attrs, i, node.attr, CHUNK);
      else fillNameOnly(attrs, i, ino, node ? node.attr.mode & S_IFMT : name === '.' || name === '..' ? S_IFDIR : S_IFREG);
      return plus ? node : undefined;
    });
    const fit = this.ll.replyDir(id, size, plus, off, page.map((e) => e[0]), attrs, O.entryTimeout, O.attrTimeout);
    if (fit) for (let i = 0; i < fit; i++) if (sent[i]) sent[i]!.lookups++;
  }
}

function newAttr(ino: Ino, mode: number, uid: number, gid: number): Attr {
  const now = nowNs();
  const isDir = (mode & S_IFMT) === S_IFDIR;
  return {
    ino, type: isDir ? 'd' : 'f', mode, uid, gid, nlink: isDir ? 2 : 1, size: 0,
    atimeNs: now, mtimeNs: now, ctimeNs: now, rdev: 0, version: 0, chunks: 0,
  };
}

function main(): void {
  const mnt = process.argv[2];
  if (!mnt) throw new Error('usage: null-fs-lowlevel <mountpoint>');
  const fs = new NullLowLevel(mnt);
  fs.mount();
  const stop = (): void => {
    fs.unmount();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

try {
  main();
} catch (err) {
  process.stderr.write(`null: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
