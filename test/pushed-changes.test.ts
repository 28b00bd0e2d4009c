// A change's invalidation carries the changed inodes' new attributes, what the changed names
// hold now and a small file's new content, so that a mount holding them replaces them instead
// of reading them again. Replies and invalidations travel on two connections: the version of
// each copy (a directory's, for its names) says which is newer.
import { describe, expect, it } from 'vitest';
import type { Attr } from '../src/core/types.js';
import type { Invalidation } from '../src/store/invalidation.js';
import { isFrom, parseItems, parseMessage } from '../src/store/invalidation.js';
import { MetaCache } from '../src/vfs/meta-cache.js';

function attr(ino: number, version: number, mode = 0o100644): Attr {
  return {
    ino, type: 'f', mode, uid: 0, gid: 0, nlink: 1, size: 3, atimeNs: 1n, mtimeNs: 2n, ctimeNs: 3n, rdev: 0, version, chunks: 0,
  };
}

/** The packed form lua/prelude.lua sends: t m u g n s r v k at mt ct. */
function packed(a: Attr): string {
  return [a.type, a.mode, a.uid, a.gid, a.nlink, a.size, a.rdev, a.version, a.chunks, a.atimeNs, a.mtimeNs, a.ctimeNs].join(',');
}

/** A directory's attributes; its times all those it was made with (as a new one has them). */
function dir(ino: number, version: number): Attr {
  return { ...attr(ino, version, 0o40755), type: 'd', nlink: 2, size: 0, atimeNs: 3n, mtimeNs: 3n, ctimeNs: 3n };
}

function liveCache(): MetaCache {
  const c = new MetaCache();
  c.setLive(true);
  return c;
}

describe('an invalidation message', () => {
  it('gives each changed inode the attributes sent with it', () => {
    const m = parseMessage(Buffer.from(['session', 'i7', 'e1/a', 'i1', `a7,${packed(attr(7, 4))}`, 'a1,'].join('\0')));
    expect(m.session).toBe('session');
    expect(m.items).toEqual([
      { kind: 'inode', ino: 7, attr: attr(7, 4) },
      { kind: 'entry', parent: 1, name: 'a' },
      { kind: 'inode', ino: 1 }, // '' after the comma: the inode is gone
    ]);
  });

  it('gives a changed small file its content, read by length: any bytes, NUL included', () => {
    const data = Buffer.from([0, 0x64, 0x2c, 0xff, 0]); // NUL, 'd', ',', 0xff, NUL
    const msg = Buffer.concat([Buffer.from(['s', 'i7', `a7,${packed(attr(7, 4))}`, 'd7,5,'].join('\0')), data, Buffer.from('\0d9,2,ok')]);
    const m = parseMessage(msg);
    expect(m.items).toEqual([{ kind: 'inode', ino: 7, attr: attr(7, 4), data }]);
  });

  it('tells its writer by the session id that starts it', () => {
    const m = Buffer.from('12\0i7');
    expect([isFrom(m, '12'), isFrom(m, '1'), isFrom(m, '123')]).toEqual([true, false, false]);
  });

  it('still reads as drops when it carries no attributes, or ones it cannot parse', () => {
    expect(parseItems(['i7', 'a7,f,not,enough', 'x9'])).toEqual([{ kind: 'inode', ino: 7 }]);
  });

  it('says what a changed name holds now, as of its directory\'s new version', () => {
    const m = parseItems(['e1/new', 'i1', `a1,${packed(dir(1, 8))}`, `a9,${packed(attr(9, 0))}`, 'nf9,1/new', 'e1/old', 'n,1/old']);
    expect(m).toEqual([
      { kind: 'entry', parent: 1, name: 'new', now: { entry: { ino: 9, type: 'f' }, dirVersion: 8, attr: attr(9, 0) } },
      { kind: 'inode', ino: 1, attr: expect.objectContaining({ ino: 1, version: 8 }) },
      { kind: 'entry', parent: 1, name: 'old', now: { entry: null, dirVersion: 8 } },
    ]);
  });

  it('says which changes left an inode\'s content as it was', () => {
    expect(parseItems(['i7', `a7,${packed(attr(7, 4))}`, 'k7'])).toEqual([{ kind: 'inode', ino: 7, attr: attr(7, 4), sameContent: true }]);
  });
});

