// MetaCache holds what this mount knows of attributes, file contents (inline data or chunk
// maps) and directory entries, until an invalidation says otherwise (or says what they are now).
//
// Race rule: a value fetched from Redis is stored only if no invalidation arrived while it was
// in flight (the epoch is unchanged), because the reply may predate the change the
// invalidation announced. The other way round, what a change's message carries replaces what
// is held only if newer, by version: an inode's for its attributes and content, its
// directory's for a name. While the subscription is down nothing is trusted or stored, but
// what was cached is kept as a fallback for when Redis itself cannot be reached (peek*), and
// dropped once the subscription is back.
//
// Complete directories: for a directory this mount made, or listed with no invalidation
// arriving meanwhile, or heard of as just made (version 0: no name ever added), every name is
// known, so a name not cached is absent without asking Redis (a create's lookup of its new
// name costs no round trip), and its listing is served from here. A change to one of its
// entries that is not its very next version, or the eviction of one, ends that knowledge.
import { LRUCache } from 'lru-cache';
import type { Attr, DirEntry, FileType, Ino } from '../core/types.js';
import type { Content } from '../store/meta-store.js';
import type { Invalidation } from '../store/invalidation.js';

export interface CachedEntry { ino: Ino; type: FileType }

/** What is known of an inode's xattrs: values by name (null: absent); complete: no others. */
export interface CachedXattrs { complete: boolean; values: Map<string, Buffer | null> }

/**
 * A complete directory: its version then (-1: unknown) and what each of its names holds, in
 * the order learnt (kept here too, so that a listing needs no lookup per name).
 */
interface CompleteDir { v: number; names: Map<string, CachedEntry> }

/** A complete directory's listing from the cache; attrs when asked for. */
export interface CachedListing { entries: DirEntry[]; attrs: Attr[] | undefined; version: number }

export interface MetaCacheLimits {
  /** Most attributes, entries and directories kept. @default 200000 */
  maxItems: number;
  /** Bytes of file contents kept (small files' data, chunk maps). @default 32 MiB */
  contentBytes?: number;
}

export class MetaCache {
  private epoch = 0;
  private live = false;
  private readonly attrs: LRUCache<Ino, Attr>;
  /** Each with the version of the attributes it was read with: it is the content as of then. */
  private readonly contents: LRUCache<Ino, { content: Content; version: number }>;
  /**
   * parent + '/' + name → entry, or ino 0 for a known-absent name (negative entry); v: the
   * directory's version when it was true (-1: unknown).
   */
  private readonly entries: LRUCache<string, (CachedEntry | { ino: 0 }) & { v: number }>;
  /** The kernel asks for security.capability before every write: answering from here matters. */
  private readonly xattrs: LRUCache<Ino, CachedXattrs>;
  /**
   * Directories whose every entry is in `entries` (absent names: absent), with their names,
   * kept in step with `entries` by putEntry and dropEntry.
   */
  private readonly complete: LRUCache<Ino, CompleteDir>;
  /** Entries evicted so far: a listing during which one was cannot make its directory complete. */
  evictions = 0;

  constructor(limits: MetaCacheLimits = { maxItems: 200_000 }) {
    this.attrs = boundedLru(limits.maxItems);
    // By bytes: small files come with the invalidations of every directory this mount looks
    // at, and their number says nothing of the memory they take.
    this.contents = new LRUCache<Ino, { content: Content; version: number }>({ maxSize: limits.contentBytes ?? 32 << 20, sizeCalculation: contentBytes });
    this.entries = new LRUCache({
      maxSize: limits.maxItems, sizeCalculation: () => 1,
      // A directory that loses a known entry to eviction no longer knows all its names.
      dispose: (_v, key, reason) => {
        if (reason !== 'evict') return;
        this.evictions++;
        this.complete.delete(entryParent(key));
      },
    });
    this.xattrs = boundedLru(limits.maxItems);
    this.complete = boundedLru(Math.max(1000, limits.maxItems / 10));
  }

  /** mark returns the current epoch, to pass back to a store* call after a fetch. */
  mark(): number { return this.epoch; }

