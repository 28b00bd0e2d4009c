// ChunkCache keeps chunk bytes by immutable chunk id in a byte-bounded LRU. A cached chunk is
// never stale; concurrent misses for one id share a single fetch.
//
// Chunks fetched ahead of a sequential reader can instead be streamed: held apart from the LRU
// until the reader has read them to their end, then given back to the chunk store for reuse;
// and a chunk one read took whole can be dropped. That is for mounts whose kernel keeps a
// file's pages across opens: the page cache holds those bytes, and a second copy here would
// only push out chunks read in pieces (a scan would empty the cache) and cost fresh memory
// for every MiB read.
//
// Bytes handed out (get) must be copied before the current event-loop turn ends: evicted and
// streamed chunks go back to the store, which reuses their memory from the next turn on.
import { LRUCache } from 'lru-cache';
import { FsError } from '../core/errors.js';
import type { ChunkStore } from '../store/chunk-store.js';
import { log } from '../core/log.js';

/** Bytes of streamed chunks held at most (a few read-ahead windows), beside the LRU's own bound. */
const STREAM_BYTES = 64 << 20;

export class ChunkCache {
  private readonly lru: LRUCache<string, Buffer>;
  private readonly inflight = new Map<string, Promise<Buffer>>();
  /**
   * Streamed chunks not read to their end yet. Read without touching their order (peek), so
   * that past STREAM_BYTES the oldest go first: readers that stopped half-way.
   */
  private readonly stream: LRUCache<string, Buffer>;
  hits = 0;
  misses = 0;

  constructor(private readonly chunks: ChunkStore, maxBytes: number) {
    const bounded = (bytes: number): LRUCache<string, Buffer> => new LRUCache({
      maxSize: bytes,
      sizeCalculation: (b) => Math.max(b.length, 1),
      dispose: (b) => chunks.recycle(b),
    });
    this.lru = bounded(Math.max(maxBytes, 1 << 20));
    this.stream = bounded(STREAM_BYTES);
  }

  /** get returns a chunk's bytes; a chunk missing from Redis is EIO (named in the log). */
  get(id: string, ino: number): Promise<Buffer> {
    const cached = this.lru.get(id) ?? this.stream.peek(id);
    if (cached) {
      this.hits++;
      return Promise.resolve(cached);
    }
    return this.inflight.get(id) ?? this.fetch(id, ino, false);
  }

  /**
   * prefetch starts fetching a chunk, ignoring failure (a read will retry); `streamed`: held
   * apart from the LRU until done() (see above).
   */
  prefetch(id: string, ino: number, streamed = false): void {
    if (this.lru.has(id) || this.stream.has(id) || this.inflight.has(id)) return;
    this.fetch(id, ino, streamed).catch(() => undefined);
  }

  /** done says a streamed chunk was read to its end: it goes back to the store. */
  done(id: string): void {
    this.stream.delete(id); // disposing recycles it
  }

  /** drop forgets a chunk the kernel now holds whole, streamed or not. */
  drop(id: string): void {
    this.stream.delete(id);
    this.lru.delete(id);
  }

  /** put records bytes this mount just wrote under a new id. */
  put(id: string, data: Buffer): void {
    this.lru.set(id, data);
  }

  private fetch(id: string, ino: number, streamed: boolean): Promise<Buffer> {
    this.misses++;
    const p = this.chunks.get(id).then((b) => {
      if (!b) {
        log.error({ ino, chunk: id }, 'chunk missing from Redis');
        throw new FsError('EIO', `inode ${ino}: chunk ${id} is missing`);
      }
      (streamed ? this.stream : this.lru).set(id, b);
      return b;
    }).finally(() => this.inflight.delete(id));
    this.inflight.set(id, p);
    return p;
  }

  get bytes(): number { return this.lru.calculatedSize + this.stream.calculatedSize; }
  get maxBytes(): number { return this.lru.maxSize; }
}