describe('attributes pushed with an invalidation', () => {
  it('replace older ones the mount holds', () => {
    const c = liveCache();
    c.storeAttr(attr(7, 1), c.mark());
    c.apply([{ kind: 'inode', ino: 7, attr: attr(7, 2, 0o100600) }]);
    expect(c.attr(7)?.mode).toBe(0o100600);
  });

  it('leave alone newer ones the mount read after the change but heard of before it', () => {
    const c = liveCache();
    c.storeAttr(attr(7, 3, 0o100640), c.mark());
    c.apply([{ kind: 'inode', ino: 7, attr: attr(7, 2, 0o100600) }]);
    expect(c.attr(7)?.mode).toBe(0o100640);
  });

  it('are not kept by a mount that held none for the inode', () => {
    const c = liveCache();
    c.apply([{ kind: 'inode', ino: 7, attr: attr(7, 2) }]);
    expect(c.attr(7)).toBeUndefined();
  });

  it('when absent, leave the invalidation a drop', () => {
    const c = liveCache();
    c.storeAttr(attr(7, 1), c.mark());
    c.apply([{ kind: 'inode', ino: 7 }]);
    expect(c.attr(7)).toBeUndefined();
  });

  it('without the content, drop the content held, and end the trust in replies that were in flight', () => {
    const c = liveCache();
    c.storeAttr(attr(7, 1), c.mark());
    c.storeContent(7, { kind: 'inline', data: Buffer.from('old') }, 1, c.mark());
    const inFlight = c.mark();
    c.apply([{ kind: 'inode', ino: 7, attr: attr(7, 2) }]);
    expect(c.content(7)).toBeUndefined();
    c.storeAttr(attr(8, 1), inFlight);
    expect(c.attr(8)).toBeUndefined();
  });

  it('with a small file\'s content, replace an older content held, and keep a newer one', () => {
    const c = liveCache();
    c.storeAttr(attr(7, 1), c.mark());
    c.storeContent(7, { kind: 'inline', data: Buffer.from('old') }, 1, c.mark());
    c.apply([{ kind: 'inode', ino: 7, attr: attr(7, 2), data: Buffer.from('new') }]);
    expect(c.content(7)).toEqual({ kind: 'inline', data: Buffer.from('new') });
    c.storeContent(7, { kind: 'inline', data: Buffer.from('newest') }, 4, c.mark());
    c.apply([{ kind: 'inode', ino: 7, attr: attr(7, 3), data: Buffer.from('newer') }]);
    expect(c.content(7)).toEqual({ kind: 'inline', data: Buffer.from('newest') });
  });

  it('from this mount\'s own change that left the content as it was do not vouch for a content older than the version before', () => {
    // Own replies are not ordered against other hosts' messages: another host's commit (v5)
    // may still be on its way when this mount's chmod (v6) comes back.
    const c = liveCache();
    c.storeAttr(attr(7, 4), c.mark());
    c.storeContent(7, { kind: 'inline', data: Buffer.from('v4') }, 4, c.mark());
    c.apply([{ kind: 'inode', ino: 7, attr: attr(7, 6), sameContent: true }], 'own');
    expect(c.content(7)).toBeUndefined();
    c.apply([{ kind: 'inode', ino: 7, attr: attr(7, 5), data: Buffer.from('v5') }]);
    expect(c.content(7)).toBeUndefined(); // older than the attributes held: not kept either
    expect(c.attr(7)?.version).toBe(6);
  });

  it('that left a file\'s content as it was (chmod) keep the content held', () => {
    const c = liveCache();
    c.storeAttr(attr(7, 1), c.mark());
    c.storeContent(7, { kind: 'inline', data: Buffer.from('same') }, 1, c.mark());
    c.apply([{ kind: 'inode', ino: 7, attr: attr(7, 2, 0o100600), sameContent: true }]);
    expect(c.content(7)).toEqual({ kind: 'inline', data: Buffer.from('same') });
    c.apply([{ kind: 'inode', ino: 7, attr: attr(7, 3), data: Buffer.from('new') }]);
    expect(c.content(7)).toEqual({ kind: 'inline', data: Buffer.from('new') });
    c.apply([{ kind: 'inode', ino: 7, attr: attr(7, 4), sameContent: true }]);
    expect(c.content(7)).toEqual({ kind: 'inline', data: Buffer.from('new') });
  });
});

describe('the contents a mount keeps', () => {
  it('are bounded by their bytes, not their number: the oldest go first', () => {
    const c = new MetaCache({ maxItems: 1000, contentBytes: 3 * (4096 + 64) });
    c.setLive(true);
    for (let ino = 1; ino <= 4; ino++) c.storeContent(ino, { kind: 'inline', data: Buffer.alloc(4096) }, 1, c.mark());
    expect([1, 2, 3, 4].map((ino) => c.content(ino) !== undefined)).toEqual([false, true, true, true]);
  });

  it('keep a huge file\'s chunk map, bigger than their whole bound would allow', () => {
    const c = new MetaCache({ maxItems: 1000, contentBytes: 1 << 20 });
    c.setLive(true);
    const map = new Map(Array.from({ length: 100_000 }, (_, i) => [i, `chunk${i}`] as [number, string]));
    c.storeContent(1, { kind: 'chunks', map }, 1, c.mark());
    expect(c.content(1)).toEqual({ kind: 'chunks', map });
  });
});