  /** setLive turns trust on (subscription back: caches emptied) or off (subscription lost). */
  setLive(live: boolean): void {
    this.epoch++;
    if (live) this.dropAll();
    this.live = live;
  }

  dropAll(): void {
    this.epoch++;
    this.attrs.clear();
    this.contents.clear();
    this.entries.clear();
    this.xattrs.clear();
    this.complete.clear();
  }

  /**
   * apply brings what this mount holds up to a change: what came with it (an inode's new
   * attributes, a small file's content, what a name holds now) replaces what is held, unless
   * what is held is as new (a reply read after the change may come in before the change's
   * message does); what did not come with it is dropped. A mount that held nothing of an
   * inode does not start holding it, except for a name created in a directory it is looking
   * at. `source` says whose change it is: another host's message (the default), or this
   * mount's own from its script's reply, 'exact' when the caller stores or knows absent every
   * entry of it right after (create, unlink) and the change did not say what its names hold:
   * complete directories stay so.
   */
  apply(items: readonly Invalidation[], source: ChangeSource = 'message'): void {
    this.epoch++;
    const exact = source === 'exact';
    let dirs: Map<Ino, DirRule> | undefined;
    for (const it of items) {
      if (it.kind === 'inode') {
        this.changedInode(it);
        continue;
      }
      dirs ??= new Map();
      let rule = dirs.get(it.parent);
      if (rule === undefined) dirs.set(it.parent, rule = this.dirRule(it.parent, it.now?.dirVersion, exact));
      this.changedEntry(it, rule, source === 'message');
    }
    for (const it of items) {
      if (it.kind === 'inode' && !dirs?.has(it.ino)) this.changedDirOnly(it.ino, it.attr);
    }
  }

  // How a message's changes to a directory's names meet what is known of them, decided once per
  // message (one change may rename within a directory: two names, one new version). A complete
  // directory stays complete only when the change is the very next version of it.
  private dirRule(dir: Ino, version: number | undefined, exact: boolean): DirRule {
    const c = this.complete.peek(dir);
    if (c === undefined) return 'names';
    if (version !== undefined && c.v >= 0) {
      if (version <= c.v) return 'older';
      if (version === c.v + 1) {
        c.v = version;
        return 'extend';
      }
      this.complete.delete(dir); // a change in between is still on its way
      return 'names';
    }
    if (!exact) this.complete.delete(dir);
    return 'names';
  }

  // A changed name: what it holds now replaces what is held, unless that is as new; a name not
  // held is kept too in a directory this mount is looking at (its attributes are held), so
  // that a file another host just created is found with no round trip; without its new
  // state, or against a name held since a time unknown, it is dropped. A change older than a
  // complete directory's listing still replaces an older name held: the listing only stored
  // the names it saw, and one it did not see is the one this change removed.
  // A new directory is known empty only from a message: messages come in the order they were
  // published, but a reply does not come in order with them, so a directory it shows at
  // version 0 may have had names since, heard of already.
  private changedEntry({ parent, name, now }: Invalidation & { kind: 'entry' }, rule: DirRule, fromMessage: boolean): void {
    const key = entryKey(parent, name);
    const held = this.entries.peek(key);
    if (!now || (held && held.v < 0)) {
      if (rule === 'older' && !held) return;
      this.dropEntry(parent, name);
      if (rule !== 'names') this.complete.delete(parent); // a name dropped is not an absent one
      return;
    }
    if (held && held.v >= now.dirVersion) return;
    if (!held && (rule === 'older' || (rule === 'names' && (now.entry === null || !this.attrs.has(parent))))) return;
    this.putEntry(parent, name, now.entry ? { ino: now.entry.ino, type: now.entry.type, v: now.dirVersion } : { ino: 0, v: now.dirVersion });
    const a = now.attr && this.attrs.peek(now.attr.ino);
    if (now.attr && (!a || a.version < now.attr.version)) this.attrs.set(now.attr.ino, now.attr);
    if (now.attr && fromMessage) this.knownEmpty(now.attr);
  }

