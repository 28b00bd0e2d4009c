// Which inodes and entries other hosts changed lately, by a counter of change batches. An
// answer the daemon computed while another host's change to what it answers about arrived
// may hold what was read before the change, and the kernel already dropped its copy on that
// change's invalidation: such an answer must not be cached by the kernel. Answers about
// anything else keep their timeouts (a global rule, "any change meanwhile", left a host that
// lists or stats while others write with almost no kernel caching).
import type { Ino } from '../../core/types.js';
import type { Invalidation } from '../../store/invalidation.js';

/** Past this many remembered changes, forget them all and treat older answers as crossed. */
const MAX_REMEMBERED = 4096;

export class RecentChanges {
  /** Counts batches of other hosts' changes; an answer notes it when its work starts. */
  epoch = 0;
  private readonly inodes = new Map<Ino, number>();
  private readonly entries = new Map<string, number>();
  /** Answers begun before this epoch count as crossing a change (the maps were cleared). */
  private floor = 0;

  /** note records one batch of changes. */
  note(items: readonly Invalidation[]): void {
    this.epoch++;
    if (this.inodes.size + this.entries.size + items.length > MAX_REMEMBERED) {
      this.inodes.clear();
      this.entries.clear();
      this.floor = this.epoch;
    }
    for (const it of items) {
      if (it.kind === 'inode') this.inodes.set(it.ino, this.epoch);
      else this.entries.set(`${it.parent}/${it.name}`, this.epoch);
    }
  }

  /** crossed tells whether the inode (and the entry, if given) changed since `since`. */
  crossed(since: number, ino: Ino, parent?: Ino, name?: string): boolean {
    if (since === this.epoch) return false;
    if (since < this.floor) return true;
    if ((this.inodes.get(ino) ?? 0) > since) return true;
    return parent !== undefined && (this.entries.get(`${parent}/${name}`) ?? 0) > since;
  }
}