describe('names pushed with an invalidation', () => {
  const created = (version: number): Invalidation[] => [
    { kind: 'inode', ino: 1, attr: dir(1, version) },
    { kind: 'entry', parent: 1, name: 'new', now: { entry: { ino: 9, type: 'f' }, dirVersion: version, attr: attr(9, 0) } },
  ];

  it('are kept, with their inode\'s attributes, by a mount looking at their directory: found with no round trip', () => {
    const c = liveCache();
    c.storeAttr(dir(1, 4), c.mark());
    c.apply(created(5));
    expect(c.entry(1, 'new')).toMatchObject({ ino: 9, type: 'f' });
    expect(c.attr(9)).toEqual(attr(9, 0));
    c.apply([{ kind: 'inode', ino: 9, attr: attr(9, 1), data: Buffer.from('hello') }]);
    expect(c.content(9)).toEqual({ kind: 'inline', data: Buffer.from('hello') });
  });

  it('are not kept by a mount that holds nothing of their directory', () => {
    const c = liveCache();
    c.apply(created(5));
    expect(c.entry(1, 'new')).toBeUndefined();
    expect(c.attr(9)).toBeUndefined();
  });

  it('replace a name held as missing, unless it was read after the change', () => {
    const c = liveCache();
    c.storeEntry(1, 'new', null, 4, c.mark());
    c.apply(created(5));
    expect(c.entry(1, 'new')).toMatchObject({ ino: 9 });
    const d = liveCache();
    d.storeEntry(1, 'new', null, 6, d.mark()); // read after a later unlink whose message is on its way
    d.apply(created(5));
    expect(d.entry(1, 'new')).toBeNull();
  });

  it('keep a complete directory complete through its very next version only', () => {
    const c = liveCache();
    c.storeComplete(1, 4, c.mark());
    c.apply(created(5));
    expect(c.entry(1, 'new')).toMatchObject({ ino: 9 });
    expect(c.entry(1, 'other')).toBeNull(); // still complete: a name not held is absent
    c.apply([{ kind: 'entry', parent: 1, name: 'late', now: { entry: { ino: 10, type: 'f' }, dirVersion: 7 } }]);
    expect(c.entry(1, 'other')).toBeUndefined(); // version 6 went unheard so far: no longer complete
  });

  it('older than a complete directory\'s listing still replace an older name held: the listing did not see it', () => {
    const c = liveCache();
    c.storeEntry(1, 'y', { ino: 8, type: 'f' }, 5, c.mark());
    c.storeComplete(1, 6, c.mark()); // listed at version 6, after y was renamed away, before hearing of it
    c.apply([
      { kind: 'inode', ino: 1, attr: dir(1, 6) },
      { kind: 'entry', parent: 1, name: 'y', now: { entry: null, dirVersion: 6 } },
      { kind: 'entry', parent: 1, name: 'z', now: { entry: { ino: 8, type: 'f' }, dirVersion: 6 } },
    ]);
    expect(c.entry(1, 'y')).toBeNull();
    expect(c.entry(1, 'other')).toBeNull(); // still complete
  });

  it('are ignored when older than the listing that made the directory complete', () => {
    const c = liveCache();
    c.storeComplete(1, 5, c.mark());
    c.apply(created(5));
    expect(c.entry(1, 'new')).toBeNull();
    expect(c.entry(1, 'other')).toBeNull();
  });

  it('without what the name holds now, drop it and end the directory\'s completeness', () => {
    const c = liveCache();
    c.storeComplete(1, 4, c.mark());
    c.storeEntry(1, 'new', null, 4, c.mark());
    c.apply([{ kind: 'entry', parent: 1, name: 'new' }]);
    expect(c.entry(1, 'new')).toBeUndefined();
  });
});

