// MetaStore is the metadata contract of a volume: inode-keyed reads and atomic changes, each
// change one Lua script that also publishes what it changed. It knows nothing of paths.
import { Cluster } from 'ioredis';
import type { RedisClient } from './connect.js';
import { FsError } from '../core/errors.js';
import { type Attr, type DirEntry, type FileType, type Ino, ROOT_INO, nowNs } from '../core/types.js';
import { VolumeKeys } from './keys.js';
import { defineScripts, type RunScript, type ScriptArg } from './scripts.js';
import { mapErrors } from './redis-errors.js';
import { parseItems, type Invalidation } from './invalidation.js';
import { attrOrUndefined, parseAttr, parseEntryValue } from './codec.js';
import { log } from '../core/log.js';

/**
 * A volume's format. 2 is 1 with invalidations on a shard channel (SPUBLISH): what a volume
 * made on Redis Cluster gets. Builds before it read format 1 only, so they refuse such a
 * volume instead of mounting it and never hearing its changes (or it theirs).
 */
export const FORMAT_VERSION = 1;
export const FORMAT_SHARDED = 2;
/** formatError says why this build cannot use a volume of that format, if it cannot. */
export function formatError(volume: string, format: string | undefined): string | undefined {
  const f = Number(format);
  return f === FORMAT_VERSION || f === FORMAT_SHARDED ? undefined
    : `volume '${volume}' has format ${format}; this redisfs reads formats ${FORMAT_VERSION} and ${FORMAT_SHARDED}`;
}
const INO_BATCH = 256;

export interface VolumeSettings {
  chunkSize: number;
  inlineMax: number;
}

/** Content of a file as committed: small files inline, others as a chunk map. */
export type Content =
  | { kind: 'inline'; data: Buffer }
  | { kind: 'chunks'; map: Map<number, string> };

export interface NewNode {
  parent: Ino;
  name: string;
  type: FileType;
  mode: number;
  uid: number;
  gid: number;
  rdev?: number;
  target?: string;
}

export interface AttrChanges {
  mode?: number;
  uid?: number;
  gid?: number;
  atimeNs?: bigint;
  mtimeNs?: bigint;
}

export interface ContentCommit {
  ino: Ino;
  size: number;
  mtimeNs: bigint;
  /** First chunk index cut off by a truncation in this commit, or -1. */
  dropFrom: number;
  /** Either the whole content (small files) or the chunks that changed. */
  inline?: Buffer;
  chunks?: Map<number, string>;
}

/** A node as `redisfs import` creates it: attributes, times and content at once. */
export interface ImportedNode extends NewNode {
  atimeNs: bigint;
  mtimeNs: bigint;
  size: number;
  /** Content of a small file; or chunks (index → id) uploaded beforehand. */
  inline?: Buffer;
  chunks?: Map<number, string>;
}

export class MetaStore {
  readonly keys: VolumeKeys;
  private readonly run: RunScript;
  private session = '0';
  private inoNext = 0;
  private inoEnd = 0;
  private inoRefill: Promise<void> | undefined;
  settings: VolumeSettings = { chunkSize: 1 << 20, inlineMax: 8192 };
  /** The volume's invalidations go by sharded pub/sub (SPUBLISH): it was made on a cluster (format 2). */
  shardedPubsub = false;
  /** Content commits sent by this session (for stats). */
  commits = 0;

  /**
   * Replicas that must acknowledge a commit before it returns (Redis WAIT), 0 for none. On a
   * single server or a Sentinel-managed one; the chunks, written earlier on the same
   * connection, are covered by the same WAIT.
   */
  waitReplicas = 0;
  waitTimeoutMs = 5000;

  constructor(private readonly redis: RedisClient, volume: string) {
    this.keys = new VolumeKeys(volume);
    this.run = defineScripts(redis);
  }

