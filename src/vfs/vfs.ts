// Vfs is the filesystem as the kernel's low-level FUSE API sees it: inodes, handles, caches
// and write buffers over the store. Bindings call it; it knows nothing of paths.
import { FsError } from '../core/errors.js';
import {
  type Attr, type DirEntry, type FileType, type Ino, type StatFs, NAME_MAX, ROOT_INO, S_IFMT, modeBits, nowNs, typeFromMode,
} from '../core/types.js';
import type { Content, ListedPage, MetaStore, VolumeSettings } from '../store/meta-store.js';
import type { ChunkStore } from '../store/chunk-store.js';
import type { Invalidation } from '../store/invalidation.js';
import { ChunkCache } from './chunk-cache.js';
import { MetaCache, type CachedEntry } from './meta-cache.js';
import { RecentChanges } from './recent-changes.js';
import { FileWriter } from './file-writer.js';
import { committedChunk, readRange } from './file-reader.js';
import { ListingReadAhead } from './listing-read-ahead.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from '../core/log.js';

export interface VfsOptions {
  /** Bytes of chunk data cached in memory. @default 512 MiB */
  cacheBytes: number;
  /** Chunks read ahead of a sequential reader. @default 4 */
  readAheadChunks: number;
  /** Chunks a file may hold dirty in memory before uploading early. @default 8 */
  maxDirtyChunks: number;
}

const O_EXCL = 0o200;
const O_TRUNC = 0o1000;
/** How long orphans the kernel let go of wait for others, to be purged in one script; and at most how many. */
const PURGE_BATCH_MS = 10;
const PURGE_BATCH_MAX = 256;

export const DEFAULT_VFS_OPTIONS: VfsOptions = { cacheBytes: 512 << 20, readAheadChunks: 4, maxDirtyChunks: 8 };

/** Who is asking: the owner of what gets created. */
export interface Caller { uid: number; gid: number }

export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atimeNs?: bigint;
  mtimeNs?: bigint;
}

interface Handle {
  ino: Ino;
  append: boolean;
  /** End of the last read, to spot sequential readers. */
  lastEnd: number;
}

/**
 * A directory's listing, read page by page (Vfs.startListing, Vfs.readMore): what was read so
 * far, where the rest starts, and what says at its end whether every name of the directory is
 * now cached.
 */
export interface DirListing {
  readonly dir: Ino;
  readonly entries: DirEntry[];
  /** For a listing with attributes (readdirplus), each entry's (undefined: gone meanwhile). */
  readonly attrs: (Attr | undefined)[] | undefined;
  cursor: string;
  done: boolean;
  /** The page read under way: one at a time, the next starts where it ends. */
  reading: Promise<void> | undefined;
  /** MetaCache epoch and evictions at the start: both unchanged at the end, the listing is complete. */
  readonly first: number;
  readonly evictions: number;
  /** The directory's version its pages were read at (-1: unknown, or it changed meanwhile). */
  dirVersion: number | undefined;
}

/** The listener a binding installs to hear about changes made by other hosts. */
export type ChangeListener = (items: readonly Invalidation[]) => void;

export class Vfs {
  readonly metaCache = new MetaCache();
  readonly chunkCache: ChunkCache;
  private readonly handles = new Map<number, Handle>();
  private readonly openCounts = new Map<Ino, number>();
  private readonly writers = new Map<Ino, FileWriter>();
  private readonly writerStarts = new Map<Ino, Promise<FileWriter>>();
  /** Spots readers going through a listing's files in order; their next small files load ahead. */
  private readonly listingAhead = new ListingReadAhead();
  /** Files whose content is being loaded ahead, by the load that carries them. */
  private readonly loadingAhead = new Map<Ino, Promise<void>>();
  /** Open inodes that may have lost their last name (orphans to purge at last close). */
  private readonly kept = new Set<Ino>();
  /** Orphans the kernel let go of, to purge together (forget); and every batch not yet purged. */
  private purging: { inos: Ino[]; done: Promise<void> } | undefined;
  private readonly purges = new Set<Promise<void>>();
  private nextFh = 1;
  /** Bytes read and written through this VFS, and invalidations heard, since it started (for stats). */
  readonly io = { bytesRead: 0, bytesWritten: 0, invalidations: 0 };
  private readonly settings: VolumeSettings;
  onRemoteChange: ChangeListener | undefined;
  /**
   * Set by a binding whose kernel keeps a file's pages across opens (ours with kernel caching
   * on): chunks the kernel then holds are not kept here too (chunk-cache.ts).
   */
  pageCacheKeepsFiles = false;
  /** Called when the subscription is back: changes made meanwhile went unheard. */
  onResubscribed: (() => void) | undefined;
  /**
   * Counts what this mount learnt of directory entries other than through another host's
   * invalidation: its own changes, names looked up in Redis (which may already show a change
   * whose invalidation is still on its way), a name found pointing at a deleted inode. A
   * binding can then tell "nothing learnt since" without checking each name.
   */
  entryNews = 0;
  /** Other hosts' recent changes, by inode and entry (also read by the FUSE binding). */
  readonly recent = new RecentChanges();
  /**
   * Set by a binding that counts the kernel's references (lookup counts): an inode the kernel
   * still references is kept, like an open one, when it loses its last name, because an open
   * of it may be on its way (the kernel looked the name up before a rename replaced it).
   */
  isReferenced: ((ino: Ino) => boolean) | undefined;

