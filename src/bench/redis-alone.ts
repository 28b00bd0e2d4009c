// "Redis alone": what one Node client gets from the bench's own redis-server, in the same run,
// with no FUSE and no kernel in the way. Three rows are bounded by the Redis work redisfs does
// for them, in series with the kernel's requests (docs/BENCHMARK.md, hot spots):
// - a 4 KiB create is two scripts (createNode, then commit at close),
// - a delete is one script (removeEntry),
// - a cold read is the file's chunks coming out of Redis.
// Measuring that work alone, next to the null's figure for the kernel's part, gives the best
// ratio a daemon doing it could reach on this machine in this run: a ceiling, not a target.
import { ROOT_INO, nowNs } from '../core/types.js';
import { ChunkReader } from '../store/chunk-reader.js';
import { ChunkStore } from '../store/chunk-store.js';
import { chunkReaderOptions, connect, type RedisClient, type RedisTarget } from '../store/connect.js';
import { MetaStore } from '../store/meta-store.js';

export interface RedisAlone {
  /** Median round trip of a PING, µs. */
  pingUs: number;
  /** A create's two scripts, median µs per file (createNode, then a commit of 4 KiB inline). */
  createUs: number;
  /** A delete's script, median µs per file (removeEntry of those files). */
  deleteUs: number;
  /** The chunks of `chunkedFile` read as the daemon reads them (GET, `CHUNKS_IN_FLIGHT` at once), MB/s; NaN without it. */
  chunkMBps: number;
}

const CHUNKS_IN_FLIGHT = 4;
const PINGS = 1000;
/** Untimed files first: this process's first calls compile code and load the scripts. */
const WARMUP_FILES = 50;

/**
 * measureRedisAlone runs each piece of Redis work in a loop from this process: `files` creates
 * and deletes in a directory of its own (the mounts hear of them as of any other host's), and
 * one pass over the chunks of `chunkedFile`, a file in the volume's root, when it is there,
 * after `beforeChunks` (the bench drops the page cache there, as before the cold read).
 */
export async function measureRedisAlone(redisUrl: string, volume: string, files: number, chunkedFile?: string, beforeChunks?: () => void): Promise<RedisAlone> {
  const target: RedisTarget = { url: redisUrl, ioTimeoutMs: 10_000 };
  const redis = await connect(target, 'redisfs-bench-alone');
  try {
    const meta = new MetaStore(redis, volume);
    await meta.open({ chunkSize: 1 << 20, inlineMax: 8192 });
    const pingUs = await pingMedian(redis);
    const { createUs, deleteUs } = await createDelete(meta, files);
    const file = chunkedFile === undefined ? undefined : await meta.lookup(ROOT_INO, chunkedFile);
    const loaded = file?.type === 'f' ? await meta.loadFile(file.ino) : undefined;
    beforeChunks?.();
    const chunkMBps = loaded?.content.kind === 'chunks' ? await readChunks(redis, meta, target, loaded.content.map) : NaN;
    return { pingUs, createUs, deleteUs, chunkMBps };
  } finally {
    redis.disconnect();
  }
}

// The median of n timed runs of one step: a ceiling is better too high than too low, so
// the slow tail this machine adds now and then does not count.
async function medianUs(n: number, step: (i: number) => Promise<unknown>): Promise<number> {
  const us: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await step(i);
    us.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return us.sort((a, b) => a - b)[us.length >> 1]!;
}

function pingMedian(redis: RedisClient): Promise<number> {
  return medianUs(PINGS, () => redis.ping());
}