  /** open creates the volume when it is new, reads its settings and starts a session. */
  async open(defaults: VolumeSettings): Promise<{ session: string; settings: VolumeSettings }> {
    // Made on a cluster (Redis 7 at least: checkServer), a volume's invalidations are sharded.
    const sharded = this.redis instanceof Cluster;
    const flat = (await this.run('initVolume', this.keys.vol, [
      '0', nowNs().toString(), sharded ? FORMAT_SHARDED : FORMAT_VERSION, defaults.chunkSize, defaults.inlineMax,
      process.getuid?.() ?? 0, process.getgid?.() ?? 0,
    ])) as string[];
    const vol = pairs(flat);
    const bad = formatError(this.keys.volume, vol.format);
    if (bad) throw new Error(bad);
    this.shardedPubsub = Number(vol.format) === FORMAT_SHARDED;
    this.settings = { chunkSize: Number(vol.chunkSize), inlineMax: Number(vol.inlineMax) };
    this.session = String(await this.redis.hincrby(this.keys.ctr, 'session', 1));
    return { session: this.session, settings: this.settings };
  }

  get sessionId(): string { return this.session; }

  /** allocIno hands out a fresh inode number, reserving them from Redis in batches. */
  async allocIno(): Promise<Ino> {
    while (this.inoNext >= this.inoEnd) {
      this.inoRefill ??= mapErrors('alloc inode', async () => {
        const end = await this.redis.hincrby(this.keys.ctr, 'ino', INO_BATCH);
        this.inoNext = end - INO_BATCH + 1;
        this.inoEnd = end + 1;
      }).finally(() => { this.inoRefill = undefined; });
      await this.inoRefill;
    }
    return this.inoNext++;
  }

  /** getAttr returns an inode's attributes, or undefined when it does not exist. */
  async getAttr(ino: Ino): Promise<Attr | undefined> {
    const h = await mapErrors('getattr', () => this.redis.hgetall(this.keys.inode(ino)));
    return parseAttr(ino, h);
  }

  /**
   * getAttrs returns the attributes of several inodes in one round trip: undefined for one
   * that is gone or cannot be read (a damaged one fails on its own getAttr, not here).
   */
  async getAttrs(inos: readonly Ino[]): Promise<(Attr | undefined)[]> {
    if (inos.length === 0) return [];
    const packed = ((await mapErrors('getattr', () => this.run('loadAttrs', this.keys.vol, [this.session, '0', inos.join(',')]))) as string).split('\n');
    // A field holding a newline (damaged data) would shift every inode after it.
    if (packed.length !== inos.length) throw new FsError('EIO', `getattr: ${packed.length} attribute lines for ${inos.length} inodes`);
    return inos.map((ino, i) => attrOrUndefined(ino, packed[i]));
  }

  /**
   * lookupName returns the entry a name holds (none: absent) and its inode's attributes in one
   * round trip, with a small file's inline content (none: the file has chunks, or it is no
   * regular file), as of the directory's version (-1: unknown). The attributes are undefined
   * when the inode is gone meanwhile or damaged (its own getAttr says EIO), and the content then too.
   */
  async lookupName(parent: Ino, name: string): Promise<LookedUp> {
    const r = (await mapErrors('lookup', () => this.run('lookupName', this.keys.vol, [this.session, '0', parent, name], true))) as [Buffer | null, Buffer, Buffer | null, Buffer | null];
    const dirVersion = versionOf(r[3]);
    if (!r[0]) return { dirVersion };
    const entry = parseEntryValue(r[0].toString());
    const attr = attrOrUndefined(entry.ino, r[1].toString());
    if (!attr || !r[2]) return attr ? { entry, attr, dirVersion } : { entry, dirVersion };
    return { entry, attr, content: { kind: 'inline', data: r[2] }, dirVersion };
  }

  /** lookup returns the inode and type a directory entry names, or undefined. */
  async lookup(parent: Ino, name: string): Promise<{ ino: Ino; type: FileType } | undefined> {
    const v = await mapErrors('lookup', () => this.redis.hget(this.keys.entries(parent), name));
    return v === null ? undefined : parseEntryValue(v);
  }

  /** readdirPage returns one page of a directory's entries (HSCAN: never one huge command). */
  async readdirPage(dir: Ino, cursor: string, count = 1000): Promise<ListedPage> {
    const [next, flat] = await mapErrors('readdir', () => this.redis.hscan(this.keys.entries(dir), cursor, 'COUNT', count));
    const entries: DirEntry[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const e = listedEntry(dir, flat[i]!, flat[i + 1]!);
      if (e) entries.push(e);
    }
    return { entries, cursor: next, dirVersion: -1 };
  }

