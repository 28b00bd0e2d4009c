// How inodes and entries are written in Redis, read back: an inode's attributes as its hash
// keeps them (fields t m u g n s r v k at mt ct) and as scripts pack them into one string
// (lua/prelude.lua), and an entry's value (<type char><ino>, e.g. f42). A damaged inode or
// entry is EIO for that one only.
import { FsError } from '../core/errors.js';
import type { Attr, FileType, Ino } from '../core/types.js';

const TYPES = new Set<string>(['f', 'd', 'l', 'p', 's', 'c', 'b']);

/** isFileType tells whether a stored type character is one of ours. */
export function isFileType(t: string): t is FileType {
  return TYPES.has(t);
}

/** The inode fields packed_attrs (lua/prelude.lua) packs, in its order. */
export const ATTR_FIELDS = ['t', 'm', 'u', 'g', 'n', 's', 'r', 'v', 'k', 'at', 'mt', 'ct'] as const;

// An inode's attributes in a reply that carries several inodes' (a listing, a lookup, many
// getattrs): undefined for one that is gone or damaged, which fails on its own getAttr instead.
export function attrOrUndefined(ino: Ino, packed: string | undefined): Attr | undefined {
  try {
    return parsePackedAttr(ino, packed);
  } catch {
    return undefined;
  }
}

/** parsePackedAttr reads an inode's fields packed by a script ('' or missing: the inode is gone). */
export function parsePackedAttr(ino: Ino, packed: string | undefined): Attr | undefined {
  const v = packed ? packed.split(',') : [];
  return v.length === ATTR_FIELDS.length ? attrFromFields(ino, v) : undefined;
}

/** parseAttr validates an inode hash; a corrupt one is EIO for that inode only. */
export function parseAttr(ino: Ino, h: Record<string, string>): Attr | undefined {
  if (h.t === undefined) return undefined;
  if (h.t === '') throw new FsError('EIO', `inode ${ino}: unknown type ''`);
  return attrFromFields(ino, ATTR_FIELDS.map((f) => h[f] ?? ''));
}

// The fields t m u g n s r v k at mt ct in that order ('' when absent). One straight pass with
// no closures: a listing parses thousands at a time.
function attrFromFields(ino: Ino, v: readonly string[]): Attr | undefined {
  const t = v[0]!;
  if (t === '') return undefined;
  if (!isFileType(t)) throw new FsError('EIO', `inode ${ino}: unknown type '${t}'`);
  const size = fieldNum(ino, v, 5);
  if (!Number.isSafeInteger(size) || size < 0) throw new FsError('EIO', `inode ${ino}: impossible size ${v[5]}`);
  return {
    ino,
    type: t as FileType,
    mode: fieldNum(ino, v, 1),
    uid: fieldNum(ino, v, 2),
    gid: fieldNum(ino, v, 3),
    nlink: fieldNum(ino, v, 4),
    size,
    atimeNs: fieldNs(ino, v, 9),
    mtimeNs: fieldNs(ino, v, 10),
    ctimeNs: fieldNs(ino, v, 11),
    rdev: fieldNum(ino, v, 6),
    version: fieldNum(ino, v, 7),
    chunks: fieldNum(ino, v, 8),
  };
}

function fieldNum(ino: Ino, v: readonly string[], i: number): number {
  const s = v[i];
  const n = s ? Number(s) : 0;
  if (!Number.isFinite(n)) throw new FsError('EIO', `inode ${ino}: corrupt field ${ATTR_FIELDS[i]}`);
  return n;
}

function fieldNs(ino: Ino, v: readonly string[], i: number): bigint {
  const s = v[i];
  try {
    return s ? BigInt(s) : 0n;
  } catch {
    throw new FsError('EIO', `inode ${ino}: corrupt field ${ATTR_FIELDS[i]}`);
  }
}

/** parseEntryValue reads an entry's value: <type char><ino>. */
export function parseEntryValue(v: string): { ino: Ino; type: FileType } {
  const type = v.charAt(0);
  const ino = Number(v.slice(1));
  if (!isFileType(type) || !Number.isSafeInteger(ino) || ino <= 0) throw new FsError('EIO', `corrupt directory entry '${v}'`);
  return { ino, type };
}
