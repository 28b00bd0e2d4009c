// Which inodes and entries other hosts changed lately, by a counter of change batches. What
// this mount learnt while another host's change to that very thing arrived may predate the
// change, whose invalidation has already been applied: it must not be cached, here (a create's
// new inode and entry) or by the kernel (an answer's timeouts). What is about anything else
// stays cacheable (a global rule, "any change meanwhile", left a host that lists, stats or
// creates while others write with almost no caching).
import type { Ino } from '../core/types.js';
import type { Invalidation } from '../store/invalidation.js';

/** Past this many remembered changes, forget them all and treat older answers as crossed. */
const MAX_REMEMBERED = 4096;

export class RecentChanges {
  /** Counts batches of other hosts' changes; an answer notes it when its work starts. */
  epoch = 0;
  private readonly inodes = new Map<Ino, number>();
  private readonly entries = new Map<string, number>();
  /** Directories by the last change to any of their entries. */
  private readonly dirs = new Map<Ino, number>();
  /** Answers begun before this epoch count as crossing a change (the maps were cleared). */
  private floor = 0;

  /** note records one batch of changes. */
  note(items: readonly Invalidation[]): void {
    this.epoch++;
    if (this.inodes.size + this.entries.size + items.length > MAX_REMEMBERED) {
      this.inodes.clear();
      this.entries.clear();
      this.dirs.clear();
      this.floor = this.epoch;
    }
    for (const it of items) {
      if (it.kind === 'inode') this.inodes.set(it.ino, this.epoch);
      else {
        this.entries.set(`${it.parent}/${it.name}`, this.epoch);
        this.dirs.set(it.parent, this.epoch);
      }
    }
  }

  /** dirCrossed tells whether any entry of directory `dir` changed since `since`. */
  dirCrossed(since: number, dir: Ino): boolean {
    if (since === this.epoch) return false;
    if (since < this.floor) return true;
    return (this.dirs.get(dir) ?? 0) > since;
  }

  /** crossed tells whether the inode (and the entry, if given) changed since `since`. */
  crossed(since: number, ino: Ino, parent?: Ino, name?: string): boolean {
    if (since === this.epoch) return false;
    if (since < this.floor) return true;
    if ((this.inodes.get(ino) ?? 0) > since) return true;
    return parent !== undefined && (this.entries.get(`${parent}/${name}`) ?? 0) > since;
  }
}
