// A change's invalidation carries the changed inodes' new attributes, and a small file's new
// content, so that a mount holding them replaces them instead of reading them again. Replies
// and invalidations travel on two connections: the version of each copy says which is newer.
import { describe, expect, it } from 'vitest';
import type { Attr } from '../src/core/types.js';
import { parseItems, parseMessage } from '../src/store/invalidation.js';
import { MetaCache } from '../src/vfs/meta-cache.js';

function attr(ino: number, version: number, mode = 0o100644): Attr {
  return {
    ino, type: 'f', mode, uid: 0, gid: 0, nlink: 1, size: 3, atimeNs: 1n, mtimeNs: 2n, ctimeNs: 3n, rdev: 0, version, chunks: 0,
  };
}

/** The packed form lua/prelude.lua sends: t m u g n s r v k at mt ct. */
function packed(a: Attr): string {
  return ['f', a.mode, a.uid, a.gid, a.nlink, a.size, a.rdev, a.version, a.chunks, a.atimeNs, a.mtimeNs, a.ctimeNs].join(',');
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

  it('still reads as drops when it carries no attributes, or ones it cannot parse', () => {
    expect(parseItems(['i7', 'a7,f,not,enough', 'x9'])).toEqual([{ kind: 'inode', ino: 7 }]);
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
