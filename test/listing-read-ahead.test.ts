// Which files a reader going through a directory will open next: after two files in a row of
// the listing's order or of name order, the next ones (a bounded window), refilled half-way.
import { describe, expect, it } from 'vitest';
import { LISTING_WINDOW, ListingReadAhead } from '../src/vfs/listing-read-ahead.js';
import type { DirEntry } from '../src/core/types.js';

// Listing order is not name order (Redis lists a hash in its own order).
const names = ['m', 'c', 'x', 'a', 'q', 'b', 'z', 'k', 'd', 'y'];
const listing: DirEntry[] = names.map((name, i) => ({ name, ino: 100 + i, type: 'f' }));
const ino = (name: string): number => listing.find((e) => e.name === name)!.ino;
const many: DirEntry[] = Array.from({ length: 200 }, (_, i) => ({ name: `f${String(i).padStart(3, '0')}`, ino: 1000 + i, type: 'f' }));

describe('reading ahead of a reader going through a listing', () => {
  it('names nothing for the first file, then the files after the second in listing order', () => {
    const r = new ListingReadAhead();
    r.remember(1, listing);
    expect(r.wanted(ino('m'))).toEqual([]);
    expect(r.wanted(ino('c'))).toEqual(['x', 'a', 'q', 'b', 'z', 'k', 'd', 'y'].map(ino));
  });

  it('follows name order as well (most tools sort the names they read)', () => {
    const r = new ListingReadAhead();
    r.remember(1, listing);
    expect(r.wanted(ino('a'))).toEqual([]);
    expect(r.wanted(ino('b'))).toEqual(['c', 'd', 'k', 'm', 'q', 'x', 'y', 'z'].map(ino));
  });

  it('stays a bounded window ahead, asking for more half-way through', () => {
    const r = new ListingReadAhead();
    r.remember(2, many);
    r.wanted(1000);
    const first = r.wanted(1001);
    expect(first).toEqual(Array.from({ length: LISTING_WINDOW }, (_, i) => 1002 + i));
    const more: number[] = [];
    for (let i = 1002; i < 1002 + LISTING_WINDOW / 2; i++) more.push(...r.wanted(i));
    expect(more.length).toBeGreaterThan(0);
    expect(more[0]).toBe(1002 + LISTING_WINDOW);
    expect(Math.max(...more)).toBeLessThanOrEqual(1002 + LISTING_WINDOW / 2 + LISTING_WINDOW);
  });

  it('names nothing for a reader that jumps around, for directories and for unlisted files', () => {
    const r = new ListingReadAhead();
    r.remember(2, [...many, { name: 'sub', ino: 5, type: 'd' }]);
    for (const i of [1050, 1007, 1120, 1003, 1190]) expect(r.wanted(i)).toEqual([]);
    expect(r.wanted(5)).toEqual([]);
    expect(r.wanted(99999)).toEqual([]);
  });

  it('follows readers of several directories at once, and forgets the oldest listings', () => {
    const r = new ListingReadAhead();
    r.remember(1, listing);
    r.remember(2, many);
    r.wanted(ino('m'));
    r.wanted(1000);
    expect(r.wanted(ino('c'))).toHaveLength(8);
    expect(r.wanted(1001)).toHaveLength(LISTING_WINDOW);
    for (let dir = 3; dir < 20; dir++) r.remember(dir, []);
    expect(r.wanted(1002)).toEqual([]);
    expect(r.wanted(1003)).toEqual([]);
  });
});
