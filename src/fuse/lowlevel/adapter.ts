// The libfuse3 low-level binding of the VFS. The kernel speaks inodes and so does the VFS: each
// request is one VFS call, answered when its promise settles (in any order). Other hosts'
// changes reach the kernel's caches as invalidations, so kernel timeouts need not be zero.
import { FsError, errnoNumber, isFsError } from '../../core/errors.js';
import { log } from '../../core/log.js';
import { ROOT_INO, S_IFDIR, modeBits, nowNs, type Attr, type DirEntry, type Ino } from '../../core/types.js';
import type { Invalidation } from '../../store/invalidation.js';
import { OpStats } from '../../vfs/op-stats.js';
import type { RecentChanges } from '../../vfs/recent-changes.js';
import type { Caller, DirListing, SetAttr, Vfs } from '../../vfs/vfs.js';
import { ATTR_SIZE, Op, OpenReply, SetAttrBit, addon, fillAttr, fillNameOnly, type Addon, type Session } from './addon.js';
import { lowLevelOptionString, type LowLevelMountOptions } from './options.js';
import { raiseReadahead } from './readahead.js';

const ENOENT = errnoNumber('ENOENT');
const ERANGE = errnoNumber('ERANGE');
const ENODATA = errnoNumber('ENODATA');
const EINTR = errnoNumber('EINTR');
/** Listing pages read ahead of the kernel at most, and per script (listPage). */
const AHEAD_PAGES = 4;
/** Names per Redis page of a listing without attributes (an HSCAN step: cheap, so a large one). */
const PLAIN_PAGE = 1000;
/** Bytes a readdirplus entry takes besides its name (fuse_entry_out + fuse_dirent, rounded up). */
const DIRENTPLUS_BYTES = 160;
const INIT_TIMEOUT_MS = 10_000;
/** Extra rounds of vfs.lookup while the name keeps existing and its inodes keep vanishing. */
const LOOKUP_ROUNDS = 8;
/** Names remembered per referenced inode (hard links, renames): enough to drop them later. */
const MAX_NAMES_PER_INODE = 8;

/**
 * Ops answered EINTR at once when the kernel interrupts them (a signal reached the waiting
 * process, e.g. ^C on a stat during a Redis outage): they only read, so abandoning them changes
 * nothing, and a handle one of them creates after its answer is dropped again. Every other op
 * (create, mkdir, rename, unlink, setattr, write, flush, fsync, xattr changes…) runs to
 * completion: its effect may already be in Redis, and EINTR would tell the caller it did not
 * happen. Those wait at most --io-timeout per Redis call, like any op. (The kernel never
 * interrupts its readahead, which is how read(2) through the page cache reaches us: a reader
 * waiting there ends on a fatal signal only, as on a local disk.)
 */
const ABANDONABLE = new Set(['lookup', 'getattr', 'readlink', 'open', 'read', 'opendir', 'readdir', 'readdirplus',
  'statfs', 'getxattr', 'listxattr', 'access']);

/** A listing taken at the first readdir of an open directory, served page by page. */
interface DirHandle {
  ino: Ino;
  /** '.' and '..' go first, then the listing's entries (read from Redis a few pages at a time). */
  listing: DirListing | undefined;
  /** Vfs.attrsEpoch when the listing was taken: while unchanged, its attributes are current. */
  attrsEpoch: number;
  /** Entries the kernel was sent so far, and how many a page holds (of the latest readdir). */
  served: number;
  perPage: number;
  /** Other hosts' change epoch when the listing was taken (its names are that old). */
  listedAt: number;
  /** Vfs.entryNews when the listing was taken. */
  newsAt: number;
}

/**
 * How long after an entry reply an invalidation of its inode may find the kernel still making
 * it (notifyInvalInode's retry). Longer only costs the helper thread retries (a few ms each,
 * holding up the notices after them) for inodes the kernel has let go of meanwhile.
 */
const JUST_REPLIED_MS = 50;

