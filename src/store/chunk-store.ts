// ChunkStore reads and writes immutable data chunks, named by ids that are never reused.
// Each stored chunk ends with a CRC-32 of its bytes (4 bytes, little-endian; checksum.ts), which
// every read verifies: a damaged or truncated chunk is EIO for the file that needs it, never
// wrong data.
import type { Writable } from 'node:stream';
import { crc32 } from './checksum.js';
import { Command } from 'ioredis';
import { FsError } from '../core/errors.js';
import type { ChunkReader } from './chunk-reader.js';
import type { RedisClient } from './connect.js';
import type { VolumeKeys } from './keys.js';
import { mapErrors } from './redis-errors.js';

/** Bytes of the checksum trailer after a chunk's data. */
export const TRAILER = 4;

export class ChunkStore {
  private counter = 0;

  /** reader, when given, fetches chunks on its own connection (see chunk-reader.ts). */
  constructor(private readonly redis: RedisClient, private readonly keys: VolumeKeys, private readonly session: string,
    private readonly reader?: ChunkReader) {}

  /** newId names a chunk after this mount's session, so gc can tell whose upload it was. */
  newId(): string {
    return `${Number(this.session).toString(36)}.${(++this.counter).toString(36)}`;
  }

  /** get returns a chunk's bytes (checksum verified), or undefined when it is missing. */
  async get(id: string): Promise<Buffer | undefined> {
    const key = this.keys.chunk(id);
    const stored = await mapErrors('read chunk', () => (this.reader ? this.reader.get(key) : this.redis.getBuffer(key)));
    return stored ? unseal(stored, id) : undefined;
  }

  /**
   * recycle gives back the bytes of a chunk get() returned, once nothing will read them after
   * this event-loop turn (see buffer-pool.ts). Other buffers are ignored.
   */
  recycle(data: Buffer): void {
    this.reader?.recycle(data);
  }

  /** put uploads a chunk under an id from newId(); data is sent as it is, never copied. */
  async put(id: string, data: Buffer): Promise<void> {
    const set = new ChunkSet(this.keys.chunk(id), [data, trailer(data)]);
    await mapErrors('write chunk', () => this.redis.sendCommand(set) as Promise<unknown>);
  }

  /** delete removes chunks nothing references any more (reclaimed after their grace period). */
  async delete(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    // One key per command: on Redis Cluster the chunks live in different slots.
    await mapErrors('delete chunks', () => Promise.all(ids.map((id) => this.redis.unlink(this.keys.chunk(id)))));
  }
}

/**
 * ChunkSet is SET key value, where the value is the concatenation of `parts` (a chunk's bytes
 * and its trailer), sent without a copy: for a command with a Buffer argument ioredis builds
 * one new buffer holding the whole command, a 1 MiB allocation and copy per chunk (a sixth of
 * a sequential write's CPU). This writes the header and then each part, corked into one
 * writev. ioredis's own script commands override toWritable the same way. It writes to the
 * socket it is given, so it must only ever go through sendCommand outside a pipeline or
 * MULTI (ioredis passes them the socket too, but buffers what toWritable returns): put() is
 * its one caller.
 */
class ChunkSet extends Command {
  constructor(private readonly key: string, private readonly parts: Buffer[]) {
    super('set', [key]);
  }

  override toWritable(socket: object): string | Buffer {
    const s = socket as Partial<Writable>;
    if (typeof s.write !== 'function' || typeof s.cork !== 'function' || typeof s.uncork !== 'function') {
      this.args = [this.key, Buffer.concat(this.parts)];
      (this as unknown as { bufferMode: boolean }).bufferMode = true; // set by ioredis only for Buffer args given up front
      return super.toWritable(socket);
    }
    const len = this.parts.reduce((n, p) => n + p.length, 0);
    s.cork();
    s.write(`*3\r\n$3\r\nSET\r\n$${Buffer.byteLength(this.key)}\r\n${this.key}\r\n$${len}\r\n`);
    for (const p of this.parts) s.write(p);
    process.nextTick(() => s.uncork!());
    return '\r\n'; // ioredis writes it after these, still corked
  }
}

/** trailer returns the checksum trailer stored after a chunk's bytes. */
export function trailer(data: Buffer): Buffer {
  const t = Buffer.allocUnsafe(TRAILER);
  t.writeUInt32LE(crc32(data), 0);
  return t;
}

/** unseal checks and strips the trailer; a mismatch is EIO naming the chunk. */
export function unseal(stored: Buffer, id: string): Buffer {
  if (stored.length < TRAILER) throw new FsError('EIO', `chunk ${id} is truncated (${stored.length} bytes)`);
  const data = stored.subarray(0, stored.length - TRAILER);
  if (crc32(data) !== stored.readUInt32LE(stored.length - TRAILER)) throw new FsError('EIO', `chunk ${id} fails its checksum`);
  return data;
}
