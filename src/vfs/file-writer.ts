// FileWriter holds the uncommitted changes of one file on this mount, shared by every open
// handle of it, until a flush/fsync/close commits them atomically.
//
// Memory stays bounded: a chunk the writer has moved past (sequential writing) or any chunk
// beyond maxDirtyChunks is uploaded early under a fresh id — uncommitted, invisible to other
// hosts until the commit swaps it into the chunk map. Chunk ids are never reused, so an id
// this writer uploaded and then replaced is simply deleted.
import { FsError, isFsError } from '../core/errors.js';
import { nowNs } from '../core/types.js';
import type { Ino } from '../core/types.js';
import type { Content, MetaStore, VolumeSettings } from '../store/meta-store.js';
import type { ChunkStore } from '../store/chunk-store.js';
import type { Invalidation } from '../store/invalidation.js';
import type { ChunkCache } from './chunk-cache.js';
import { committedChunk, readRange } from './file-reader.js';
import { Mutex } from './mutex.js';
import { log } from '../core/log.js';

export interface WriterDeps {
  meta: MetaStore;
  chunks: ChunkStore;
  cache: ChunkCache;
  settings: VolumeSettings;
  /** Most chunks kept dirty in memory per file before uploading early. @default 8 */
  maxDirtyChunks: number;
}

export interface Committed { size: number; content: Content }

/** Reads a file's committed state afresh (used after another host changed it). */
export type BaseLoader = () => Promise<Committed>;

export class FileWriter {
  size: number;
  mtimeNs: bigint;
  modified = false;
  /** Another host committed since the base was read; reload it before the next change. */
  stale = false;
  private base: Committed;
  /** Smallest size since the base: base chunks from here on were cut off by a truncate. */
  private lowWater: number;
  private readonly dirty = new Map<number, Buffer>();
  private readonly uploaded = new Map<number, string>();
  private readonly uploading = new Map<string, Promise<void>>();
  private readonly loading = new Map<number, Promise<Buffer>>();
  private garbage: string[] = [];
  private failure: FsError | undefined;
  private readonly lock = new Mutex();
  private readonly cs: number;

  constructor(readonly ino: Ino, base: Committed, mtimeNs: bigint, private readonly deps: WriterDeps, private readonly loadBase: BaseLoader) {
    this.cs = deps.settings.chunkSize;
    this.base = base;
    this.size = base.size;
    this.lowWater = base.size;
    this.mtimeNs = mtimeNs;
    this.adoptInlineBase();
  }

  /**
   * write stores data at offset (or at the end, for O_APPEND) and returns the bytes written.
   * `owned`: the caller gives data away (it will never change it), so a whole chunk of it
   * becomes the dirty chunk as it is, without a copy.
   */
  write(offset: number, data: Buffer, append: boolean, owned = false): Promise<number> {
    return this.lock.run(async () => {
      this.check();
      await this.refresh();
      const off = append ? this.size : offset;
      const end = off + data.length;
      let pos = 0;
      while (pos < data.length) {
        const idx = Math.floor((off + pos) / this.cs);
        const inChunk = off + pos - idx * this.cs;
        const n = Math.min(this.cs - inChunk, data.length - pos);
        if (n === this.cs && !this.dirty.has(idx)) {
          this.forgetUploaded(idx);
          if (owned) {
            this.dirty.set(idx, data.subarray(pos, pos + n));
          } else {
            const buf = Buffer.allocUnsafe(this.cs);
            data.copy(buf, 0, pos, pos + n);
            this.dirty.set(idx, buf);
          }
        } else {
          const buf = await this.chunkForWrite(idx, inChunk + n);
          data.copy(buf, inChunk, pos, pos + n);
        }
        pos += n;
      }
      if (end > this.size) this.size = end;
      this.touch();
      await this.uploadEarly(end);
      return data.length;
    });
  }