async function createDelete(meta: MetaStore, files: number): Promise<{ createUs: number; deleteUs: number }> {
  const dirName = `redis-alone-${process.pid}`;
  const dir = (await meta.createNode({ parent: ROOT_INO, name: dirName, type: 'd', mode: 0o40755, uid: 0, gid: 0 })).attr.ino;
  const content = Buffer.alloc(4096, 7);
  const create = async (name: string): Promise<void> => {
    const { attr } = await meta.createNode({ parent: dir, name, type: 'f', mode: 0o100644, uid: 0, gid: 0 });
    await meta.commit({ ino: attr.ino, size: content.length, mtimeNs: nowNs(), dropFrom: -1, inline: content });
  };
  for (let i = 0; i < WARMUP_FILES; i++) await create(`w${i}`);
  for (let i = 0; i < WARMUP_FILES; i++) await meta.removeEntry(dir, `w${i}`, false);
  const createUs = await medianUs(files, (i) => create(`f${i}`));
  const deleteUs = await medianUs(files, (i) => meta.removeEntry(dir, `f${i}`, false));
  await meta.removeEntry(ROOT_INO, dirName, true);
  return { createUs, deleteUs };
}

// As the daemon reads chunks: through ChunkStore on a ChunkReader of its own (checksums
// checked), each buffer given back once read.
async function readChunks(redis: RedisClient, meta: MetaStore, target: RedisTarget, map: ReadonlyMap<number, string>): Promise<number> {
  const ids = [...map].sort((a, b) => a[0] - b[0]).map(([, id]) => id);
  const options = chunkReaderOptions(target, 'redisfs-bench-alone-reader');
  if (!options || ids.length === 0) return NaN;
  const reader = new ChunkReader(options);
  const chunks = new ChunkStore(redis, meta.keys, meta.sessionId, reader);
  try {
    let bytes = 0;
    let next = 0;
    const t = process.hrtime.bigint();
    const lane = async (): Promise<void> => {
      while (next < ids.length) {
        const data = await chunks.get(ids[next++]!);
        if (data) {
          bytes += data.length;
          chunks.recycle(data);
        }
      }
    };
    await Promise.all(Array.from({ length: CHUNKS_IN_FLIGHT }, lane));
    return bytes > 0 ? bytes / (Number(process.hrtime.bigint() - t) / 1e9) / 1e6 : NaN;
  } finally {
    reader.close();
  }
}

/** What redisAloneLines needs of the run's figures: the references' own rates, by row. */
export interface References {
  createNull?: number | undefined;
  deleteNull?: number | undefined;
  deleteSshfs?: number | undefined;
  coldNull?: number | undefined;
}

/**
 * redisAloneLines says what was measured and the ceiling it sets: a file's kernel requests
 * take at least the null's time per file, and redisfs waits for its scripts in series with
 * them, so files/s ≤ 1 / (1/null + script time). A cold read cannot outrun its chunks.
 */
export function redisAloneLines(a: RedisAlone, refs: References): string[] {
  const us = (x: number): string => `${x.toFixed(0)} µs`;
  const lines = [`Redis alone (the bench process, no FUSE): PING p50 ${us(a.pingUs)}; a create's two scripts ${us(a.createUs)} per file, `
    + `a delete's script ${us(a.deleteUs)}${Number.isFinite(a.chunkMBps) ? `; the cold file's chunks, ${CHUNKS_IN_FLIGHT} at once, ${a.chunkMBps.toFixed(0)} MB/s` : ''}`];
  const bound = (rate: number | undefined, scriptUs: number): number | undefined =>
    rate !== undefined && rate > 0 ? 1 / (1 / rate + scriptUs / 1e6) : undefined;
  const parts: string[] = [];
  const create = bound(refs.createNull, a.createUs);
  if (create !== undefined) parts.push(`create ${(create / refs.createNull!).toFixed(2)}× null`);
  const del = bound(refs.deleteNull, a.deleteUs);
  if (del !== undefined) parts.push(`delete ${(del / refs.deleteNull!).toFixed(2)}× null${refs.deleteSshfs ? ` (${(del / refs.deleteSshfs).toFixed(2)}× sshfs)` : ''}`);
  if (refs.coldNull && Number.isFinite(a.chunkMBps)) parts.push(`cold read ${(a.chunkMBps / refs.coldNull).toFixed(2)}× null`);
  if (parts.length) lines.push(`the most that allows redisfs here (ceilings, not goals): ${parts.join(', ')}`);
  return lines;
}