/** What the kernel references of one inode (FuseLowLevelAdapter.refs). */
interface KernelRef {
  /** Lookups not forgotten yet. */
  lookups: number;
  /**
   * The last attributes sent. Another host may delete the inode between the kernel's path
   * walk and its GETATTR (the invalidation lands in between); a local filesystem would still
   * answer for the inode the walk holds, so do we, with nlink 0, instead of failing a stat of
   * a name that always existed with ENOENT.
   */
  attr: Attr;
  /** The first name the kernel got it under, and the others as `parent/name`. */
  parent: Ino | undefined;
  name: string | undefined;
  more: Set<string> | undefined;
  /** When the last entry reply gave it to the kernel (performance.now()). */
  repliedMs: number;
}

/** errno turns any failure into a positive errno; unexpected ones are logged with their stack. */
function errno(err: unknown, op: string): number {
  if (isFsError(err)) {
    if (err.code === 'EIO') log.warn({ op, err: err.message }, 'EIO');
    return errnoNumber(err.code);
  }
  log.error({ op, err: err instanceof Error ? err.stack : String(err) }, 'unexpected failure');
  return errnoNumber('EIO');
}

export class FuseLowLevelAdapter {
  /** Every FUSE op this mount answered: count, errors, latency. */
  readonly opStats = new OpStats();
  /** Called when the kernel ends the session by itself (someone unmounted it). */
  onUnmounted: (() => void) | undefined;
  /** The kernel ending the session (EV_EXITED) calls onUnmounted. */
  readonly hearsUnmount = true;
  /** The kernel ended the session, maybe before onUnmounted was set (it says so only once). */
  sessionEnded = false;
  private readonly ll: Addon;
  private session: Session | undefined;
  private readonly dirs = new Map<number, DirHandle>();
  private nextDir = 1;
  /** Other hosts' recent changes (the VFS notes them): an answer computed across one of them gets no kernel caching. */
  private readonly changes: RecentChanges;
  private readonly one = new Float64Array(ATTR_SIZE);
  /** KEEP_CACHE unless kernel caching is off (--kernel-cache 0). */
  private readonly openFlags: number;
  /**
   * Inodes known to have no security.capability xattr. The kernel asks for it before every
   * write (to drop file capabilities) and no FUSE flag stops it: without this, each write()
   * costs a Redis round trip. Dropped on any xattr change here and on other hosts' changes.
   */
  private readonly noCaps = new Set<Ino>();
  /** Counts xattr changes made here (an ENODATA computed across one is not remembered). */
  private xattrEpoch = 0;
  /**
   * What the kernel references, per inode (the root's excepted): its lookup count, the last
   * attributes sent, and the names it got the inode under. One record per inode: a listing
   * references thousands of inodes in a row, and each map touched per name costs there.
   */
  private readonly refs = new Map<Ino, KernelRef>();
  private initDone: ((err?: Error) => void) | undefined;
  /** Requests of ABANDONABLE ops still being worked on: the ones an interrupt answers. */
  private readonly abandonable = new Set<number>();

  constructor(private readonly vfs: Vfs, private readonly mountpoint: string, private readonly options: LowLevelMountOptions) {
    this.ll = addon();
    this.changes = vfs.recent;
    this.openFlags = options.attrTimeout > 0 ? OpenReply.KEEP_CACHE : 0;
  }