  /** truncate sets the size; bytes past a shrink are gone, a grow reads as zeros. */
  truncate(size: number): Promise<void> {
    return this.lock.run(async () => {
      this.check();
      await this.refresh();
      if (size < this.size) {
        const keep = Math.ceil(size / this.cs);
        for (const idx of [...this.dirty.keys()]) if (idx >= keep) this.dirty.delete(idx);
        for (const idx of [...this.uploaded.keys()]) if (idx >= keep) this.forgetUploaded(idx);
        if (size % this.cs !== 0) {
          const buf = await this.chunkForWrite(Math.floor(size / this.cs), 0);
          buf.fill(0, Math.min(size % this.cs, buf.length));
        }
        this.lowWater = Math.min(this.lowWater, size);
      }
      this.size = size;
      this.touch();
    });
  }

  /** read returns what this mount's processes see: committed content overlaid with changes. */
  read(offset: number, length: number, into?: Buffer): Promise<Buffer> {
    return readRange((idx) => this.currentChunk(idx), this.cs, this.size, offset, length, into);
  }

  /** commit makes the changes durable and visible to every host in one atomic step. */
  commit(): Promise<Invalidation[]> {
    return this.lock.run(async () => {
      if (!this.modified) return [];
      this.check();
      await this.settle();
      this.check();
      const { meta, settings } = this.deps;
      let items: Invalidation[];
      let content: Content;
      if (this.size <= settings.inlineMax) {
        const data = await this.read(0, this.size);
        items = await meta.commit({ ino: this.ino, size: this.size, mtimeNs: this.mtimeNs, dropFrom: -1, inline: data });
        this.garbage.push(...this.uploaded.values());
        content = { kind: 'inline', data };
      } else {
        for (const idx of [...this.dirty.keys()]) this.upload(idx);
        await this.settle();
        this.check();
        const dropFrom = this.lowWater < this.base.size ? Math.ceil(this.lowWater / this.cs) : -1;
        const changes = new Map(this.uploaded);
        items = await meta.commit({ ino: this.ino, size: this.size, mtimeNs: this.mtimeNs, dropFrom, chunks: changes });
        const map = new Map(this.base.content.kind === 'chunks' ? this.base.content.map : []);
        if (dropFrom >= 0) for (const idx of [...map.keys()]) if (idx >= dropFrom) map.delete(idx);
        for (const [idx, id] of changes) map.set(idx, id);
        content = { kind: 'chunks', map };
      }
      this.uploaded.clear();
      this.dirty.clear();
      this.base = { size: this.size, content };
      this.lowWater = this.size;
      this.modified = false;
      this.adoptInlineBase();
      this.collectGarbage();
      return items;
    });
  }

  /** discard drops every uncommitted change (the file is gone, or the mount is stopping). */
  discard(): void {
    this.garbage.push(...this.uploaded.values());
    this.uploaded.clear();
    this.dirty.clear();
    this.modified = false;
    this.collectGarbage();
  }

  get dirtyBytes(): number { return this.dirty.size * this.cs; }

  // With no change of ours pending, another host's commit simply becomes our new base. (With
  // changes pending, ours win per chunk at our commit: the documented last-writer rule.)
  private async refresh(): Promise<void> {
    if (!this.stale || this.modified) return;
    const base = await this.loadBase();
    this.stale = false;
    this.dirty.clear();
    this.base = base;
    this.size = base.size;
    this.lowWater = base.size;
    this.adoptInlineBase();
  }

  // A small file's inline content becomes dirty chunk 0, so whichever form the next commit
  // takes (inline or chunks) starts from the whole content.
  private adoptInlineBase(): void {
    const c = this.base.content;
    if (c.kind === 'inline' && c.data.length > 0 && !this.dirty.has(0)) {
      const buf = Buffer.alloc(this.capacityFor(c.data.length, 0));
      c.data.copy(buf);
      this.dirty.set(0, buf);
    }
  }

