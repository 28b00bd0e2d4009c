// fuse-native speaks paths; the VFS speaks inodes. Resolving walks the components through the
// VFS's entry cache (kept exact by invalidations), so an unchanged path costs no round trip.
import { FsError } from '../core/errors.js';
import { ROOT_INO, type Attr, type Ino } from '../core/types.js';
import type { Vfs } from '../vfs/vfs.js';

export class PathResolver {
  constructor(private readonly vfs: Vfs) {}

  /** ino returns the inode a path names. */
  async ino(path: string): Promise<Ino> {
    let ino = ROOT_INO;
    for (const name of components(path)) {
      const e = await this.vfs.lookupEntry(ino, name);
      ino = e.ino;
    }
    return ino;
  }

  /** attr returns the attributes of what a path names. */
  async attr(path: string): Promise<Attr> {
    const parts = components(path);
    const name = parts.pop();
    if (name === undefined) return this.vfs.getattr(ROOT_INO);
    let ino = ROOT_INO;
    for (const p of parts) ino = (await this.vfs.lookupEntry(ino, p)).ino;
    return this.vfs.lookup(ino, name);
  }

  /** parent returns the directory inode and last name of a path (for create, unlink, …). */
  async parent(path: string): Promise<{ parent: Ino; name: string }> {
    const parts = components(path);
    const name = parts.pop();
    if (name === undefined) throw new FsError('EBUSY'); // the root itself
    let ino = ROOT_INO;
    for (const p of parts) ino = (await this.vfs.lookupEntry(ino, p)).ino;
    return { parent: ino, name };
  }
}

function components(path: string): string[] {
  return path.split('/').filter((c) => c.length > 0);
}