  constructor(
    private readonly meta: MetaStore,
    private readonly chunks: ChunkStore,
    private readonly opts: VfsOptions = DEFAULT_VFS_OPTIONS,
  ) {
    this.settings = meta.settings;
    this.chunkCache = new ChunkCache(chunks, opts.cacheBytes);
  }

  // ---- invalidation -------------------------------------------------------------------

  /** remoteChanged drops what another host changed (called for each pub/sub message). */
  remoteChanged(items: readonly Invalidation[]): void {
    this.io.invalidations += items.length;
    this.recent.note(items);
    this.metaCache.apply(items);
    for (const it of items) {
      if (it.kind !== 'inode') continue;
      const w = this.writers.get(it.ino);
      if (w) w.stale = true; // a writer in use is never dropped: it re-reads its base instead
    }
    this.onRemoteChange?.(items);
  }

  /** setSubscribed is told when the invalidation subscription is up or down. */
  setSubscribed(up: boolean): void {
    this.metaCache.setLive(up);
    if (!up) for (const w of this.writers.values()) w.stale = true;
    else {
      this.onResubscribed?.();
      // Holding the root's attributes, this mount follows what other hosts make in it, and in
      // the directories made there since (MetaCache.changedEntry): a new upload directory is
      // then known here, complete, before anyone asks. One round trip per subscription.
      this.getattr(ROOT_INO).catch(() => undefined);
    }
  }

  // ---- names and attributes -----------------------------------------------------------

  /**
   * lookupEntry returns the inode a name in a directory refers to. A name not cached is read
   * with its inode's attributes, and a small file's content, in one round trip: whoever looks
   * a name up wants those next.
   */
  async lookupEntry(parent: Ino, name: string): Promise<CachedEntry> {
    checkName(name);
    const cached = this.metaCache.entry(parent, name);
    if (cached === null) throw new FsError('ENOENT');
    if (cached) return cached;
    const mark = this.metaCache.mark();
    let fromCache = false;
    const found = await orCached(this.meta.lookupName(parent, name), () => {
      const entry = this.metaCache.peekEntry(parent, name);
      fromCache = true;
      return entry ? { entry, dirVersion: -1 } : entry;
    });
    this.entryNews++;
    if (!fromCache) this.metaCache.storeEntry(parent, name, found.entry ?? null, found.dirVersion, mark);
    if (!found.entry) throw new FsError('ENOENT');
    if (found.attr) this.metaCache.storeAttr(found.attr, mark);
    if (found.attr && found.content) this.metaCache.storeContent(found.entry.ino, found.content, found.attr.version, mark);
    return found.entry;
  }

  /** lookup returns the attributes of the inode a name refers to. */
  async lookup(parent: Ino, name: string): Promise<Attr> {
    // Entry and inode are read in two steps; a rename or unlink landing between them leaves
    // the entry pointing at a deleted inode. Look the name up again: rename is atomic, so the
    // second answer is the new target.
    for (let attempt = 0; ; attempt++) {
      const e = await this.lookupEntry(parent, name);
      try {
        return await this.getattr(e.ino);
      } catch (err) {
        if (!(err instanceof FsError && err.code === 'ENOENT') || attempt >= 3) throw err;
        this.entryNews++;
        this.metaCache.apply([{ kind: 'entry', parent, name }, { kind: 'inode', ino: e.ino }]);
      }
    }
  }

  /** getattr returns an inode's attributes as this mount sees them (own writes included). */
  async getattr(ino: Ino): Promise<Attr> {
    let attr = this.metaCache.attr(ino);
    if (!attr) {
      const mark = this.metaCache.mark();
      attr = await orCached(this.meta.getAttr(ino), () => this.metaCache.peekAttr(ino));
      if (!attr) throw new FsError('ENOENT');
      this.metaCache.storeAttr(attr, mark);
    }
    return this.withOwnWrites(attr);
  }