  private touch(): void {
    this.modified = true;
    this.mtimeNs = nowNs();
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  private baseChunk(idx: number): Promise<Buffer | undefined> | Buffer | undefined {
    if (idx * this.cs >= this.lowWater) return undefined; // cut off by a truncate
    return committedChunk(this.base.content, idx, this.ino, this.deps.cache);
  }

  private async currentChunk(idx: number): Promise<Buffer | undefined> {
    const d = this.dirty.get(idx);
    if (d) return d;
    const id = this.uploaded.get(idx);
    if (id !== undefined) {
      await this.uploading.get(id);
      return this.deps.cache.get(id, this.ino);
    }
    return this.baseChunk(idx);
  }

  // Dirty chunk buffers hold at least `need` bytes, growing by doubling up to the chunk size:
  // a 4 KiB file must not cost a zeroed 1 MiB buffer. Bytes past a buffer's end read as zeros.
  private async chunkForWrite(idx: number, need: number): Promise<Buffer> {
    let buf = this.dirty.get(idx);
    if (!buf) {
      let p = this.loading.get(idx);
      if (!p) {
        p = (async () => {
          const src = await this.currentChunk(idx);
          const len = src ? Math.min(src.length, this.cs) : 0;
          const b = Buffer.alloc(this.capacityFor(need, len));
          src?.copy(b, 0, 0, len);
          this.forgetUploaded(idx);
          this.dirty.set(idx, b);
          return b;
        })().finally(() => this.loading.delete(idx));
        this.loading.set(idx, p);
      }
      buf = await p;
    }
    if (buf.length >= need) return buf;
    const grown = Buffer.alloc(this.capacityFor(need, buf.length));
    buf.copy(grown);
    this.dirty.set(idx, grown);
    return grown;
  }

  private capacityFor(need: number, have: number): number {
    return Math.min(Math.max(need, have * 2, 4096), this.cs);
  }

  private forgetUploaded(idx: number): void {
    const id = this.uploaded.get(idx);
    if (id === undefined) return;
    this.uploaded.delete(idx);
    this.garbage.push(id);
  }

  // A sequential writer that filled a chunk will not come back to it: upload it now. Past
  // the dirty limit, upload everything but the chunk being written.
  private async uploadEarly(end: number): Promise<void> {
    const current = Math.floor(end / this.cs);
    if (end % this.cs === 0 && this.dirty.has(current - 1)) this.upload(current - 1);
    if (this.dirty.size > this.deps.maxDirtyChunks) {
      for (const idx of [...this.dirty.keys()]) if (idx !== current) this.upload(idx);
    }
    if (this.uploading.size >= this.deps.maxDirtyChunks) await this.settle();
  }

  private upload(idx: number): void {
    const buf = this.dirty.get(idx);
    if (!buf) return;
    // Bytes past the buffer's end are zeros: a short chunk says the same.
    const len = Math.max(0, Math.min(this.cs, this.size - idx * this.cs, buf.length));
    this.dirty.delete(idx);
    // From here the buffer is immutable: it becomes the cached chunk and the upload itself.
    const data = buf.subarray(0, len);
    const { chunks, cache } = this.deps;
    const id = chunks.newId();
    this.forgetUploaded(idx);
    this.uploaded.set(idx, id);
    cache.put(id, data);
    // Start the upload after this write has been answered: encoding a 1 MiB command is work
    // the writer need not wait for.
    const p = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => chunks.put(id, data))
      .catch((err: unknown) => {
        this.failure ??= isFsError(err) ? err : new FsError('EIO', String(err));
      }).finally(() => this.uploading.delete(id));
    this.uploading.set(id, p);
  }

  private async settle(): Promise<void> {
    while (this.uploading.size > 0) await Promise.all([...this.uploading.values()]);
  }

  private collectGarbage(): void {
    if (this.garbage.length === 0) return;
    const ids = this.garbage;
    this.garbage = [];
    this.deps.chunks.delete(ids).catch((err: unknown) => log.warn({ err: String(err), ino: this.ino }, 'could not delete replaced chunks; gc will'));
  }
}
