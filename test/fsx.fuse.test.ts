// Randomized data-integrity test in the style of fsx: the same seeded sequence of writes,
// truncates, reads, reopens and fsyncs is applied to a file on the mount and to a local
// reference file, and every read is compared byte for byte.
//   FSX_SEED=<n>  replays a run (the seed is printed at the start)
//   FSX_OPS=<n>   number of operations (default 3000)
import { randomInt } from 'node:crypto';
import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpLogsOnFailure, makeTempDir, mountHost, Prng, readAt, sha256File, uniqueVolume, writeAt, type Host } from './support/index.js';

const MiB = 1024 * 1024;
const CHUNK = MiB; // the store's chunk size: writes are steered across these boundaries
const MAX_FILE = 6 * MiB + 12_345;
const SEED = process.env.FSX_SEED !== undefined ? Number(process.env.FSX_SEED) >>> 0 : randomInt(2 ** 32);
const OPS = Number(process.env.FSX_OPS ?? 3000);

const volume = uniqueVolume('fsx');
let A: Host;
let B: Host | undefined;

beforeAll(async () => {
  A = await mountHost({ volume, label: 'A' });
});
afterAll(async () => {
  await B?.stop();
  await A?.stop();
});
dumpLogsOnFailure(() => [A, B]);



function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

describe('fsx: random writes, truncates and reads on one file match a local reference file', () => {
  it(`keeps the file byte-identical through ${OPS} random operations (seed ${SEED})`, { timeout: 240_000 }, async () => {
    console.log(`fsx: seed ${SEED}, ${OPS} ops (replay with FSX_SEED=${SEED})`);
    const rng = new Prng(SEED);
    const refDir = await makeTempDir('fsx-ref');
    const refPath = path.join(refDir, 'ref');
    const mntPath = A.p('fsx-file');
    let mnt = await fs.open(mntPath, 'w+');
    let ref = await fs.open(refPath, 'w+');
    let size = 0;
    const history: string[] = [];
    const counts: Record<string, number> = {};
    const note = (i: number, s: string): void => {
      history.push(`#${i} ${s}`);
      if (history.length > 40) history.shift();
      const k = s.split(' ')[0] ?? s;
      counts[k] = (counts[k] ?? 0) + 1;
    };
    const fail = (i: number, what: string): never => {
      throw new Error(
        `fsx (seed ${SEED}, replay with FSX_SEED=${SEED}) failed at op #${i}: ${what}\n` +
          `last operations:\n  ${history.join('\n  ')}`,
      );
    };
    const compareRange = async (i: number, off: number, len: number, via: string, fh: FileHandle = mnt): Promise<void> => {
      const got = await readAt(fh, off, len);
      const want = await readAt(ref, off, len);
      const at = firstDifference(got, want);
      if (at >= 0) {
        fail(
          i,
          `${via} read [${off}, +${len}) differs at file offset ${off + at} ` +
            `(chunk ${Math.floor((off + at) / CHUNK)} +${(off + at) % CHUNK}); got ${got.length} bytes, ` +
            `expected ${want.length}; got ${got.subarray(at, at + 16).toString('hex')} ` +
            `expected ${want.subarray(at, at + 16).toString('hex')}; model size ${size}`,
        );
      }
    };
    /** An offset biased towards chunk boundaries and EOF, where the bugs live. */
    const pickOffset = (): number => {
      const r = rng.int(0, 99);
      if (r < 30) {
        const k = rng.int(0, Math.floor(MAX_FILE / CHUNK));
        return Math.max(0, Math.min(MAX_FILE - 1, k * CHUNK + rng.int(-4096, 4096)));
      }
      if (r < 50) return Math.max(0, Math.min(MAX_FILE - 1, size + rng.int(-2048, 65_536)));
      return rng.int(0, MAX_FILE - 1);
    };
    const pickLength = (): number => {
      const r = rng.int(0, 99);
      if (r < 55) return rng.int(1, 4096);
      if (r < 90) return rng.int(4097, 128 * 1024);
      return rng.int(128 * 1024, Math.floor(1.5 * MiB));
    };

    for (let i = 0; i < OPS; i++) {
      const r = rng.int(0, 99);
      if (r < 40) {
        const off = pickOffset();
        const len = Math.min(pickLength(), MAX_FILE - off);
        const data = rng.bytes(len);
        note(i, `write off=${off} len=${len}`);
        await writeAt(mnt, off, data);
        await writeAt(ref, off, data);
        size = Math.max(size, off + len);
      } else if (r < 70) {
        const off = rng.chance(0.2) ? Math.max(0, size - rng.int(0, 4096)) : rng.int(0, Math.max(0, size + 8192));
        const len = pickLength();
        note(i, `read off=${off} len=${len}`);
        await compareRange(i, off, len, 'fd');
      } else if (r < 78) {
        let newSize: number;
        const t = rng.int(0, 3);
        if (t === 0) newSize = rng.int(0, size); // shrink
        else if (t === 1) newSize = rng.int(size, MAX_FILE); // grow
        else if (t === 2) newSize = Math.max(0, rng.int(0, Math.floor(MAX_FILE / CHUNK)) * CHUNK + rng.int(-1, 1));
        else newSize = 0;
        note(i, `ftruncate ${size} -> ${newSize}`);
        await mnt.truncate(newSize);
        await ref.truncate(newSize);
        size = newSize;
      } else if (r < 83) {
        note(i, 'close+reopen');
        await mnt.close();
        await ref.close();
        mnt = await fs.open(mntPath, 'r+');
        ref = await fs.open(refPath, 'r+');
        const st = await mnt.stat();
        if (st.size !== size) fail(i, `size after reopen is ${st.size}, expected ${size}`);
      } else if (r < 87) {
        const full = rng.chance(0.5);
        note(i, full ? 'fsync' : 'fdatasync');
        if (full) await mnt.sync();
        else await mnt.datasync();
      } else if (r < 93) {
        note(i, 'stat');
        const fst = await mnt.stat();
        if (fst.size !== size) fail(i, `fstat size ${fst.size}, expected ${size}`);
        const st = await fs.stat(mntPath);
        if (st.size !== size) fail(i, `stat(path) size ${st.size}, expected ${size}`);
      } else if (r < 98) {
        const off = rng.int(0, Math.max(0, size));
        const len = pickLength();
        note(i, `read-other-fd off=${off} len=${len}`);
        const other = await fs.open(mntPath, 'r');
        try {
          await compareRange(i, off, len, 'second fd', other);
        } finally {
          await other.close();
        }
      } else {
        note(i, 'full-compare');
        await compareRange(i, 0, size + 1, 'full');
      }
    }
    console.log(`fsx: ops by kind ${JSON.stringify(counts)}, final size ${size}`);
    await mnt.close();
    await ref.close();

    const finalRef = await fs.readFile(refPath);
    expect(finalRef.length).toBe(size);
    const finalMnt = await fs.readFile(mntPath);
    const at = firstDifference(finalMnt, finalRef);
    expect(at, `final content differs at offset ${at} (seed ${SEED})`).toBe(-1);

    // What the mount acknowledged is in Redis, not only in its caches: a fresh mount agrees.
    B = await mountHost({ volume, label: 'B-fresh' });
    expect(await sha256File(B.p('fsx-file')), `fresh mount sees other content (seed ${SEED})`).toBe(await sha256File(refPath));
    await fs.rm(refDir, { recursive: true, force: true });
  });
});