  /** withOwnWrites overlays the size and mtime of this mount's uncommitted writes. */
  private withOwnWrites(attr: Attr): Attr {
    const w = this.writers.get(attr.ino);
    return w?.modified ? { ...attr, size: w.size, mtimeNs: w.mtimeNs } : attr;
  }

  /**
   * getattrs returns several inodes' attributes (undefined: gone), the ones not cached in one
   * round trip: a listing with attributes asks for a whole page of them at once.
   */
  async getattrs(inos: readonly Ino[]): Promise<(Attr | undefined)[]> {
    const out: (Attr | undefined)[] = inos.map((ino) => this.metaCache.attr(ino));
    const missing = inos.filter((_, i) => out[i] === undefined);
    if (missing.length > 0) {
      const mark = this.metaCache.mark();
      // Redis unreachable: what is still cached, the rest unknown (a listing sends names only).
      const fetched = await this.meta.getAttrs(missing).catch((err: unknown) => {
        if (!(err instanceof FsError && err.code === 'EIO')) throw err;
        return missing.map((ino) => this.metaCache.peekAttr(ino));
      });
      let j = 0;
      for (let i = 0; i < out.length; i++) {
        if (out[i] !== undefined) continue;
        const attr = fetched[j++];
        if (attr) this.metaCache.storeAttr(attr, mark);
        out[i] = attr;
      }
    }
    return out.map((attr) => attr && this.withOwnWrites(attr));
  }

  /** knownEntry returns what this mount knows a name to be: an entry, null (absent), undefined. */
  knownEntry(parent: Ino, name: string): CachedEntry | null | undefined {
    return this.metaCache.entry(parent, name);
  }

  /** setattr changes mode, owner, times or size. */
  async setattr(ino: Ino, ch: SetAttr): Promise<Attr> {
    const attr = await this.getattr(ino);
    if (ch.size !== undefined) {
      if (attr.type === 'd') throw new FsError('EISDIR');
      if (attr.type !== 'f') throw new FsError('EINVAL');
      const w = await this.writerFor(ino);
      await w.truncate(ch.size);
      this.applyOwn(await w.commit());
    }
    const w = this.writers.get(ino);
    if (w?.modified && ch.mtimeNs !== undefined) w.mtimeNs = ch.mtimeNs;
    const changes = {
      ...(ch.mode !== undefined ? { mode: (attr.mode & S_IFMT) | (ch.mode & 0o7777) } : {}),
      ...(ch.uid !== undefined ? { uid: ch.uid } : {}),
      ...(ch.gid !== undefined ? { gid: ch.gid } : {}),
      ...(ch.atimeNs !== undefined ? { atimeNs: ch.atimeNs } : {}),
      ...(ch.mtimeNs !== undefined ? { mtimeNs: ch.mtimeNs } : {}),
    };
    if (Object.keys(changes).length > 0) this.applyOwn(await this.meta.setAttr(ino, changes));
    return this.getattr(ino);
  }

  /** fgetattr returns the attributes of an open file (even one unlinked since). */
  fgetattr(fh: number): Promise<Attr> {
    return this.getattr(this.handle(fh).ino);
  }

  /** ftruncate sets the size of an open file. */
  ftruncate(fh: number, size: number): Promise<Attr> {
    return this.setattr(this.handle(fh).ino, { size });
  }

  /** setTimes is utimensat(2): each time is a value, 'now', or 'omit' (left as it is). */
  setTimes(ino: Ino, atime: bigint | 'now' | 'omit', mtime: bigint | 'now' | 'omit'): Promise<Attr> {
    const now = nowNs();
    const pick = (t: bigint | 'now' | 'omit'): bigint | undefined => (t === 'omit' ? undefined : t === 'now' ? now : t);
    const a = pick(atime);
    const m = pick(mtime);
    return this.setattr(ino, { ...(a !== undefined ? { atimeNs: a } : {}), ...(m !== undefined ? { mtimeNs: m } : {}) });
  }

  async readlink(ino: Ino): Promise<string> {
    const attr = await this.getattr(ino);
    if (attr.type !== 'l') throw new FsError('EINVAL');
    return this.meta.readlink(ino);
  }

  // ---- namespace changes --------------------------------------------------------------

  /** mknod creates a regular file, fifo, socket or device node. */
  async mknod(parent: Ino, name: string, mode: number, rdev: number, caller: Caller): Promise<Attr> {
    const type = typeFromMode(mode) ?? 'f';
    if (type === 'd' || type === 'l') throw new FsError('EINVAL');
    return this.createNode(parent, name, type, mode, caller, { rdev });
  }

