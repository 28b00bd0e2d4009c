// ChunkStore reads and writes immutable data chunks, named by ids that are never reused.
import type { RedisClient } from './connect.js';
import type { VolumeKeys } from './keys.js';
import { mapErrors } from './redis-errors.js';

export class ChunkStore {
  private counter = 0;

  constructor(private readonly redis: RedisClient, private readonly keys: VolumeKeys, private readonly session: string) {}

  /** newId names a chunk after this mount's session, so gc can tell whose upload it was. */
  newId(): string {
    return `${Number(this.session).toString(36)}.${(++this.counter).toString(36)}`;
  }

  /** get returns a chunk's bytes, or undefined when it is missing. */
  async get(id: string): Promise<Buffer | undefined> {
    const b = await mapErrors('read chunk', () => this.redis.getBuffer(this.keys.chunk(id)));
    return b ?? undefined;
  }

  /** put uploads a chunk under an id from newId(). */
  async put(id: string, data: Buffer): Promise<void> {
    await mapErrors('write chunk', () => this.redis.set(this.keys.chunk(id), data));
  }

  /** delete removes chunks nothing references any more (reclaimed after their grace period). */
  async delete(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    // One key per command: on Redis Cluster the chunks live in different slots.
    await mapErrors('delete chunks', () => Promise.all(ids.map((id) => this.redis.unlink(this.keys.chunk(id)))));
  }
}
