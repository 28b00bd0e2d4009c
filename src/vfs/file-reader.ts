// Reads byte ranges of committed file content: inline data, or chunks fetched through the
// chunk cache. Holes (no chunk, or bytes past a short chunk) read as zeros.
import type { Content } from '../store/meta-store.js';
import type { ChunkCache } from './chunk-cache.js';

/** chunkBytes returns the bytes of chunk idx, or undefined for a hole. */
export function committedChunk(content: Content, idx: number, ino: number, cache: ChunkCache): Promise<Buffer | undefined> | Buffer | undefined {
  if (content.kind === 'inline') return idx === 0 ? content.data : undefined;
  const id = content.map.get(idx);
  return id === undefined ? undefined : cache.get(id, ino);
}

export type ChunkSource = (idx: number) => Promise<Buffer | undefined> | Buffer | undefined;

/**
 * readRange copies [offset, offset+length) of a file of the given size from its chunks, into
 * `into` when given (the kernel's buffer: no intermediate copy), else a new buffer; with
 * 'view' it may return a view of one immutable chunk instead.
 */
export async function readRange(source: ChunkSource, chunkSize: number, size: number, offset: number, length: number, into?: Buffer | 'view'): Promise<Buffer> {
  const end = Math.min(size, offset + length);
  if (end <= offset) return Buffer.alloc(0);
  const first = Math.floor(offset / chunkSize);
  const last = Math.floor((end - 1) / chunkSize);
  if (into === 'view' && first === last) {
    // The usual read (kernel readahead, up to 1 MiB, aligned) lies in one chunk: answer with a
    // view of the chunk itself, no copy. Only for committed chunks, which never change; the
    // caller must not keep the view (a reply copies it into the kernel at once).
    const got = source(first);
    const bytes = got instanceof Promise ? await got : got;
    const from = offset - first * chunkSize;
    if (bytes && bytes.length >= from + (end - offset)) return bytes.subarray(from, from + (end - offset));
  }
  const out = into && into !== 'view' ? into.subarray(0, end - offset) : Buffer.allocUnsafe(end - offset);
  const parts: Promise<void>[] = [];
  for (let idx = first; idx <= last; idx++) {
    const chunkStart = idx * chunkSize;
    const from = Math.max(offset, chunkStart) - chunkStart;
    const to = Math.min(end, chunkStart + chunkSize) - chunkStart;
    const at = chunkStart + from - offset;
    const place = (bytes: Buffer | undefined): void => {
      // A hole, or the part past a short chunk, reads as zeros.
      const have = bytes ? Math.max(0, Math.min(to, bytes.length) - from) : 0;
      if (have > 0) bytes!.copy(out, at, from, from + have);
      if (have < to - from) out.fill(0, at + have, at + (to - from));
    };
    const got = source(idx);
    if (got instanceof Promise) parts.push(got.then(place));
    else place(got);
  }
  await Promise.all(parts);
  return out;
}
