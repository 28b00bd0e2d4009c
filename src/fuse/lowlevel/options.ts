// Mount options of the libfuse3 low-level binding. Kernel caches can be kept longer than with
// fuse-native because another host's changes reach the kernel as invalidations (see
// docs/ARCHITECTURE.md, "Kernel caches").
export interface LowLevelMountOptions {
  allowOther: boolean;
  fsname: string;
  /** Seconds the kernel trusts attributes we sent. @default 1 */
  attrTimeout: number;
  /** Seconds the kernel trusts a name → inode answer. @default 1 */
  entryTimeout: number;
  /** Seconds the kernel remembers a name is absent (0: not at all). @default 0 */
  negativeTimeout: number;
  /** Largest write (and read) request, bytes; the kernel here takes up to 1 MiB. @default 1 MiB */
  maxWrite: number;
  /** Let the kernel gather small writes in its page cache (FUSE_CAP_WRITEBACK_CACHE). @default false */
  writebackCache: boolean;
  debug: boolean;
}

export const DEFAULT_LOWLEVEL_MOUNT_OPTIONS: LowLevelMountOptions = {
  allowOther: false,
  fsname: 'redisfs',
  attrTimeout: 1,
  entryTimeout: 1,
  negativeTimeout: 0,
  maxWrite: 1 << 20,
  writebackCache: false,
  debug: false,
};

/** lowLevelOptionString is the -o list given to fuse_session_new (mount options only). */
export function lowLevelOptionString(o: LowLevelMountOptions): string {
  const opts = [`fsname=${o.fsname.replace(/[,\\]/g, '_')}`, 'subtype=redisfs', 'default_permissions'];
  if (o.allowOther) opts.push('allow_other');
  return opts.join(',');
}