  /**
   * listPage returns one page of a directory's entries with their attributes (undefined: the
   * inode is gone) in one round trip; cursor '0' starts the listing and ends it.
   */
  async listPage(dir: Ino, cursor: string, count: number): Promise<ListedPage & { attrs: (Attr | undefined)[] }> {
    const flat = ((await mapErrors('readdir', () => this.run('listPage', this.keys.vol, [this.session, '0', dir, cursor, count]))) as string).split('\0');
    // A field holding a NUL (damaged data) would shift every entry after it.
    if (flat.length % 3 !== 2) throw new FsError('EIO', `readdir: a listing page of ${flat.length} fields`);
    const entries: DirEntry[] = [];
    const attrs: (Attr | undefined)[] = [];
    for (let i = 2; i < flat.length; i += 3) {
      const e = listedEntry(dir, flat[i]!, flat[i + 1]!);
      if (!e) continue;
      entries.push(e);
      attrs.push(attrOrUndefined(e.ino, flat[i + 2]));
    }
    return { entries, attrs, cursor: flat[0]!, dirVersion: versionOf(flat[1]!) };
  }

  /** readlink returns a symlink's target. */
  async readlink(ino: Ino): Promise<string> {
    const target = await mapErrors('readlink', () => this.redis.hget(this.keys.inode(ino), 'l'));
    if (target === null) throw new FsError('EINVAL');
    return target;
  }

  /** loadFile returns an inode's attributes with its inline data or chunk map, in one round trip. */
  async loadFile(ino: Ino): Promise<LoadedFile | undefined> {
    const loaded = (await mapErrors('load file', () => this.run('loadFile', this.keys.vol, [this.session, '0', ino], true))) as LoadReply;
    return parseLoaded(ino, loaded);
  }

  /**
   * loadFiles reads several files as loadFile does, in one round trip: undefined for one that
   * is gone or cannot be read (a damaged one fails on its own loadFile, not here).
   */
  async loadFiles(inos: readonly Ino[]): Promise<(LoadedFile | undefined)[]> {
    if (inos.length === 0) return [];
    const replies = (await mapErrors('load files', () => this.run('loadFiles', this.keys.vol, [this.session, '0', ...inos], true))) as LoadReply[];
    return inos.map((ino, i) => {
      try {
        return parseLoaded(ino, replies[i]!);
      } catch {
        return undefined;
      }
    });
  }

  /** createNode makes a file, directory, symlink or special node and its entry. */
  async createNode(node: NewNode): Promise<{ attr: Attr; changed: Invalidation[] }> {
    const ino = await this.allocIno();
    const now = nowNs();
    const changed = await this.change('createNode', [
      node.parent, node.name, node.type, ino, node.mode, node.uid, node.gid, node.rdev ?? 0, node.target ?? '',
    ], now);
    // The script wrote exactly these attributes: the caller can cache them without a read.
    const attr: Attr = {
      ino, type: node.type, mode: node.mode, uid: node.uid, gid: node.gid, nlink: node.type === 'd' ? 2 : 1,
      size: node.type === 'l' ? Buffer.byteLength(node.target ?? '') : 0,
      atimeNs: now, mtimeNs: now, ctimeNs: now, rdev: node.rdev ?? 0, version: 0, chunks: 0,
    };
    return { attr, changed };
  }

  /**
   * removeEntry unlinks a name (or removes an empty directory when dir is true). keep is an
   * inode the caller holds open: if this was its last name it becomes an orphan, not deleted.
   */
  removeEntry(parent: Ino, name: string, dir: boolean, keep: Ino = 0): Promise<Invalidation[]> {
    return this.change('removeEntry', [parent, name, dir ? '1' : '0', keep]);
  }

  /** rename moves an entry, atomically replacing a compatible target (kept if open: see removeEntry). */
  rename(srcParent: Ino, srcName: string, dstParent: Ino, dstName: string, flags = 0, keep: Ino = 0): Promise<Invalidation[]> {
    return this.change('rename', [srcParent, srcName, dstParent, dstName, flags, keep]);
  }

  /** purgeOrphan deletes orphans kept by this mount (open, or referenced by its kernel), now unused. */
  purgeOrphan(...inos: Ino[]): Promise<Invalidation[]> {
    return this.change('purgeOrphan', inos);
  }

