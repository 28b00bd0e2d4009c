// The rule that decides whether the kernel may cache an answer of the lowlevel binding: an
// answer computed while another host changed what it answers about is not cached; an answer
// about anything else keeps its timeouts, however busy the other hosts are.
import { describe, expect, it } from 'vitest';
import { RecentChanges } from '../src/vfs/recent-changes.js';

describe('recent changes of other hosts', () => {
  it('cross an answer about the inode or the entry they changed, begun before them', () => {
    const c = new RecentChanges();
    const begun = c.epoch;
    c.note([{ kind: 'inode', ino: 7 }, { kind: 'entry', parent: 1, name: 'a' }]);
    expect(c.crossed(begun, 7)).toBe(true);
    expect(c.crossed(begun, 9, 1, 'a')).toBe(true);
  });

  it('leave answers about anything else, and answers begun after them, alone', () => {
    const c = new RecentChanges();
    const begun = c.epoch;
    c.note([{ kind: 'inode', ino: 7 }, { kind: 'entry', parent: 1, name: 'a' }]);
    expect(c.crossed(begun, 8)).toBe(false);
    expect(c.crossed(begun, 8, 1, 'b')).toBe(false);
    expect(c.crossed(begun, 8, 2, 'a')).toBe(false);
    expect(c.crossed(c.epoch, 7, 1, 'a')).toBe(false);
  });

  it('cross what was learnt about a directory\'s entries when any of them changed', () => {
    const c = new RecentChanges();
    const begun = c.epoch;
    c.note([{ kind: 'entry', parent: 5, name: 'x' }]);
    expect(c.dirCrossed(begun, 5)).toBe(true);
    expect(c.dirCrossed(begun, 6)).toBe(false);
    expect(c.dirCrossed(c.epoch, 5)).toBe(false);
  });

  it('cross every answer begun before they forgot, once too many changes were remembered', () => {
    const c = new RecentChanges();
    const begun = c.epoch;
    for (let i = 0; i < 5000; i++) c.note([{ kind: 'inode', ino: 1000 + i }]);
    expect(c.crossed(begun, 1)).toBe(true);
    const later = c.epoch;
    c.note([{ kind: 'inode', ino: 2 }]);
    expect(c.crossed(later, 1)).toBe(false);
    expect(c.crossed(later, 2)).toBe(true);
  });
});
