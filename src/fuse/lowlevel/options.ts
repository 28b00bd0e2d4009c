// Mount options of the libfuse3 low-level binding. Kernel caches can be kept longer than with
// fuse-native because another host's changes reach the kernel as invalidations (see
// docs/ARCHITECTURE.md, "Kernel caches").
import type { FuseMountOptions } from '../mount-options.js';

/** fuse-native's options (timeouts in seconds, max write in bytes), plus the writeback cache. */
export interface LowLevelMountOptions extends FuseMountOptions {
  /** Let the kernel gather small writes in its page cache (FUSE_CAP_WRITEBACK_CACHE). @default false */
  writebackCache: boolean;
}

// The kernel trusts attributes and entries for 1 s (not 0): other hosts' changes arrive as
// invalidations; requests may carry up to 1 MiB.
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
