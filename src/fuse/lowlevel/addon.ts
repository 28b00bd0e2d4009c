// The typed surface of native/redisfs_fuse.c: libfuse3's low-level API, served from Node's event
// loop. Requests arrive through one dispatch function (op code, request id, op arguments); the
// id is answered later, once, with a reply* function.
import { createRequire } from 'node:module';
import type { Attr } from '../../core/types.js';

/** Op codes the addon passes to dispatch (mirror of the enum in redisfs_fuse.c). */
export const Op = {
  LOOKUP: 1, GETATTR: 2, SETATTR: 3, READLINK: 4, MKNOD: 5, MKDIR: 6, UNLINK: 7, RMDIR: 8,
  SYMLINK: 9, RENAME: 10, LINK: 11, OPEN: 12, READ: 13, WRITE: 14, FLUSH: 15, RELEASE: 16, FSYNC: 17,
  OPENDIR: 18, READDIR: 19, RELEASEDIR: 20, STATFS: 21, SETXATTR: 22, GETXATTR: 23, LISTXATTR: 24,
  REMOVEXATTR: 25, ACCESS: 26, CREATE: 27,
  /** The kernel dropped nlookup references to an inode (id -1: nothing to answer). */
  FORGET: 28,
  /** The kernel finished INIT: (maxWrite, want flags, protocol minor). */
  EV_INIT: 100,
  /** libfuse's destroy callback ran (the session is being torn down). */
  EV_DESTROY: 101,
  /** The kernel ended the session: someone unmounted it. */
  EV_EXITED: 102,
  /**
   * The kernel interrupted request `id` (a signal reached the process waiting on it) while JS
   * still holds it. Answering it now (EINTR) is optional; a later answer is refused (false).
   */
  EV_INTERRUPT: 103,
} as const;

/** Setattr `valid` bits (FUSE_SET_ATTR_*). */
export const SetAttrBit = {
  MODE: 1 << 0, UID: 1 << 1, GID: 1 << 2, SIZE: 1 << 3, ATIME: 1 << 4, MTIME: 1 << 5,
  ATIME_NOW: 1 << 7, MTIME_NOW: 1 << 8, CTIME: 1 << 10,
} as const;

/** replyOpen/replyCreate flags. */
export const OpenReply = { KEEP_CACHE: 1, DIRECT_IO: 2, CACHE_READDIR: 4, NONSEEKABLE: 8 } as const;

/** Numbers per inode in an attribute Float64Array (mirror of the A_* enum in redisfs_fuse.c). */
export const ATTR_SIZE = 16;
/** Where the generation sits; negative marks a listing entry sent without attributes. */
export const ATTR_GEN = 15;
const A_INO = 0, A_MODE = 1, A_NLINK = 2, A_UID = 3, A_GID = 4, A_RDEV = 5, A_SIZE = 6, A_BLOCKS = 7;
const A_ATIME = 8, A_MTIME = 10, A_CTIME = 12, A_BLKSIZE = 14, A_GEN = ATTR_GEN;

/** WRITE's data argument is a new Buffer for each request, which JS owns from then on. */
export type Dispatch = (op: number, id: number, ...args: unknown[]) => void;

/** A mounted session (an external the addon owns). */
export type Session = { readonly __brand: 'redisfs-fuse-session' };