describe('a complete directory', () => {
  const created = (name: string, ino: number, version: number, a: Attr = attr(ino, 0)): Invalidation[] => [
    { kind: 'inode', ino: 1, attr: dir(1, version) },
    { kind: 'entry', parent: 1, name, now: { entry: { ino, type: a.type }, dirVersion: version, attr: a } },
  ];
  const names = (c: MetaCache, d: number): string[] | undefined => c.listing(d, false)?.entries.map((e) => e.name);

  it('is listed from what the mount holds, kept in step with the changes heard', () => {
    const c = liveCache();
    c.storeAttr(dir(1, 4), c.mark());
    c.storeEntry(1, 'a', { ino: 8, type: 'f' }, 4, c.mark());
    c.storeAttr(attr(8, 2), c.mark());
    c.storeComplete(1, 4, c.mark(), [{ name: 'a', ino: 8, type: 'f' }]);
    c.apply(created('b', 9, 5));
    c.apply([
      { kind: 'inode', ino: 1, attr: dir(1, 6) },
      { kind: 'entry', parent: 1, name: 'a', now: { entry: null, dirVersion: 6 } },
    ]);
    expect(c.listing(1, true)).toEqual({ entries: [{ name: 'b', ino: 9, type: 'f' }], attrs: [attr(9, 0)], version: 6 });
  });

  it('keeps a name it knows absent, with its version: a message older than that may still come once it is no longer complete', () => {
    // Replies and messages travel on two connections: this mount's unlink of x (version 7)
    // can come back before another host's create of x (version 6) is heard.
    const c = liveCache();
    c.storeAttr(dir(1, 6), c.mark());
    c.storeEntry(1, 'x', { ino: 9, type: 'f' }, 6, c.mark());
    c.storeComplete(1, 6, c.mark(), [{ name: 'x', ino: 9, type: 'f' }]);
    c.apply([{ kind: 'inode', ino: 1, attr: dir(1, 7) }, { kind: 'entry', parent: 1, name: 'x', now: { entry: null, dirVersion: 7 } }], 'exact');
    c.apply(created('y', 10, 9), 'own'); // version 8 is still on its way: no longer complete
    expect(c.listing(1, false)).toBeUndefined();
    c.apply(created('x', 9, 6)); // the late message
    expect(c.entry(1, 'x')).toBeNull();
  });

  it('is not listed from the mount once a change to it went unheard', () => {
    const c = liveCache();
    c.storeComplete(1, 4, c.mark(), []);
    c.apply(created('b', 9, 6)); // version 5 is still on its way
    expect(c.listing(1, false)).toBeUndefined();
  });

  it('is listed with attributes only when the mount holds every entry\'s', () => {
    const c = liveCache();
    c.storeEntry(1, 'a', { ino: 8, type: 'f' }, 4, c.mark());
    c.storeComplete(1, 4, c.mark(), [{ name: 'a', ino: 8, type: 'f' }]);
    expect(c.listing(1, true)).toBeUndefined();
    expect(names(c, 1)).toEqual(['a']);
  });

  it('is what a directory another host just made is, as long as the mount looks at its parent', () => {
    const c = liveCache();
    c.storeAttr(dir(1, 4), c.mark());
    c.apply(created('sub', 9, 5, dir(9, 0)));
    expect(names(c, 9)).toEqual([]);
    expect(c.entry(9, 'anything')).toBeNull();
    // A directory that had names at some point (a version past 0) is not known empty.
    c.apply(created('moved', 10, 6, dir(10, 3)));
    expect(c.listing(10, false)).toBeUndefined();
  });

  it('is not what a directory this mount\'s own change shows at version 0 is: names may have come since', () => {
    // The reply of a rename (or a mkdir whose create crossed another host's change) is not
    // ordered against other hosts' messages, one of which may have given the directory a name.
    const c = liveCache();
    c.storeAttr(dir(1, 4), c.mark());
    c.apply(created('sub', 9, 5, dir(9, 0)), 'own');
    expect(c.entry(1, 'sub')).toMatchObject({ ino: 9 });
    expect(c.listing(9, false)).toBeUndefined();
    expect(c.entry(9, 'anything')).toBeUndefined();
  });

  it('is not what a directory at version 0 whose times changed is: builds before versions left every directory at 0', () => {
    const c = liveCache();
    c.storeAttr(dir(1, 4), c.mark());
    c.apply(created('old', 9, 5, { ...dir(9, 0), mtimeNs: 5n, ctimeNs: 5n }));
    expect(c.listing(9, false)).toBeUndefined();
    c.storeAttr({ ...dir(10, 0), mtimeNs: 5n, ctimeNs: 5n }, c.mark());
    expect(c.entry(10, 'anything')).toBeUndefined();
  });

  it('stays complete through a change to its own attributes only (chmod, utimens)', () => {
    const c = liveCache();
    c.storeComplete(1, 4, c.mark(), []);
    c.apply([{ kind: 'inode', ino: 1, attr: dir(1, 5) }]);
    c.apply(created('b', 9, 6));
    expect(names(c, 1)).toEqual(['b']);
  });

  it('is not listed from the mount while the subscription is down', () => {
    const c = liveCache();
    c.storeComplete(1, 4, c.mark(), []);
    c.setLive(false);
    expect(c.listing(1, false)).toBeUndefined();
  });
});