  async mkdir(parent: Ino, name: string, mode: number, caller: Caller): Promise<Attr> {
    return this.createNode(parent, name, 'd', mode, caller, {});
  }

  async symlink(parent: Ino, name: string, target: string, caller: Caller): Promise<Attr> {
    if (Buffer.byteLength(target) > 4095) throw new FsError('ENAMETOOLONG');
    return this.createNode(parent, name, 'l', 0o777, caller, { target });
  }

  async unlink(parent: Ino, name: string): Promise<void> {
    checkName(name);
    const keep = await this.openTarget(parent, name);
    this.applyOwn(await this.meta.removeEntry(parent, name, false, keep), true);
  }

  async rmdir(parent: Ino, name: string): Promise<void> {
    checkName(name);
    this.applyOwn(await this.meta.removeEntry(parent, name, true, 0), true);
  }

  /** rename moves an entry; flags: 1 RENAME_NOREPLACE, 2 RENAME_EXCHANGE. */
  async rename(parent: Ino, name: string, newParent: Ino, newName: string, flags = 0): Promise<void> {
    checkName(name);
    checkName(newName);
    const keep = await this.openTarget(newParent, newName);
    this.applyOwn(await this.meta.rename(parent, name, newParent, newName, flags, keep));
  }

  async link(ino: Ino, newParent: Ino, newName: string): Promise<Attr> {
    checkName(newName);
    this.applyOwn(await this.meta.link(ino, newParent, newName));
    return this.getattr(ino);
  }

  // ---- files --------------------------------------------------------------------------

  /**
   * create makes a regular file and opens it. Without O_EXCL, a name that another host created
   * a moment ago (after the kernel's lookup said it was free) is opened instead, as open(2)
   * with O_CREAT does, and truncated if O_TRUNC.
   */
  async create(parent: Ino, name: string, mode: number, flags: number, caller: Caller): Promise<{ attr: Attr; fh: number }> {
    try {
      const attr = await this.createNode(parent, name, 'f', mode, caller, {});
      return { attr, fh: this.addHandle(attr.ino, flags) };
    } catch (err) {
      if (!(err instanceof FsError && err.code === 'EEXIST') || (flags & O_EXCL) !== 0) throw err;
    }
    let attr = await this.lookup(parent, name);
    if (attr.type === 'd') throw new FsError('EISDIR');
    const fh = await this.open(attr.ino, flags);
    if ((flags & O_TRUNC) !== 0 && attr.size > 0) attr = await this.setattr(attr.ino, { size: 0 });
    return { attr, fh };
  }

  /** open returns a handle for an existing inode. */
  async open(ino: Ino, flags: number): Promise<number> {
    const attr = await this.getattr(ino);
    if (attr.type === 'd' && (flags & 3) !== 0) throw new FsError('EISDIR');
    if (attr.type === 'f') this.loadListingAhead(ino);
    return this.addHandle(ino, flags);
  }

  /**
   * read returns up to length bytes at offset, written into `into` when given; without it the
   * result may be a view of a cached chunk, to use at once (reply) and never keep or change.
   */
  async read(fh: number, offset: number, length: number, into?: Buffer): Promise<Buffer> {
    const out = await this.readHandle(fh, offset, length, into);
    this.io.bytesRead += out.length;
    return out;
  }

  private async readHandle(fh: number, offset: number, length: number, into?: Buffer): Promise<Buffer> {
    const h = this.handle(fh);
    const w = this.writers.get(h.ino);
    if (w && (w.modified || !w.stale)) return w.read(offset, length, into);
    const { attr, content } = await this.committed(h.ino);
    const cs = this.settings.chunkSize;
    const out = await readRange((idx) => committedChunk(content, idx, h.ino, this.chunkCache), cs, attr.size, offset, length, into ?? 'view');
    if (content.kind === 'chunks') {
      if (this.pageCacheKeepsFiles) this.keptByKernel(content, offset, offset + out.length, attr.size);
      if (offset === h.lastEnd) this.readAhead(h.ino, content, offset + length, attr.size);
    }
    h.lastEnd = offset + out.length;
    return out;
  }

  /** write stores data in the file's writer; `owned`: see FileWriter.write. */
  async write(fh: number, offset: number, data: Buffer, owned = false): Promise<number> {
    const h = this.handle(fh);
    const w = await this.writerFor(h.ino);
    const n = await w.write(offset, data, h.append, owned);
    this.io.bytesWritten += n;
    return n;
  }

  /** flush commits the file's changes (close() returns its error). */
  async flush(fh: number): Promise<void> {
    const w = this.writers.get(this.handle(fh).ino);
    if (w) this.applyOwn(await w.commit());
  }

