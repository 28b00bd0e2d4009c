// What the chunk cache keeps, and what it gives back to the store for reuse. The store here is
// a stand-in that serves chunks from memory and records what comes back: the policy is the
// subject, not Redis (the reader has its own test, the mounts theirs).
import { describe, expect, it } from 'vitest';
import type { ChunkStore } from '../src/store/chunk-store.js';
import { ChunkCache } from '../src/vfs/chunk-cache.js';

const MiB = 1 << 20;

function store(): { chunks: ChunkStore; fetched: string[]; recycled: Buffer[] } {
  const fetched: string[] = [];
  const recycled: Buffer[] = [];
  const chunks = {
    get: async (id: string) => {
      fetched.push(id);
      return Buffer.alloc(MiB, id);
    },
    recycle: (b: Buffer) => void recycled.push(b),
  } as unknown as ChunkStore;
  return { chunks, fetched, recycled };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('the chunk cache', () => {
  it('keeps what is read, gives back what it evicts, and fetches a chunk once for concurrent readers', async () => {
    const s = store();
    const cache = new ChunkCache(s.chunks, 2 * MiB);
    const [a1, a2] = await Promise.all([cache.get('a', 1), cache.get('a', 1)]);
    expect(a1).toBe(a2);
    await cache.get('b', 1);
    await cache.get('a', 1);
    expect(s.fetched).toEqual(['a', 'b']);
    await cache.get('c', 1); // over 2 MiB: the least recently used (b) goes
    expect(s.recycled.map((b) => b.toString('utf8', 0, 1))).toEqual(['b']);
    expect(cache.bytes).toBe(2 * MiB);
  });

  it('holds streamed chunks apart from the LRU until read to their end', async () => {
    const s = store();
    const cache = new ChunkCache(s.chunks, 2 * MiB);
    await cache.get('hot', 1);
    cache.prefetch('s1', 1, true);
    cache.prefetch('s2', 1, true);
    await settle();
    expect(await cache.get('s1', 1)).toBeDefined();
    expect(s.fetched).toEqual(['hot', 's1', 's2']);
    cache.done('s1');
    cache.done('s2');
    expect(s.recycled.map((b) => b.toString('utf8', 0, 2))).toEqual(['s1', 's2']);
    // A scan streamed through: what was read in pieces is still there.
    await cache.get('hot', 1);
    expect(s.fetched).toEqual(['hot', 's1', 's2']);
  });

  it('drops a chunk the kernel holds whole, whichever way it came', async () => {
    const s = store();
    const cache = new ChunkCache(s.chunks, 4 * MiB);
    await cache.get('kept', 1);
    cache.prefetch('streamed', 1, true);
    await settle();
    cache.drop('kept');
    cache.drop('streamed');
    expect(cache.bytes).toBe(0);
    expect(s.recycled).toHaveLength(2);
    await cache.get('kept', 1);
    expect(s.fetched).toEqual(['kept', 'streamed', 'kept']);
  });

  it('bounds what an abandoned stream leaves behind', async () => {
    const s = store();
    const cache = new ChunkCache(s.chunks, 4 * MiB);
    for (let i = 0; i < 100; i++) cache.prefetch(`s${i}`, 1, true);
    await settle();
    expect(cache.bytes).toBe(64 * MiB);
    expect(s.recycled).toHaveLength(36);
  });
});