  // A directory at version 0 whose times are still those it was made with has never had a
  // name: it is complete, empty, as of then. (Builds before versions bumped a directory's
  // version at every change left every directory at 0; a change of name changes its mtime
  // and ctime, in any build.)
  private knownEmpty(attr: Attr): void {
    if (attr.type === 'd' && attr.version === 0 && attr.atimeNs === attr.mtimeNs && attr.mtimeNs === attr.ctimeNs &&
      !this.complete.has(attr.ino)) {
      this.complete.set(attr.ino, { v: 0, names: new Map() });
    }
  }

  // A changed directory none of whose names the change named (its own attributes or xattrs, a
  // move elsewhere): its names are as before, so a complete directory stays complete through
  // that version when it is the very next one.
  private changedDirOnly(ino: Ino, attr: Attr | undefined): void {
    const c = attr?.type === 'd' ? this.complete.peek(ino) : undefined;
    if (c && c.v >= 0 && attr!.version === c.v + 1) c.v = attr!.version;
  }

  // An inode that changed: what is held of it is replaced by what came with the change, kept
  // when it is as new (read after the change), and dropped otherwise. A content also stays when
  // the change left it as it was and it was current just before (the version before), and a
  // content that came with the change is kept only if it is no older than the attributes
  // held: this mount's own replies are not ordered against other hosts' messages.
  private changedInode({ ino, attr, data, sameContent }: Invalidation & { kind: 'inode' }): void {
    const a = this.attrs.peek(ino);
    if (a && !(attr && attr.version <= a.version)) {
      if (attr) this.attrs.set(ino, attr);
      else this.attrs.delete(ino);
    }
    const c = this.contents.peek(ino);
    const asNew = c && attr && attr.version <= c.version;
    // Holding its attributes, a mount is reading the file: a small content is kept too.
    if (asNew) {
      // read after the change: kept
    } else if (attr && data && (c || a) && (!a || attr.version >= a.version)) {
      this.contents.set(ino, { content: { kind: 'inline', data }, version: attr.version });
    } else if (c && attr && sameContent && c.version === attr.version - 1) {
      c.version = attr.version;
    } else if (c) {
      this.contents.delete(ino);
    }
    this.xattrs.delete(ino);
  }

  attr(ino: Ino): Attr | undefined { return this.live ? this.attrs.get(ino) : undefined; }
  /** peekAttr returns a cached value even while untrusted: a fallback when Redis is unreachable. */
  peekAttr(ino: Ino): Attr | undefined { return this.attrs.get(ino); }
  peekContent(ino: Ino): Content | undefined { return this.contents.get(ino)?.content; }
  peekEntry(parent: Ino, name: string): CachedEntry | null | undefined {
    const e = this.entries.get(entryKey(parent, name));
    if (e === undefined) return undefined;
    return e.ino === 0 ? null : (e as CachedEntry);
  }
  storeAttr(attr: Attr, mark: number): void {
    if (!this.ok(mark)) return;
    this.attrs.set(attr.ino, attr);
    this.knownEmpty(attr);
  }

  content(ino: Ino): Content | undefined { return this.live ? this.contents.get(ino)?.content : undefined; }
  /** storeContent keeps a file's content, read with attributes of that version. */
  storeContent(ino: Ino, content: Content, version: number, mark: number): void {
    if (this.ok(mark)) this.contents.set(ino, { content, version });
  }

  /** xattr returns a cached value, null when known absent, undefined when unknown. */
  xattr(ino: Ino, name: string): Buffer | null | undefined {
    if (!this.live) return undefined;
    const x = this.xattrs.get(ino);
    if (!x) return undefined;
    const v = x.values.get(name);
    if (v !== undefined) return v;
    return x.complete ? null : undefined;
  }
  storeXattr(ino: Ino, name: string, value: Buffer | null, mark: number): void {
    if (!this.ok(mark)) return;
    const x = this.xattrs.get(ino) ?? { complete: false, values: new Map() };
    x.values.set(name, value);
    this.xattrs.set(ino, x);
  }
  /** storeNoXattrs records that an inode has no xattrs at all (a file just created). */
  storeNoXattrs(ino: Ino, mark: number): void {
    if (this.ok(mark)) this.xattrs.set(ino, { complete: true, values: new Map() });
  }