  async fsync(fh: number): Promise<void> {
    return this.flush(fh);
  }

  /** release closes a handle; the last one of a file commits and drops its writer. */
  async release(fh: number): Promise<void> {
    const h = this.handles.get(fh);
    if (!h) return;
    this.handles.delete(fh);
    const left = (this.openCounts.get(h.ino) ?? 1) - 1;
    if (left > 0) {
      this.openCounts.set(h.ino, left);
      return;
    }
    this.openCounts.delete(h.ino);
    const w = this.writers.get(h.ino);
    try {
      if (w) this.applyOwn(await w.commit());
    } finally {
      if (w && this.writers.get(h.ino) === w && !this.openCounts.has(h.ino)) this.writers.delete(h.ino);
      // An orphan the kernel still references waits for forget: an open may be on its way.
      if (this.kept.has(h.ino) && !this.isReferenced?.(h.ino)) {
        this.kept.delete(h.ino);
        this.applyOwn(await this.meta.purgeOrphan(h.ino));
      }
    }
  }

  /**
   * forget is told when the kernel no longer references an inode: an orphan not open here goes,
   * with the others the kernel lets go of within PURGE_BATCH_MS, in one script. Every file this
   * mount deletes is such an orphan (its kernel referenced it): one purge per file would double
   * the scripts of a delete loop. Resolves when its batch is purged.
   */
  forget(ino: Ino): Promise<void> {
    if (!this.kept.has(ino) || this.openCounts.has(ino)) return Promise.resolve();
    this.kept.delete(ino);
    let batch = this.purging;
    if (!batch || batch.inos.length >= PURGE_BATCH_MAX) {
      const inos: Ino[] = [];
      const done = sleep(PURGE_BATCH_MS).then(async () => {
        if (this.purging?.inos === inos) this.purging = undefined;
        // One that became an orphan again meanwhile (another of its names was removed after a
        // lookup or an open of it) is needed again: its own forget or release purges it.
        const gone = inos.filter((i) => !this.kept.has(i) && !this.openCounts.has(i) && !this.isReferenced?.(i));
        if (gone.length > 0) this.applyOwn(await this.meta.purgeOrphan(...gone));
      });
      this.purges.add(done);
      done.then(() => this.purges.delete(done), () => this.purges.delete(done));
      batch = this.purging = { inos, done };
    }
    batch.inos.push(ino);
    return batch.done;
  }

  // ---- directories ------------------------------------------------------------------

  /** readdir lists a directory page by page (never one huge Redis command). */
  async readdir(ino: Ino): Promise<DirEntry[]> {
    const l = await this.startListing(ino, false);
    while (!l.done) await this.readMore(l, 1000);
    return l.entries;
  }

  /** attrsEpoch changes whenever an attribute read before may no longer be current. */
  get attrsEpoch(): number { return this.metaCache.mark(); }

  /**
   * attrsUnchangedSince tells whether attributes read at `epoch` are still what getattr would
   * answer: no invalidation heard (this mount's changes and other hosts') and no write of
   * this mount under way (its size and mtime are overlaid on the committed ones).
   */
  attrsUnchangedSince(epoch: number): boolean {
    return this.metaCache.mark() === epoch && this.writers.size === 0;
  }

  /** startListing begins a listing of a directory, with attributes (readdirplus) or names only. */
  async startListing(dir: Ino, withAttrs: boolean): Promise<DirListing> {
    const attr = await this.getattr(dir);
    if (attr.type !== 'd') throw new FsError('ENOTDIR');
    const first = this.metaCache.mark();
    // A directory whose every name (and each one's attributes) this mount holds, kept current
    // by the invalidations: listed with no round trip.
    const cached = this.metaCache.listing(dir, withAttrs);
    if (cached) {
      this.listingAhead.remember(dir, cached.entries);
      return {
        dir, entries: cached.entries, attrs: this.writers.size ? cached.attrs?.map((a) => this.withOwnWrites(a)) : cached.attrs,
        cursor: '0', done: true, reading: undefined, first, evictions: this.metaCache.evictions, dirVersion: cached.version,
      };
    }
    return {
      dir, entries: [], attrs: withAttrs ? [] : undefined, cursor: '0', done: false, reading: undefined,
      first, evictions: this.metaCache.evictions, dirVersion: undefined,
    };
  }

  /**
   * readMore reads a listing's next page, about `count` entries (with their attributes, one
   * round trip, for a listing with them), into the listing; a read under way is joined, not
   * repeated. The first page of a long directory can be served before the rest is read.
   */
  readMore(l: DirListing, count: number): Promise<void> {
    if (l.done) return Promise.resolve();
    l.reading ??= this.readPage(l, count).finally(() => { l.reading = undefined; });
    return l.reading;
  }

