// ListingReadAhead spots a reader that goes through a directory's files in the order of its
// listing (tar, cp -r, find | xargs, a worker draining a spool directory) or in name order
// (ls, rsync, Node's readdir and most scripting languages sort names), and names the files it
// will want next, so that the contents of small files are loaded many per round trip before
// they are opened, instead of one round trip each. Like a sequential read's read-ahead, it
// starts after two files in a row and stays a bounded window ahead of the reader.
import type { DirEntry, Ino } from '../core/types.js';

/** Files loaded ahead of a reader going through a listing. */
export const LISTING_WINDOW = 32;
/** Listings remembered (the latest of each directory; several readers may each go through one). */
const MAX_LISTINGS = 8;
/** A listing longer than this is not remembered (its index would cost more than it saves). */
const MAX_REMEMBERED = 100_000;

export class ListingReadAhead {
  /** By directory, the most recent listing last. */
  private readonly listings = new Map<Ino, Listing>();

  /** remember keeps the latest listing of a directory taken on this mount. */
  remember(dir: Ino, entries: readonly DirEntry[]): void {
    this.listings.delete(dir);
    if (entries.length > MAX_REMEMBERED) return;
    this.listings.set(dir, new Listing(entries.filter((e) => e.type === 'f')));
    if (this.listings.size > MAX_LISTINGS) this.listings.delete(this.listings.keys().next().value!);
  }

  /**
   * wanted is told whenever a file is opened; it returns the files to load ahead now
   * (often none). The caller skips those already cached or not small.
   */
  wanted(ino: Ino): Ino[] {
    for (const l of this.listings.values()) {
      const next = l.wanted(ino);
      if (next) return next;
    }
    return [];
  }
}

/** One directory's files, in listing order and (once a file of it is wanted) in name order. */
class Listing {
  private byListing: Sequence | undefined;
  /** Built at the first file wanted from the listing: sorting costs nothing to a listing nobody reads. */
  private byName: Sequence | undefined;

  constructor(private readonly files: readonly DirEntry[]) {}

  /** The files to load ahead, or undefined when `ino` is not one of this listing's. */
  wanted(ino: Ino): Ino[] | undefined {
    if (this.files.length === 0) return undefined;
    this.byListing ??= new Sequence(this.files.map((e) => e.ino));
    if (!this.byListing.has(ino)) return undefined;
    // strcmp order of the names (the same as UTF-16 order but for characters past U+FFFF,
    // where a wrong guess only costs a useless load).
    this.byName ??= new Sequence([...this.files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((e) => e.ino));
    const a = this.byListing.wanted(ino);
    const b = this.byName.wanted(ino);
    return a.length === 0 ? b : b.length === 0 ? a : [...new Set([...a, ...b])];
  }
}

/** One order of a listing's files and a reader's progress through it. */
class Sequence {
  private readonly pos = new Map<Ino, number>();
  /** Position of the last file wanted, files in a row so far, and how far ahead loads were asked for. */
  private last = -2;
  private streak = 0;
  private ahead = -1;

  constructor(private readonly inos: readonly Ino[]) {
    inos.forEach((ino, i) => this.pos.set(ino, i));
  }

  has(ino: Ino): boolean { return this.pos.has(ino); }

  wanted(ino: Ino): Ino[] {
    const p = this.pos.get(ino);
    if (p === undefined || p === this.last) return [];
    if (p === this.last + 1) {
      this.streak++;
    } else {
      this.streak = 0;
      this.ahead = p; // a jump: what was loaded ahead is behind or elsewhere
    }
    this.last = p;
    if (this.streak < 1) return [];
    // Refill when the reader is half-way through what was asked for.
    if (this.ahead > p + LISTING_WINDOW / 2) return [];
    const from = Math.max(this.ahead, p) + 1;
    const to = Math.min(p + LISTING_WINDOW, this.inos.length - 1);
    if (from > to) return [];
    this.ahead = to;
    return this.inos.slice(from, to + 1);
  }
}