  /** link adds a name for an existing inode. */
  link(ino: Ino, parent: Ino, name: string): Promise<Invalidation[]> {
    return this.change('link', [ino, parent, name]);
  }

  /** setAttr changes mode, owner or times (ctime follows). */
  setAttr(ino: Ino, ch: AttrChanges): Promise<Invalidation[]> {
    const args: ScriptArg[] = [ino];
    if (ch.mode !== undefined) args.push('m', ch.mode);
    if (ch.uid !== undefined) args.push('u', ch.uid);
    if (ch.gid !== undefined) args.push('g', ch.gid);
    if (ch.atimeNs !== undefined) args.push('at', ch.atimeNs.toString());
    if (ch.mtimeNs !== undefined) args.push('mt', ch.mtimeNs.toString());
    return this.change('setAttr', args);
  }

  /** commit swaps in a file's new content and size atomically (and durably, with waitReplicas). */
  async commit(c: ContentCommit): Promise<Invalidation[]> {
    const args: ScriptArg[] = [c.ino, c.size, c.mtimeNs.toString(), this.settings.chunkSize, c.dropFrom];
    if (c.inline) {
      args.push('1', c.inline);
    } else {
      args.push('0');
      for (const [idx, id] of c.chunks ?? []) args.push(idx, id);
    }
    const items = await this.change('commit', args);
    this.commits++;
    if (this.waitReplicas > 0) {
      const acked = await mapErrors('wait for replicas', () => this.redis.wait(this.waitReplicas, this.waitTimeoutMs));
      if (acked < this.waitReplicas) {
        throw new FsError('EIO', `only ${acked} of ${this.waitReplicas} replicas acknowledged the commit of inode ${c.ino}`);
      }
    }
    return items;
  }

  async getXattr(ino: Ino, name: string): Promise<Buffer | undefined> {
    const v = await mapErrors('getxattr', () => this.redis.hgetBuffer(this.keys.xattrs(ino), name));
    return v ?? undefined;
  }

  async listXattrs(ino: Ino): Promise<string[]> {
    return mapErrors('listxattr', () => this.redis.hkeys(this.keys.xattrs(ino)));
  }

  setXattr(ino: Ino, name: string, value: Buffer, flags: number): Promise<Invalidation[]> {
    return this.change('setXattr', [ino, name, value, flags]);
  }

  removeXattr(ino: Ino, name: string): Promise<Invalidation[]> {
    return this.change('removeXattr', [ino, name]);
  }

  /** usage returns bytes and inodes in use, for statfs. */
  async usage(): Promise<{ bytes: number; inodes: number }> {
    const [bytes, inodes] = await mapErrors('statfs', () => this.redis.hmget(this.keys.ctr, 'bytes', 'inodes'));
    return { bytes: Number(bytes ?? 0), inodes: Number(inodes ?? 0) };
  }

  // ---- operations tools (import, fsck, stale mounts) ------------------------------------

  /** importNode creates a node with its times and content (inline, or chunks uploaded first) in one step. */
  async importNode(node: ImportedNode): Promise<{ ino: Ino; changed: Invalidation[] }> {
    const ino = await this.allocIno();
    const args: ScriptArg[] = [
      node.parent, node.name, node.type, ino, node.mode, node.uid, node.gid, node.rdev ?? 0, node.target ?? '',
      node.atimeNs.toString(), node.mtimeNs.toString(), node.size,
    ];
    if (node.chunks) {
      args.push('0');
      for (const [idx, id] of node.chunks) args.push(idx, id);
    } else {
      args.push('1', node.inline ?? Buffer.alloc(0));
    }
    return { ino, changed: await this.change('importNode', args) };
  }

  /** heartbeat writes this session's registry entry (stamped with Redis's clock) and stats. */
  async heartbeat(entryPrefix: string, stats: string, statsTtlMs: number): Promise<number> {
    return Number(await mapErrors('heartbeat', () => this.run('heartbeat', this.keys.vol, [this.session, '0', entryPrefix, stats, statsTtlMs])));
  }

  /** reapMount removes a stale mount's registry entry and purges the orphans it held open. */
  reapMount(deadSession: string, entrySeen: string): Promise<Invalidation[]> {
    return this.change('reapMount', [deadSession, entrySeen]);
  }