  private async readPage(l: DirListing, count: number): Promise<void> {
    const mark = this.metaCache.mark();
    const page: ListedPage & { attrs?: (Attr | undefined)[] } = l.attrs
      ? await this.meta.listPage(l.dir, l.cursor, count)
      : await this.meta.readdirPage(l.dir, l.cursor, count);
    l.dirVersion = l.dirVersion === undefined || l.dirVersion === page.dirVersion ? page.dirVersion : -1;
    const attrs = page.attrs;
    page.entries.forEach((e, i) => {
      this.metaCache.storeEntry(l.dir, e.name, e, page.dirVersion, mark);
      l.entries.push(e);
      if (!attrs) return;
      const attr = attrs[i];
      if (attr) this.metaCache.storeAttr(attr, mark);
      l.attrs!.push(attr && this.withOwnWrites(attr));
    });
    l.cursor = page.cursor;
    if (l.cursor !== '0') return;
    l.done = true;
    // Every name, with nothing heard of any change and nothing evicted meanwhile: the listing
    // is complete.
    if (this.metaCache.evictions === l.evictions) {
      this.metaCache.storeComplete(l.dir, l.dirVersion ?? -1, l.first, l.entries);
    }
    this.listingAhead.remember(l.dir, l.entries);
  }

  // ---- volume and xattrs ------------------------------------------------------------

  async statfs(): Promise<StatFs> {
    const { bytes, inodes } = await this.meta.usage();
    const bsize = 4096;
    const used = Math.ceil(bytes / bsize);
    const total = Math.max(used * 2, 2 ** 40 / bsize); // Redis has no fixed size: report ample room
    const files = Math.max(inodes * 2, 2 ** 32 - 1);
    return { bsize, blocks: total, bfree: total - used, bavail: total - used, files, ffree: files - inodes, namemax: NAME_MAX };
  }

  async getxattr(ino: Ino, name: string): Promise<Buffer> {
    await this.getattr(ino);
    if (isAclName(name)) throw new FsError('ENODATA');
    let v = this.metaCache.xattr(ino, name);
    if (v === undefined) {
      const mark = this.metaCache.mark();
      v = (await this.meta.getXattr(ino, name)) ?? null;
      this.metaCache.storeXattr(ino, name, v, mark);
    }
    if (!v) throw new FsError('ENODATA');
    return v;
  }

  async listxattr(ino: Ino): Promise<string[]> {
    await this.getattr(ino);
    return this.meta.listXattrs(ino);
  }

  async setxattr(ino: Ino, name: string, value: Buffer, flags: number): Promise<void> {
    if (name.length === 0 || Buffer.byteLength(name) > 255) throw new FsError('ERANGE');
    // POSIX ACLs are not kept: saying so makes cp -p / cp -a fall back to chmod, where
    // storing the ACL as a plain xattr would silently lose the permission bits it carries.
    if (isAclName(name)) throw new FsError('EOPNOTSUPP');
    if (value.length > 65536) throw new FsError('E2BIG');
    this.applyOwn(await this.meta.setXattr(ino, name, value, flags));
  }

  async removexattr(ino: Ino, name: string): Promise<void> {
    this.applyOwn(await this.meta.removeXattr(ino, name));
  }

  /** purged resolves once the orphans the kernel let go of so far are purged (or failed to be). */
  async purged(): Promise<void> {
    while (this.purges.size > 0) await Promise.allSettled(this.purges);
  }

  /** shutdown commits every open file's pending changes (best effort) before unmount. */
  async shutdown(): Promise<void> {
    for (const [ino, w] of this.writers) {
      try {
        this.applyOwn(await w.commit());
      } catch (err) {
        log.error({ ino, err: String(err) }, 'could not commit a file at shutdown');
      }
    }
    await this.purged();
    // Orphans only the kernel still referenced: nothing can reach them after unmount.
    for (const ino of this.kept) {
      if (this.openCounts.has(ino)) continue;
      this.kept.delete(ino);
      await this.meta.purgeOrphan(ino).then((items) => this.applyOwn(items), (err: unknown) =>
        log.error({ ino, err: String(err) }, 'could not purge an orphan at shutdown'));
    }
  }

  get chunkSize(): number { return this.settings.chunkSize; }