export interface Addon {
  /** Creates the session and mounts it; INIT arrives later through dispatch (EV_INIT). */
  mount(mountpoint: string, options: string, dispatch: Dispatch, maxWrite: number, writeback: boolean, debug: boolean): Session;
  /** Stops serving, unmounts (lazily) and frees the session. Idempotent. */
  unmount(session: Session): void;
  /** Each reply returns false when the id was answered already (or its session is gone). */
  replyErr(id: number, errno: number): boolean;
  replyEntry(id: number, attr: Float64Array, entryTimeout: number, attrTimeout: number): boolean;
  replyAttr(id: number, attr: Float64Array, attrTimeout: number): boolean;
  replyOpen(id: number, fh: number, flags: number): boolean;
  replyCreate(id: number, attr: Float64Array, entryTimeout: number, attrTimeout: number, fh: number, flags: number): boolean;
  replyBuf(id: number, data: Uint8Array): boolean;
  replyWrite(id: number, count: number): boolean;
  /** [bsize, frsize, blocks, bfree, bavail, files, ffree, favail, namemax] */
  replyStatfs(id: number, st: Float64Array): boolean;
  replyReadlink(id: number, target: string): boolean;
  replyXattr(id: number, size: number): boolean;
  replyNone(id: number): boolean;
  /** Fills a readdir(plus) page from entries (ATTR_SIZE numbers each); returns how many fit. */
  replyDir(id: number, size: number, plus: boolean, firstOffset: number, names: readonly string[], attrs: Float64Array,
    entryTimeout: number, attrTimeout: number): number | false;
  /**
   * Drops an inode's attributes (off < 0) and cached pages from off, len bytes (0: to the end).
   * retry: the inode was just given to the kernel in an entry reply, so a kernel that does not
   * find it may still be making it: the notice is retried briefly.
   */
  notifyInvalInode(session: Session, ino: number, off: number, len: number, retry?: boolean): boolean;
  notifyInvalEntry(session: Session, parent: number, name: string): boolean;
  notifyDelete(session: Session, parent: number, child: number, name: string): boolean;
  /** Requests JS holds unanswered, over all sessions. */
  pendingRequests(): number;
}

let loaded: Addon | undefined;

/** addon loads native/build/Release/redisfs_fuse.node, with a message that says how to build it. */
export function addon(): Addon {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const file = new URL('../../../native/build/Release/redisfs_fuse.node', import.meta.url).pathname;
  try {
    loaded = require(file) as Addon;
  } catch (err) {
    throw new Error(`the lowlevel FUSE binding is not built (${file}: ${(err as Error).message.split('\n')[0]}); run sh scripts/build-fuse-lowlevel.sh (needs libfuse3-dev)`);
  }
  return loaded;
}

const NS = 1_000_000_000n;

function putTime(f: Float64Array, at: number, ns: bigint): void {
  let s = ns / NS;
  let r = ns % NS;
  if (r < 0n) {
    s -= 1n;
    r += NS;
  }
  f[at] = Number(s);
  f[at + 1] = Number(r);
}

/**
 * fillAttr writes an inode's attributes at slot `index` of an attribute array; st_blocks
 * counts only chunks that hold data (`chunkSize` bytes each), not holes.
 */
export function fillAttr(f: Float64Array, index: number, a: Attr, chunkSize: number): void {
  const o = index * ATTR_SIZE;
  f[o + A_INO] = a.ino;
  f[o + A_MODE] = a.mode;
  f[o + A_NLINK] = a.nlink;
  f[o + A_UID] = a.uid;
  f[o + A_GID] = a.gid;
  f[o + A_RDEV] = a.rdev;
  f[o + A_SIZE] = a.size;
  f[o + A_BLOCKS] = Math.ceil((a.chunks > 0 ? Math.min(a.size, a.chunks * chunkSize) : a.size) / 512);
  putTime(f, o + A_ATIME, a.atimeNs);
  putTime(f, o + A_MTIME, a.mtimeNs);
  putTime(f, o + A_CTIME, a.ctimeNs);
  f[o + A_BLKSIZE] = 4096;
  f[o + A_GEN] = 0;
}

/** fillNameOnly writes a listing entry the kernel gets no attributes for (only ino and type). */
export function fillNameOnly(f: Float64Array, index: number, ino: number, mode: number): void {
  const o = index * ATTR_SIZE;
  f.fill(0, o, o + ATTR_SIZE);
  f[o + A_INO] = ino;
  f[o + A_MODE] = mode;
  f[o + A_GEN] = -1;
}