  /** dropEntry removes an entry whose inode is missing (if it is still so). */
  dropEntry(parent: Ino, name: string, valueSeen: string): Promise<Invalidation[]> {
    return this.change('dropEntry', [parent, name, valueSeen]);
  }

  /**
   * dropListingCopy deletes the attributes an inode keeps packed for listings (lua/prelude.lua),
   * after fsck found them wrong: listings read its fields until a change packs them again.
   */
  async dropListingCopy(ino: Ino): Promise<void> {
    await mapErrors('fsck', () => this.redis.hdel(this.keys.inode(ino), 'pa', 'pt'));
  }

  /** setNlink corrects a link count (if it is still the one seen). */
  setNlink(ino: Ino, seen: number, want: number): Promise<Invalidation[]> {
    return this.change('setNlink', [ino, seen, want]);
  }

  /** dropChunkRefs removes chunk-map entries (index → id, if unchanged) so they read as holes. */
  dropChunkRefs(ino: Ino, refs: ReadonlyArray<readonly [number, string]>): Promise<Invalidation[]> {
    return this.change('dropChunkRefs', [ino, ...refs.flat()]);
  }

  /** attachLost names an unreachable inode #<ino> in /lost+found. */
  async attachLost(ino: Ino): Promise<Invalidation[]> {
    const lf = await this.allocIno();
    return this.change('attachLost', [ino, lf, process.getuid?.() ?? 0, process.getgid?.() ?? 0]);
  }

  private async change(script: Parameters<RunScript>[0], args: ScriptArg[], now = nowNs()): Promise<Invalidation[]> {
    const items = (await mapErrors(script, () => this.run(script, this.keys.vol, [this.session, now.toString(), ...args]))) as string[];
    return parseItems(items);
  }
}

/** A name looked up (MetaStore.lookupName). */
export interface LookedUp {
  /** What the name holds; none: it is absent. */
  entry?: { ino: Ino; type: FileType };
  attr?: Attr;
  content?: Content;
  /** The directory's version when this was true (-1: unknown). */
  dirVersion: number;
}

/** One page of a directory's entries; cursor '0': the last. */
export interface ListedPage {
  entries: DirEntry[];
  cursor: string;
  /** The directory's version when the page was read (-1: unknown). */
  dirVersion: number;
}

// A version as a script returns it (missing or damaged: -1, unknown).
function versionOf(raw: Buffer | string | null | undefined): number {
  const n = raw === null || raw === undefined || raw.length === 0 ? NaN : Number(raw.toString());
  return Number.isSafeInteger(n) ? n : -1;
}

/** A file's attributes and content, as loaded_file (lua/prelude.lua) reads them. */
export interface LoadedFile { attr: Attr; content: Content }

type LoadReply = [Buffer[], Buffer | null, Buffer[]];

function parseLoaded(ino: Ino, [h, inline, map]: LoadReply): LoadedFile | undefined {
  const attr = parseAttr(ino, pairs(h.map(String)));
  if (!attr) return undefined;
  if (inline) return { attr, content: { kind: 'inline', data: inline } };
  const chunks = new Map<number, string>();
  for (let i = 0; i + 1 < map.length; i += 2) chunks.set(Number(map[i]!.toString()), map[i + 1]!.toString());
  if (chunks.size === 0) return { attr, content: { kind: 'inline', data: Buffer.alloc(0) } };
  return { attr, content: { kind: 'chunks', map: chunks } };
}

function pairs(flat: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) o[flat[i]!] = flat[i + 1]!;
  return o;
}

// A listed entry, or undefined for a damaged one (bad value, or a name no file system may
// hold): it is left out of the listing and logged, and the rest of the directory lists as usual.
function listedEntry(dir: Ino, name: string, value: string): DirEntry | undefined {
  try {
    if (!validName(name)) throw new FsError('EIO', `invalid name ${JSON.stringify(name)}`);
    const { ino, type } = parseEntryValue(value);
    return { name, ino, type };
  } catch (err) {
    log.error({ dir, name, err: String(err) }, 'corrupt directory entry skipped');
    return undefined;
  }
}

function validName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

export { ROOT_INO };
