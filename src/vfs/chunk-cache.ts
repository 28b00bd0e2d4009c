// ChunkCache keeps chunk bytes by immutable chunk id in a byte-bounded LRU. A cached chunk is
// never stale; concurrent misses for one id share a single fetch.
import { LRUCache } from 'lru-cache';
import { FsError } from '../core/errors.js';
import type { ChunkStore } from '../store/chunk-store.js';
import { log } from '../core/log.js';

export class ChunkCache {
  private readonly lru: LRUCache<string, Buffer>;
  private readonly inflight = new Map<string, Promise<Buffer>>();
  hits = 0;
  misses = 0;

  constructor(private readonly chunks: ChunkStore, maxBytes: number) {
    this.lru = new LRUCache({ maxSize: Math.max(maxBytes, 1 << 20), sizeCalculation: (b) => Math.max(b.length, 1) });
  }

  /** get returns a chunk's bytes; a chunk missing from Redis is EIO (named in the log). */
  get(id: string, ino: number): Promise<Buffer> {
    const cached = this.lru.get(id);
    if (cached) {
      this.hits++;
      return Promise.resolve(cached);
    }
    let p = this.inflight.get(id);
    if (!p) {
      this.misses++;
      p = this.chunks.get(id).then((b) => {
        if (!b) {
          log.error({ ino, chunk: id }, 'chunk missing from Redis');
          throw new FsError('EIO', `inode ${ino}: chunk ${id} is missing`);
        }
        this.lru.set(id, b);
        return b;
      }).finally(() => this.inflight.delete(id));
      this.inflight.set(id, p);
    }
    return p;
  }

  /** prefetch starts fetching a chunk into the cache, ignoring failure (a read will retry). */
  prefetch(id: string, ino: number): void {
    if (this.lru.has(id) || this.inflight.has(id)) return;
    this.get(id, ino).catch(() => undefined);
  }

  /** put records bytes this mount just wrote under a new id. */
  put(id: string, data: Buffer): void {
    this.lru.set(id, data);
  }

  get bytes(): number { return this.lru.calculatedSize; }
  get maxBytes(): number { return this.lru.maxSize; }
}
