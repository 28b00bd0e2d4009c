// Plain types shared by every layer: inode numbers, file types and attributes.

export type Ino = number;
export const ROOT_INO: Ino = 1;

/** One character per file type, as stored in Redis (inode field `t`, entry value prefix). */
export type FileType = 'f' | 'd' | 'l' | 'p' | 's' | 'c' | 'b';

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
export const S_IFIFO = 0o010000;
export const S_IFSOCK = 0o140000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

const TYPE_BITS: Record<FileType, number> = {
  f: S_IFREG, d: S_IFDIR, l: S_IFLNK, p: S_IFIFO, s: S_IFSOCK, c: S_IFCHR, b: S_IFBLK,
};

export function typeFromMode(mode: number): FileType | undefined {
  const fmt = mode & S_IFMT;
  for (const [t, bits] of Object.entries(TYPE_BITS)) if (bits === fmt) return t as FileType;
  return undefined;
}

export function modeBits(type: FileType): number {
  return TYPE_BITS[type];
}

/** Attributes of an inode as the VFS serves them. Times are nanoseconds since the epoch. */
export interface Attr {
  ino: Ino;
  type: FileType;
  mode: number; // full st_mode: type bits | permission bits
  uid: number;
  gid: number;
  nlink: number;
  size: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  rdev: number;
  /**
   * Bumped by every change to the inode (stored as `v`): of two copies of its attributes, the
   * one with the higher version is newer.
   */
  version: number;
  /** Chunks holding data (0 for inline content): holes take no space. */
  chunks: number;
}

export interface DirEntry {
  name: string;
  ino: Ino;
  type: FileType;
}

export interface StatFs {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namemax: number;
}

export const NAME_MAX = 255;

// Wall-clock nanoseconds: Date.now() anchors the epoch once, hrtime supplies the resolution.
const EPOCH_OFFSET_NS = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

export function nowNs(): bigint {
  return EPOCH_OFFSET_NS + process.hrtime.bigint();
}