  /** entry returns the cached entry, null when known absent, undefined when unknown. */
  entry(parent: Ino, name: string): CachedEntry | null | undefined {
    if (!this.live) return undefined;
    const e = this.entries.get(entryKey(parent, name));
    if (e === undefined) return this.complete.has(parent) ? null : undefined;
    return e.ino === 0 ? null : (e as CachedEntry);
  }
  /**
   * storeComplete records that every entry of `dir` is cached (a new or fully listed directory)
   * as of its version `v` (-1: unknown).
   */
  storeComplete(dir: Ino, v: number, mark: number, entries: readonly DirEntry[] = []): void {
    if (!this.ok(mark)) return;
    const names = new Map<string, CachedEntry>();
    for (const { name, ino, type } of entries) names.set(name, { ino, type });
    this.complete.set(dir, { v, names });
  }
  /** storeEntry records what a name holds (null: nothing) as of its directory's version `v` (-1: unknown). */
  storeEntry(parent: Ino, name: string, e: CachedEntry | null, v: number, mark: number): void {
    if (this.ok(mark)) this.putEntry(parent, name, e ? { ino: e.ino, type: e.type, v } : { ino: 0, v });
  }

  /**
   * listing returns a complete directory's entries, and each one's attributes when asked for,
   * or undefined when the directory is not complete here (or an entry's attributes are not
   * held: a listing from Redis reads them all at once).
   */
  listing(dir: Ino, withAttrs: boolean): CachedListing | undefined {
    if (!this.live) return undefined;
    const c = this.complete.get(dir);
    if (!c) return undefined;
    const entries: DirEntry[] = [];
    const attrs: Attr[] | undefined = withAttrs ? [] : undefined;
    for (const [name, { ino, type }] of c.names) {
      entries.push({ name, ino, type });
      if (!attrs) continue;
      const a = this.attrs.peek(ino);
      if (!a) return undefined;
      attrs.push(a);
    }
    return { entries, attrs, version: c.v };
  }

  // Every change to `entries` goes through these two, which keep a complete directory's names
  // in step.
  private putEntry(parent: Ino, name: string, e: (CachedEntry | { ino: 0 }) & { v: number }): void {
    this.entries.set(entryKey(parent, name), e);
    const c = this.complete.peek(parent);
    if (!c) return;
    if (e.ino === 0) c.names.delete(name);
    else c.names.set(name, e as CachedEntry);
  }

  private dropEntry(parent: Ino, name: string): void {
    this.entries.delete(entryKey(parent, name));
    this.complete.peek(parent)?.names.delete(name);
  }

  private ok(mark: number): boolean { return this.live && mark === this.epoch; }
}

// An LRU of at most `items` values, bounded by maxSize (each value counts 1), not by `max`:
// with `max`, lru-cache preallocates arrays of that length and refills them all whenever a
// delete empties the cache, which a mount does after nearly every commit of a new file (its
// one cached content and xattrs are dropped): ~0.5 ms per commit at 200,000 items. Without
// `max` its arrays grow with use, so emptying costs what was actually held.
function boundedLru<K extends {}, V extends {}>(items: number): LRUCache<K, V> {
  return new LRUCache<K, V>({ maxSize: items, sizeCalculation: () => 1 });
}

/** Whose change MetaCache.apply is given: another host's (a message), or this mount's own (a reply). */
export type ChangeSource = 'message' | 'own' | 'exact';

/** How a message's changes to one directory's names are applied (MetaCache.dirRule). */
type DirRule = 'older' | 'extend' | 'names';

// What a cached content costs, roughly: its data or its chunk map, and the record around it.
// A chunk map counts at most MAP_CHUNKS_COUNTED chunks: lru-cache refuses a value bigger than
// its whole bound, and a huge file's map refused would be read again at every read.
const MAP_CHUNKS_COUNTED = 16_384;
function contentBytes({ content }: { content: Content }): number {
  return 64 + (content.kind === 'inline' ? content.data.length : Math.min(content.map.size, MAP_CHUNKS_COUNTED) * 48);
}

function entryKey(parent: Ino, name: string): string {
  return `${parent}/${name}`;
}

function entryParent(key: string): Ino {
  return Number(key.slice(0, key.indexOf('/')));
}