  /** mount resolves once the kernel has sent INIT: the mount is usable. */
  mount(): Promise<void> {
    const o = this.options;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.initDone?.(new Error(`no FUSE INIT from the kernel within ${INIT_TIMEOUT_MS / 1000} s`)), INIT_TIMEOUT_MS);
      this.initDone = (err) => {
        clearTimeout(timer);
        this.initDone = undefined;
        if (err) reject(err);
        else resolve();
      };
      try {
        this.session = this.ll.mount(this.mountpoint, lowLevelOptionString(o), (op, id, ...args) => this.dispatch(op, id, args),
          o.maxWrite, o.writebackCache, o.debug);
      } catch (err) {
        this.initDone(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      this.vfs.onRemoteChange = (items) => this.remoteChanged(items);
      this.vfs.onResubscribed = () => this.dropKernelCaches();
      this.vfs.isReferenced = (ino) => this.refs.has(ino);
      this.vfs.pageCacheKeepsFiles = this.openFlags === OpenReply.KEEP_CACHE;
    });
  }

  unmount(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    this.vfs.onRemoteChange = undefined;
    this.vfs.onResubscribed = undefined;
    this.vfs.isReferenced = undefined;
    this.vfs.pageCacheKeepsFiles = false;
    if (s) this.ll.unmount(s);
    return Promise.resolve();
  }

  // Another host changed these: drop them from the kernel's caches too. Only what the kernel
  // can hold: an inode it references (it was given and has not forgotten), or a name in such a
  // directory (a dentry, negative ones too, lives under its parent's inode). Every notice
  // costs a system call on the notifier thread, and a host busy making files in a directory
  // this one's kernel never looked at would cost it a few per file for nothing.
  private remoteChanged(items: readonly Invalidation[]): void {
    const s = this.session;
    if (!s) return;
    // Entries first: a name the kernel still trusted, leading to an inode whose attributes it
    // had just dropped, would make a stat ask for a deleted inode (ENOENT) instead of the name.
    for (const it of items) {
      if (it.kind === 'entry' && (it.parent === ROOT_INO || this.refs.has(it.parent))) this.ll.notifyInvalEntry(s, it.parent, it.name);
    }
    for (const it of items) {
      if (it.kind !== 'inode') continue;
      this.noCaps.delete(it.ino);
      const ref = this.refs.get(it.ino);
      if (!ref && it.ino !== ROOT_INO) continue;
      // Just given to the kernel, it may still be making the inode: retried if not found. Not
      // a deleted one (no attributes came): its name went first, and the kernel may have let
      // it go for good.
      const justGiven = ref !== undefined && it.attr !== undefined && performance.now() - ref.repliedMs < JUST_REPLIED_MS;
      this.ll.notifyInvalInode(s, it.ino, 0, 0, justGiven);
    }
  }

  // Other hosts' changes went unheard while the subscription was down: drop every name the
  // kernel got from this mount, then the attributes and pages of every inode it references
  // (it holds pages of no other).
  private dropKernelCaches(): void {
    const s = this.session;
    if (!s) return;
    for (const ref of this.refs.values()) {
      if (ref.parent !== undefined) this.ll.notifyInvalEntry(s, ref.parent, ref.name!);
      for (const key of ref.more ?? []) {
        const slash = key.indexOf('/');
        this.ll.notifyInvalEntry(s, Number(key.slice(0, slash)), key.slice(slash + 1));
      }
    }
    this.ll.notifyInvalInode(s, ROOT_INO, 0, 0);
    for (const ino of this.refs.keys()) this.ll.notifyInvalInode(s, ino, 0, 0);
  }

  private referenced(attr: Attr, parent?: Ino, name?: string): void {
    if (attr.ino === ROOT_INO) return;
    const ref = this.refs.get(attr.ino);
    if (ref === undefined) {
      this.refs.set(attr.ino, { lookups: 1, attr, parent, name, more: undefined, repliedMs: performance.now() });
      return;
    }
    ref.lookups++;
    ref.attr = attr;
    ref.repliedMs = performance.now();
    if (parent === undefined || (ref.parent === parent && ref.name === name)) return;
    if (ref.parent === undefined) {
      ref.parent = parent;
      ref.name = name;
      return;
    }
    // Another name (a hard link, a rename): kept as `parent/name`, the oldest dropped first.
    const key = `${parent}/${name}`;
    ref.more ??= new Set();
    if (ref.more.has(key)) return;
    if (ref.more.size >= MAX_NAMES_PER_INODE - 1) ref.more.delete(ref.more.values().next().value!);
    ref.more.add(key);
  }

  private forget(ino: Ino, n: number): void {
    const ref = this.refs.get(ino);
    if (ref && ref.lookups > n) {
      ref.lookups -= n;
      return;
    }
    this.refs.delete(ino);
    this.vfs.forget(ino).catch((err: unknown) => log.warn({ ino, err: String(err) }, 'could not purge an orphan at forget'));
  }

  // ---- replies --------------------------------------------------------------------------

  // Runs one op's work and answers its request: `ok` on success, the errno on failure. Every
  // request goes through here, so none is dropped.
  private run<T>(op: string, id: number, work: () => Promise<T>, ok: (v: T, epoch: number) => void): void {
    const done = this.opStats.start(op);
    const epoch = this.changes.epoch;
    let p: Promise<T>;
    try {
      p = work();
    } catch (err) {
      p = Promise.reject(err);
    }
    p = this.interruptible(op, id, p);
    p.then(
      (v) => {
        done(false);
        ok(v, epoch);
      },
      (err: unknown) => {
        done(true);
        this.ll.replyErr(id, errno(err, op));
      },
    ).catch((err: unknown) => {
      log.error({ op, err: err instanceof Error ? err.stack : String(err) }, 'reply failed');
      this.ll.replyErr(id, errnoNumber('EIO'));
    });
  }

  // While `p` runs, an interrupt of request `id` answers it with EINTR if `op` may be abandoned.
  private interruptible<T>(op: string, id: number, p: Promise<T>): Promise<T> {
    if (!ABANDONABLE.has(op)) return p;
    this.abandonable.add(id);
    return p.finally(() => this.abandonable.delete(id));
  }

  private interrupted(id: number): void {
    const abandoned = this.abandonable.delete(id);
    if (abandoned) this.ll.replyErr(id, EINTR);
    log.debug({ id, abandoned }, 'FUSE request interrupted');
  }

  /**
   * Timeouts for an answer about an inode (and the entry naming it): none if another host
   * changed either while the answer was computed (since `epoch`).
   */
  private timeouts(epoch: number, ino: Ino, parent?: Ino, name?: string): { entry: number; attr: number } {
    if (this.changes.crossed(epoch, ino, parent, name)) return { entry: 0, attr: 0 };
    return { entry: this.options.entryTimeout, attr: this.options.attrTimeout };
  }

  private replyEntry(id: number, attr: Attr, epoch: number, parent?: Ino, name?: string): void {
    const t = this.timeouts(epoch, attr.ino, parent, name);
    fillAttr(this.one, 0, attr, this.vfs.chunkSize);
    if (this.ll.replyEntry(id, this.one, t.entry, t.attr)) this.referenced(attr, parent, name);
  }

  private replyAttr(id: number, attr: Attr, epoch: number): void {
    const ref = this.refs.get(attr.ino);
    if (ref) ref.attr = attr;
    fillAttr(this.one, 0, attr, this.vfs.chunkSize);
    this.ll.replyAttr(id, this.one, this.timeouts(epoch, attr.ino).attr);
  }

  private replyOk = (id: number) => (): void => {
    this.ll.replyErr(id, 0);
  };

  // ---- dispatch -------------------------------------------------------------------------

  private dispatch(op: number, id: number, a: unknown[]): void {
    const { vfs, ll } = this;
    const n = (i: number): number => a[i] as number;
    const s = (i: number): string => a[i] as string;
    const caller = (i: number): Caller => ({ uid: n(i), gid: n(i + 1) });
    switch (op) {
      case Op.LOOKUP:
        return this.lookup(id, n(0), s(1));
      case Op.GETATTR:
        return this.run('getattr', id, () => this.getattr(n(0)), (attr, e) => this.replyAttr(id, attr, e));
      case Op.SETATTR:
        return this.run('setattr', id, () => vfs.setattr(n(0), setAttrChanges(n(1), n(2), n(3), n(4), n(5), a[6] as bigint, a[7] as bigint)),
          (attr, e) => this.replyAttr(id, attr, e));
      case Op.READLINK:
        return this.run('readlink', id, () => vfs.readlink(n(0)), (t) => ll.replyReadlink(id, t));
      case Op.MKNOD:
        return this.run('mknod', id, () => vfs.mknod(n(0), s(1), n(2), n(3), caller(4)), (attr, e) => this.replyEntry(id, attr, e, n(0), s(1)));
      case Op.MKDIR:
        return this.run('mkdir', id, () => vfs.mkdir(n(0), s(1), n(2), caller(3)), (attr, e) => this.replyEntry(id, attr, e, n(0), s(1)));
      case Op.UNLINK:
        return this.run('unlink', id, () => vfs.unlink(n(0), s(1)), this.replyOk(id));
      case Op.RMDIR:
        return this.run('rmdir', id, () => vfs.rmdir(n(0), s(1)), this.replyOk(id));
      case Op.SYMLINK:
        return this.run('symlink', id, () => vfs.symlink(n(0), s(1), s(2), caller(3)), (attr, e) => this.replyEntry(id, attr, e, n(0), s(1)));
      case Op.RENAME:
        return this.run('rename', id, () => vfs.rename(n(0), s(1), n(2), s(3), n(4)), this.replyOk(id));
      case Op.LINK:
        return this.run('link', id, () => vfs.link(n(0), n(1), s(2)), (attr, e) => this.replyEntry(id, attr, e, n(1), s(2)));
      case Op.OPEN:
        // The kernel keeps a file's pages across opens: another host's change drops them
        // (notifyInvalInode), so a reread of an unchanged file never reaches the daemon.
        return this.run('open', id, () => vfs.open(n(0), n(1)), (fh) => {
          if (!ll.replyOpen(id, fh, this.openFlags)) this.dropHandle(fh); // interrupted meanwhile
        });
      case Op.READ:
        return this.run('read', id, () => vfs.read(n(1), n(3), n(2)), (data) => ll.replyBuf(id, data));
      case Op.WRITE:
        // The addon copies the data into a new buffer for each request: the VFS may keep it.
        return this.run('write', id, () => vfs.write(n(1), n(3), a[2] as Buffer, true), (count) => ll.replyWrite(id, count));
      case Op.FLUSH:
        return this.run('flush', id, () => vfs.flush(n(1)), this.replyOk(id));
      case Op.RELEASE:
        return this.run('release', id, () => vfs.release(n(1)), this.replyOk(id));
      case Op.FSYNC:
        return this.run('fsync', id, () => vfs.fsync(n(1)), this.replyOk(id));
      case Op.OPENDIR:
        return this.run('opendir', id, () => this.opendir(n(0)), (fh) => {
          if (!ll.replyOpen(id, fh, 0)) this.dirs.delete(fh); // interrupted meanwhile
        });
      case Op.READDIR:
        return this.readdir(id, n(1), n(2), n(3), a[4] as boolean);
      case Op.RELEASEDIR: {
        const d = this.dirs.get(n(1));
        if (d) d.listing = undefined; // a page read under way is dropped, none follows
        this.dirs.delete(n(1));
        ll.replyErr(id, 0);
        return;
      }
      case Op.STATFS:
        return this.run('statfs', id, () => vfs.statfs(), (st) =>
          ll.replyStatfs(id, Float64Array.of(st.bsize, st.bsize, st.blocks, st.bfree, st.bavail, st.files, st.ffree, st.ffree, st.namemax)));
      case Op.SETXATTR:
        this.noCaps.delete(n(0));
        this.xattrEpoch++;
        return this.run('setxattr', id, () => vfs.setxattr(n(0), s(1), a[2] as Buffer, n(3)), this.replyOk(id));
      case Op.GETXATTR:
        return this.getxattr(id, n(0), s(1), n(2));
      case Op.LISTXATTR:
        return this.run('listxattr', id, () => vfs.listxattr(n(0)),
          (names) => this.replyXattr(id, Buffer.from(names.map((x) => `${x}\0`).join('')), n(1)));
      case Op.REMOVEXATTR:
        this.noCaps.delete(n(0));
        this.xattrEpoch++;
        return this.run('removexattr', id, () => vfs.removexattr(n(0), s(1)), this.replyOk(id));
      case Op.ACCESS:
        // default_permissions: the kernel checks mode bits itself; this only says it exists.
        return this.run('access', id, () => vfs.getattr(n(0)), this.replyOk(id));
      case Op.CREATE:
        return this.create(id, n(0), s(1), n(2), n(3), caller(4));
      case Op.FORGET:
        return this.forget(n(0), n(1));
      case Op.EV_INIT:
        log.info({ maxWrite: n(0), want: n(1).toString(16), protoMinor: n(2) }, 'FUSE session ready');
        void raiseReadahead(this.mountpoint, Math.max(128, n(0) >> 10)).then((why) => {
          if (why) log.info({ why }, 'kernel read-ahead stays at its default');
        });
        this.initDone?.();
        return;
      case Op.EV_DESTROY:
        return;
      case Op.EV_INTERRUPT:
        return this.interrupted(id);
      case Op.EV_EXITED:
        log.info('the kernel ended the FUSE session');
        this.sessionEnded = true;
        this.initDone?.(new Error('the FUSE session ended before INIT'));
        this.onUnmounted?.();
        return;
      default:
        if (id >= 0) ll.replyErr(id, errnoNumber('ENOSYS'));
    }
  }

  // ---- ops with more to them ------------------------------------------------------------------

  private lookup(id: number, parent: Ino, name: string): void {
    const done = this.opStats.start('lookup');
    const epoch = this.changes.epoch;
    this.interruptible('lookup', id, this.lookupSteady(parent, name)).then(
      (attr) => {
        done(false);
        this.replyEntry(id, attr, epoch, parent, name);
      },
      (err: unknown) => {
        const neg = this.options.negativeTimeout;
        if (neg > 0 && isFsError(err) && err.code === 'ENOENT' && !this.changes.crossed(epoch, 0, parent, name)) {
          done(false);
          this.one.fill(0);
          this.ll.replyEntry(id, this.one, neg, 0);
          return;
        }
        done(true);
        this.ll.replyErr(id, isFsError(err) && err.code === 'ENOENT' ? ENOENT : errno(err, 'lookup'));
      },
    ).catch((err: unknown) => {
      log.error({ err: String(err) }, 'lookup reply failed');
      this.ll.replyErr(id, errnoNumber('EIO'));
    });
  }

  // The VFS retries a few times when the entry it read led to an inode deleted before it read
  // that; a host replacing the name in a tight loop can outrun that on a loaded machine. The
  // name exists all along (rename is atomic), so while the entry is still there, ask again.
  private async lookupSteady(parent: Ino, name: string): Promise<Attr> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.vfs.lookup(parent, name);
      } catch (err) {
        if (!(isFsError(err) && err.code === 'ENOENT') || attempt >= LOOKUP_ROUNDS) throw err;
        await this.vfs.lookupEntry(parent, name); // ENOENT: the name is really gone
      }
    }
  }

  // A handle the kernel never got (its open was interrupted) is closed again.
  private dropHandle(fh: number): void {
    this.vfs.release(fh).catch((err: unknown) => log.warn({ fh, err: String(err) }, 'could not close the handle of an interrupted open'));
  }

  // The VFS opens what is there when another host created the name since the kernel's lookup
  // (no O_EXCL).
  private create(id: number, parent: Ino, name: string, mode: number, flags: number, caller: Caller): void {
    this.run('create', id, () => this.vfs.create(parent, name, mode, flags, caller), ({ attr, fh }, epoch) => {
      const t = this.timeouts(epoch, attr.ino, parent, name);
      fillAttr(this.one, 0, attr, this.vfs.chunkSize);
      if (this.ll.replyCreate(id, this.one, t.entry, t.attr, fh, 0)) this.referenced(attr, parent, name);
    });
  }

  private async getattr(ino: Ino): Promise<Attr> {
    try {
      return await this.vfs.getattr(ino);
    } catch (err) {
      const last = this.refs.get(ino)?.attr;
      if (!last || !(isFsError(err) && err.code === 'ENOENT')) throw err;
      return { ...last, nlink: 0 };
    }
  }

  private getxattr(id: number, ino: Ino, name: string, size: number): void {
    const caps = name === 'security.capability';
    if (caps && this.noCaps.has(ino)) {
      this.ll.replyErr(id, ENODATA);
      return;
    }
    const epoch = this.changes.epoch;
    const xepoch = this.xattrEpoch;
    this.run('getxattr', id, async () => {
      try {
        return await this.vfs.getxattr(ino, name);
      } catch (err) {
        if (caps && isFsError(err) && err.code === 'ENODATA' && !this.changes.crossed(epoch, ino) && xepoch === this.xattrEpoch) {
          if (this.noCaps.size >= 100_000) this.noCaps.clear();
          this.noCaps.add(ino);
        }
        throw err;
      }
    }, (v) => this.replyXattr(id, v, size));
  }

  private replyXattr(id: number, value: Buffer, size: number): void {
    if (size === 0) this.ll.replyXattr(id, value.length);
    else if (value.length > size) this.ll.replyErr(id, ERANGE);
    else this.ll.replyBuf(id, value);
  }

  private async opendir(ino: Ino): Promise<number> {
    const attr = await this.vfs.getattr(ino);
    if (attr.type !== 'd') throw new FsError('ENOTDIR');
    const fh = this.nextDir;
    this.nextDir = this.nextDir >= 0xfffffff0 ? 1 : this.nextDir + 1;
    this.dirs.set(fh, { ino, listing: undefined, attrsEpoch: 0, served: 0, perPage: 0, listedAt: 0, newsAt: 0 });
    return fh;
  }

  // Offsets: 0 is the start; entry i of the listing ('.' and '..' first) ends at offset i + 1.
  // The listing is (re)taken when a reader starts at 0, then served from memory. A listing
  // with attributes is read from Redis a few pages at a time, entries and attributes together,
  // ahead of the kernel: the first page goes out after one round trip, not after the whole
  // directory, and Redis reads the next pages while the kernel takes this one.
  private readdir(id: number, fh: number, size: number, off: number, plus: boolean): void {
    const name = plus ? 'readdirplus' : 'readdir';
    this.run(name, id, async () => {
      const d = this.dirs.get(fh);
      if (!d) throw new FsError('EBADF');
      // Only as many entries as can fit (each at least 24 + 8 bytes, or 160 + 8 with attributes).
      const per = plus ? DIRENTPLUS_BYTES + 8 : 32;
      const want = Math.ceil(size / per) + 1;
      if (off === 0 || !d.listing) {
        d.listedAt = this.changes.epoch;
        d.newsAt = this.vfs.entryNews;
        d.attrsEpoch = this.vfs.attrsEpoch;
        d.listing = await this.vfs.startListing(d.ino, plus);
      }
      const l = d.listing;
      while (!l.done && l.entries.length + 2 < off + want) await this.vfs.readMore(l, plus ? want : PLAIN_PAGE);
      const page: DirEntry[] = [];
      for (let i = off; i < Math.min(off + want, l.entries.length + 2); i++) {
        page.push(i >= 2 ? l.entries[i - 2]! : { name: i === 0 ? '.' : '..', ino: d.ino, type: 'd' });
      }
      const attrs = new Float64Array(page.length * ATTR_SIZE);
      const got: (Attr | undefined)[] = [];
      d.served = off + page.length;
      d.perPage = want;
      if (plus) {
        this.readListingAhead(d);
        // The attributes read with the listing, unless something changed since (then the
        // cached ones, current), or it was taken without them (readdir, then readdirplus).
        const listed = l.attrs;
        const found = listed && this.vfs.attrsUnchangedSince(d.attrsEpoch)
          ? page.map((_, k) => listed[off + k - 2])
          : await this.vfs.getattrs(page.map((e) => e.ino));
        for (let i = 0; i < page.length; i++) {
          const e = page[i]!;
          const attr = found[i];
          const dots = e.name === '.' || e.name === '..';
          if (dots || !attr) {
            fillNameOnly(attrs, i, e.ino, dots ? S_IFDIR : modeBits(e.type)); // !attr: gone meanwhile, name only
            continue;
          }
          got[i] = attr;
          fillAttr(attrs, i, attr, this.vfs.chunkSize);
        }
      } else {
        page.forEach((e, i) => fillNameOnly(attrs, i, e.ino, modeBits(e.type)));
      }
      return { page, attrs, got, dir: d.ino, listedAt: d.listedAt, newsAt: d.newsAt };
    }, ({ page, attrs, got, dir, listedAt, newsAt }) => {
      // An entry another host changed since the listing, or this mount since (the listing is
      // taken at offset 0), goes without attributes: the kernel will look it up. The others
      // are cached for the usual time.
      // What this mount knows of a name can only differ from the listing once it learnt
      // something of its entries other than through an invalidation (Vfs.entryNews).
      const newsSince = this.vfs.entryNews !== newsAt;
      page.forEach((e, i) => {
        if (!got[i]) return;
        const known = newsSince ? this.vfs.knownEntry(dir, e.name) : undefined;
        if (this.changes.crossed(listedAt, e.ino, dir, e.name) || known === null || (known && known.ino !== e.ino)) {
          got[i] = undefined;
          fillNameOnly(attrs, i, e.ino, modeBits(e.type));
        }
      });
      const t = { entry: this.options.entryTimeout, attr: this.options.attrTimeout };
      const fit = this.ll.replyDir(id, size, plus, off, page.map((e) => e.name), attrs, t.entry, t.attr);
      // Each entry sent with attributes is a lookup: the kernel will forget it.
      if (plus && fit) {
        for (let i = 0; i < fit; i++) {
          const attr = got[i];
          if (attr) this.referenced(attr, dir, page[i]!.name);
        }
      }
    });
  }

  /**
   * readListingAhead keeps Redis reading a listing's next pages, several per script, while the
   * kernel takes the ones read: reading them only when the kernel asks left it waiting for
   * Redis every few pages. At most AHEAD_PAGES pages are read ahead of the kernel, and a read
   * that failed is not retried until the kernel asks again.
   */
  private readListingAhead(d: DirHandle): void {
    const l = d.listing;
    if (!l || l.done || l.reading || l.entries.length + 2 - d.served >= d.perPage * AHEAD_PAGES) return;
    // Once read, on to the next (unless the listing was taken again or the directory closed).
    // A failure shows at the page that waits for it, which asks again.
    this.vfs.readMore(l, d.perPage * AHEAD_PAGES).then(() => { if (d.listing === l) this.readListingAhead(d); }, () => undefined);
  }
}

/** setAttrChanges turns a FUSE setattr (valid bits + values) into the VFS's changes. */
export function setAttrChanges(valid: number, mode: number, uid: number, gid: number, size: number, atimeNs: bigint, mtimeNs: bigint): SetAttr {
  const ch: SetAttr = {};
  if (valid & SetAttrBit.MODE) ch.mode = mode;
  if (valid & SetAttrBit.UID) ch.uid = uid;
  if (valid & SetAttrBit.GID) ch.gid = gid;
  if (valid & SetAttrBit.SIZE) ch.size = size;
  const now = (valid & (SetAttrBit.ATIME_NOW | SetAttrBit.MTIME_NOW)) !== 0 ? nowNs() : 0n;
  if (valid & SetAttrBit.ATIME) ch.atimeNs = valid & SetAttrBit.ATIME_NOW ? now : atimeNs;
  if (valid & SetAttrBit.MTIME) ch.mtimeNs = valid & SetAttrBit.MTIME_NOW ? now : mtimeNs;
  return ch;
}
