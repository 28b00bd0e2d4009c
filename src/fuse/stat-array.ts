// The Uint32Array layout fuse-native's C side reads a struct stat from. With our patch
// (patches/fuse-native-2.2.6.patch) the three times are nanoseconds, not milliseconds.
import type { Attr } from '../core/types.js';

const BLOCK = 512;

function put64(ints: Uint32Array, at: number, value: number | bigint): void {
  const v = BigInt(value);
  ints[at] = Number(v & 0xffffffffn);
  ints[at + 1] = Number((v >> 32n) & 0xffffffffn);
}

/** statArray encodes attributes; st_blocks counts only chunks that hold data, not holes. */
export function statArray(a: Attr, chunkSize: number): Uint32Array {
  const ints = new Uint32Array(18);
  ints[0] = a.mode;
  ints[1] = a.uid;
  ints[2] = a.gid;
  put64(ints, 3, a.size);
  ints[6] = a.nlink;
  ints[7] = a.ino;
  ints[8] = a.rdev;
  ints[9] = 4096;
  const allocated = a.chunks > 0 ? Math.min(a.size, a.chunks * chunkSize) : a.size;
  put64(ints, 10, Math.ceil(allocated / BLOCK));
  put64(ints, 12, a.atimeNs);
  put64(ints, 14, a.mtimeNs);
  put64(ints, 16, a.ctimeNs);
  return ints;
}

/** typeArray is the little a readdir entry needs: inode number and type bits. */
export function typeArray(ino: number, mode: number): Uint32Array {
  const ints = new Uint32Array(18);
  ints[0] = mode;
  ints[7] = ino;
  return ints;
}

export type TimeArg = bigint | 'now' | 'omit';

/** utimensArg decodes a time our patched utimens sends: ns, or the UTIME_NOW/OMIT sentinels. */
export function utimensArg(low: number, high: number): TimeArg {
  if (high === 0xffffffff && low === 0xffffffff) return 'now';
  if (high === 0xffffffff && low === 0xfffffffe) return 'omit';
  return (BigInt(high) << 32n) | BigInt(low);
}
