// Chunk checksums: ISA-L's CRC-32 when the addon is built, zlib's otherwise, always the same
// values, so chunks written by one host read on any other.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CHECKSUM_ADDON, CHECKSUM_IMPL, crc32 } from '../src/store/checksum.js';

describe('chunk checksums', () => {
  it('are zlib\'s CRC-32 for every length and alignment, from empty to a whole chunk', () => {
    const bytes = randomBytes(1024 * 1024 + 64);
    for (let len = 0; len < 600; len++) {
      for (const at of [0, 1, 3, 8]) {
        const piece = bytes.subarray(at, at + len);
        expect(crc32(piece), `length ${len} at ${at}`).toBe(zlibCrc32(piece));
      }
    }
    for (const len of [4095, 4096, 65_537, 1024 * 1024]) expect(crc32(bytes.subarray(7, 7 + len))).toBe(zlibCrc32(bytes.subarray(7, 7 + len)));
  });

  it('are computed by ISA-L when its addon is built (setup installs libisal-dev)', () => {
    expect(CHECKSUM_IMPL).toBe(existsSync(CHECKSUM_ADDON) ? 'isa-l' : 'zlib');
  });
});
