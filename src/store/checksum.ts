// The CRC-32 every stored chunk ends with (chunk-store.ts): Intel ISA-L's through our small
// addon (native/checksum/) when it is built, else Node's zlib. Both give zlib's CRC-32, so a
// chunk written with one is read with the other; ISA-L is what makes it cheap (~4 GB/s with
// zlib here, 25-45 GB/s with ISA-L: the checksum was 29 % of a host's CPU on a cold read).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { log } from '../core/log.js';

interface ChecksumAddon { crc32(data: Buffer): number }

/** Where scripts/build-fuse-lowlevel.sh leaves the addon. */
export const CHECKSUM_ADDON = fileURLToPath(new URL('../../native/checksum/build/Release/redisfs_checksum.node', import.meta.url));

function loadAddon(): ChecksumAddon | undefined {
  if (!existsSync(CHECKSUM_ADDON)) return undefined; // not built (no libisal-dev): zlib's, same values
  try {
    return createRequire(import.meta.url)(CHECKSUM_ADDON) as ChecksumAddon;
  } catch (err) {
    log.warn({ file: CHECKSUM_ADDON, err: String(err) }, 'checksum addon not loaded; chunk checksums use zlib (slower)');
    return undefined;
  }
}

const addon = loadAddon();

/** Which implementation computes chunk checksums in this process. */
export const CHECKSUM_IMPL: 'isa-l' | 'zlib' = addon ? 'isa-l' : 'zlib';

/** crc32 returns zlib's CRC-32 of data. */
export const crc32: (data: Buffer) => number = addon ? addon.crc32 : (data) => zlibCrc32(data);
