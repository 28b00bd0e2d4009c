// The CRC-32 every stored chunk ends with (chunk-store.ts): Intel ISA-L's through our small
// addon (native/checksum.c) when it is built, else Node's zlib. Both give zlib's CRC-32, so a
// chunk written with one is read with the other; ISA-L is what makes it cheap (~4 GB/s with
// zlib here, 25-45 GB/s with ISA-L: the checksum was 29 % of a host's CPU on a cold read).
import { createRequire } from 'node:module';
import { crc32 as zlibCrc32 } from 'node:zlib';

interface ChecksumAddon { crc32(data: Buffer): number }

function loadAddon(): ChecksumAddon | undefined {
  try {
    const file = new URL('../../native/build/Release/redisfs_checksum.node', import.meta.url).pathname;
    return createRequire(import.meta.url)(file) as ChecksumAddon;
  } catch {
    return undefined; // not built (no libisal-dev): zlib's, same values
  }
}

const addon = loadAddon();

/** Which implementation computes chunk checksums in this process. */
export const CHECKSUM_IMPL: 'isa-l' | 'zlib' = addon ? 'isa-l' : 'zlib';

/** crc32 returns zlib's CRC-32 of data. */
export const crc32: (data: Buffer) => number = addon ? addon.crc32 : (data) => zlibCrc32(data);