  get stats(): { openHandles: number; writers: number; dirtyBytes: number; cacheBytes: number } {
    let dirty = 0;
    for (const w of this.writers.values()) dirty += w.dirtyBytes;
    return { openHandles: this.handles.size, writers: this.writers.size, dirtyBytes: dirty, cacheBytes: this.chunkCache.bytes };
  }

  // ---- internals ----------------------------------------------------------------------

  private async createNode(parent: Ino, name: string, type: FileType, mode: number, caller: Caller, extra: { rdev?: number; target?: string }): Promise<Attr> {
    checkName(name);
    const fullMode = modeBits(type) | (mode & 0o7777);
    const asked = this.recent.epoch;
    let created: Awaited<ReturnType<MetaStore['createNode']>>;
    try {
      created = await this.meta.createNode({ parent, name, type, mode: fullMode, uid: caller.uid, gid: caller.gid, ...extra });
    } catch (err) {
      // Redis says the name exists where this cache may say it is absent (another host's
      // create is still on its way here): stop trusting the cache for it.
      if (err instanceof FsError && err.code === 'EEXIST') {
        this.entryNews++;
        this.metaCache.apply([{ kind: 'entry', parent, name }]);
      }
      throw err;
    }
    const { attr, changed } = created;
    // Replies and other hosts' invalidations come on two connections, in no fixed order: if
    // another host touched the new name, inode or (a new directory's) entries while the
    // create was on its way, its invalidation came first, and nothing is known exactly.
    const exact = !this.recent.crossed(asked, attr.ino, parent, name) && !(type === 'd' && this.recent.dirCrossed(asked, attr.ino));
    this.applyOwn(changed, exact);
    if (!exact) return attr;
    const mark = this.metaCache.mark();
    this.metaCache.storeAttr(attr, mark);
    const dir = changed.find((it) => it.kind === 'inode' && it.ino === parent);
    const dirVersion = dir?.kind === 'inode' && dir.attr ? dir.attr.version : -1;
    this.metaCache.storeEntry(parent, name, { ino: attr.ino, type }, dirVersion, mark);
    this.metaCache.storeNoXattrs(attr.ino, mark);
    if (type === 'd') this.metaCache.storeComplete(attr.ino, attr.version, mark);
    if (type === 'f') this.metaCache.storeContent(attr.ino, { kind: 'inline', data: Buffer.alloc(0) }, attr.version, mark);
    return attr;
  }

  // The inode a name refers to, if this mount holds it open or the kernel references it (so
  // that losing its last name orphans it instead of deleting it); 0 otherwise. Costs nothing
  // when no file is open and the binding counts no references.
  private async openTarget(parent: Ino, name: string): Promise<Ino> {
    if (this.openCounts.size === 0 && !this.isReferenced) return 0;
    const e = await this.lookupEntry(parent, name).catch(() => undefined);
    if (!e || e.type === 'd' || (!this.openCounts.has(e.ino) && !this.isReferenced?.(e.ino))) return 0;
    this.kept.add(e.ino);
    return e.ino;
  }

  /**
   * applyOwn drops what this mount's own change touched; the attributes the change sent back
   * replace those held, so a create or unlink in a cached directory costs no round trip to
   * read the directory's attributes again.
   */
  private applyOwn(items: readonly Invalidation[], exact = false): void {
    if (items.length === 0) return;
    this.entryNews++;
    this.metaCache.apply(items, exact ? 'exact' : 'own');
  }

  private addHandle(ino: Ino, flags: number): number {
    const fh = this.nextFh;
    this.nextFh = this.nextFh >= 0xfffffff0 ? 1 : this.nextFh + 1;
    this.handles.set(fh, { ino, append: (flags & 0o2000) !== 0, lastEnd: 0 });
    this.openCounts.set(ino, (this.openCounts.get(ino) ?? 0) + 1);
    return fh;
  }

  private handle(fh: number): Handle {
    const h = this.handles.get(fh);
    if (!h) throw new FsError('EBADF');
    return h;
  }

  /** committed returns a file's attributes and content, from cache or one round trip. */
  private async committed(ino: Ino): Promise<{ attr: Attr; content: Content }> {
    const cached = (): { attr: Attr; content: Content } | undefined => {
      const attr = this.metaCache.attr(ino);
      const content = this.metaCache.content(ino);
      return attr && content ? { attr, content } : undefined;
    };
    const hit = cached();
    if (hit) return hit;
    // Loaded ahead (opened in a listing's order): wait for that load rather than ask again.
    const ahead = this.loadingAhead.get(ino);
    if (ahead) {
      await ahead;
      const loadedAhead = cached();
      if (loadedAhead) return loadedAhead;
    }
    const mark = this.metaCache.mark();
    const loaded = await orCached(this.meta.loadFile(ino), () => {
      const a = this.metaCache.peekAttr(ino);
      const c = this.metaCache.peekContent(ino);
      return a && c ? { attr: a, content: c } : undefined;
    });
    if (!loaded) throw new FsError('ENOENT');
    this.metaCache.storeAttr(loaded.attr, mark);
    this.metaCache.storeContent(ino, loaded.content, loaded.attr.version, mark);
    return loaded;
  }

