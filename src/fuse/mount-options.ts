// The -o string given to libfuse2. Chosen on purpose (see docs/ARCHITECTURE.md, "Kernel caches"):
// - attr_timeout=0, entry_timeout=0, negative_timeout=0: the high-level libfuse2 API cannot tell
//   the kernel that another host changed something, so the kernel must ask us every time; our
//   own caches are kept exact by Redis pub/sub, so asking us is cheap.
// - no kernel_cache/auto_cache: the page cache is dropped at every open, so an open after
//   another host's close sees the new bytes (auto_cache compares mtime at ms precision only).
// - big_writes, max_write=128 KiB: without them the kernel sends 4 KiB writes (10x slower).
// - use_ino: st_ino is our inode number (hard links show the same number).
// - default_permissions: the kernel checks mode bits.
// - hard_remove: libfuse must not rename an open file to .fuse_hidden* before unlinking or
//   replacing it (two steps, so a rename over an open file would not be atomic, and other
//   hosts would see the hidden name). The VFS keeps such a file alive itself (an orphan) and
//   our patched fuse-native lets I/O on it through with an empty path.
export interface FuseMountOptions {
  allowOther: boolean;
  fsname: string;
  /** Kernel attribute/entry cache lifetime in seconds. @default 0 */
  attrTimeout: number;
  entryTimeout: number;
  negativeTimeout: number;
  maxWrite: number;
  debug: boolean;
}

export const DEFAULT_FUSE_MOUNT_OPTIONS: FuseMountOptions = {
  allowOther: false,
  fsname: 'redisfs',
  attrTimeout: 0.001,
  entryTimeout: 0,
  negativeTimeout: 0,
  maxWrite: 128 * 1024,
  debug: false,
};

export function fuseOptionString(o: FuseMountOptions): string {
  const opts = [
    `fsname=${o.fsname.replace(/[,\\]/g, '_')}`,
    'subtype=redisfs',
    'default_permissions',
    'use_ino',
    'hard_remove',
    'big_writes',
    `max_write=${o.maxWrite}`,
    `max_read=${o.maxWrite}`,
    `attr_timeout=${o.attrTimeout}`,
    `entry_timeout=${o.entryTimeout}`,
    `negative_timeout=${o.negativeTimeout}`,
  ];
  if (o.allowOther) opts.push('allow_other');
  if (o.debug) opts.push('debug');
  return '-o' + opts.join(',');
}