  // A reader opening a listing's files in order: the small files it will open next are
  // loaded now, many per round trip, stored under the usual race rule and dropped by the
  // usual invalidations. Told at open, not at each read: a file read in many requests is one
  // step, and one whose pages the kernel kept is still a step.
  private loadListingAhead(ino: Ino): void {
    const next = this.listingAhead.wanted(ino);
    if (next.length === 0) return;
    const inos = next.filter((i) => {
      if (this.loadingAhead.has(i) || this.metaCache.content(i)) return false;
      const a = this.metaCache.attr(i);
      return a !== undefined && a.type === 'f' && a.size <= this.settings.inlineMax;
    });
    if (inos.length === 0) return;
    const mark = this.metaCache.mark();
    const loading: Promise<void> = this.meta.loadFiles(inos).then((files) => {
      for (const f of files) {
        if (!f) continue;
        this.metaCache.storeAttr(f.attr, mark);
        this.metaCache.storeContent(f.attr.ino, f.content, f.attr.version, mark);
      }
    }, () => undefined).finally(() => {
      for (const i of inos) if (this.loadingAhead.get(i) === loading) this.loadingAhead.delete(i);
    });
    for (const i of inos) this.loadingAhead.set(i, loading);
  }

  private writerFor(ino: Ino): Promise<FileWriter> {
    const w = this.writers.get(ino);
    if (w) return Promise.resolve(w);
    let p = this.writerStarts.get(ino);
    if (!p) {
      p = (async () => {
        const { attr, content } = await this.committed(ino);
        if (attr.type !== 'f') throw new FsError(attr.type === 'd' ? 'EISDIR' : 'EINVAL');
        const writer = new FileWriter(ino, { size: attr.size, content }, attr.mtimeNs, {
          meta: this.meta, chunks: this.chunks, cache: this.chunkCache, settings: this.settings, maxDirtyChunks: this.opts.maxDirtyChunks,
        }, async () => {
          const fresh = await this.committed(ino);
          return { size: fresh.attr.size, content: fresh.content };
        });
        this.writers.set(ino, writer);
        return writer;
      })().finally(() => this.writerStarts.delete(ino));
      this.writerStarts.set(ino, p);
    }
    return p;
  }

  private readAhead(ino: Ino, content: Content & { kind: 'chunks' }, from: number, size: number): void {
    const cs = this.settings.chunkSize;
    const first = Math.floor(from / cs);
    const last = Math.min(first + this.opts.readAheadChunks, Math.ceil(size / cs) - 1);
    for (let idx = first; idx <= last; idx++) {
      const id = content.map.get(idx);
      if (id !== undefined) this.chunkCache.prefetch(id, ino, this.pageCacheKeepsFiles);
    }
  }

  // The kernel's pages now hold what [from, to) read: a chunk read whole is not kept here, and
  // a streamed chunk read to its end has had its last reader.
  private keptByKernel(content: Content & { kind: 'chunks' }, from: number, to: number, size: number): void {
    const cs = this.settings.chunkSize;
    for (let idx = Math.floor(from / cs); Math.min((idx + 1) * cs, size) <= to && idx * cs < size; idx++) {
      const id = content.map.get(idx);
      if (id === undefined) continue;
      if (idx * cs >= from) this.chunkCache.drop(id);
      else this.chunkCache.done(id);
    }
  }
}

// When Redis cannot be reached (EIO), what this mount cached before is the best answer there
// is: serving it keeps reads of cached files working through an outage. Any other failure,
// and an empty cache, still fail.
async function orCached<T>(fetch: Promise<T>, cached: () => T | null | undefined): Promise<T> {
  try {
    return await fetch;
  } catch (err) {
    const fallback = err instanceof FsError && err.code === 'EIO' ? cached() : undefined;
    if (fallback === undefined || fallback === null) throw err;
    return fallback;
  }
}

function isAclName(name: string): boolean {
  return name === 'system.posix_acl_access' || name === 'system.posix_acl_default';
}

function checkName(name: string): void {
  if (Buffer.byteLength(name) > NAME_MAX) throw new FsError('ENAMETOOLONG');
  if (name.length === 0 || name.includes('/') || name.includes('\0')) throw new FsError('EINVAL');
}
