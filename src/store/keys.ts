/*
 * The Redis key schema of a volume V. Every key is built here and in lua/prelude.lua
 * (the same names, for keys a script discovers while it runs); nowhere else.
 *
 * Metadata — one hash slot per volume thanks to the {V} hash tag, so every metadata change
 * is one atomic Lua script even on Redis Cluster:
 *   rfs:{V}:vol          hash   format (2 when made on a cluster: invalidations sharded, see
 *                                lua/prelude.lua publish_command), chunkSize, inlineMax, created
 *   rfs:{V}:ctr          hash   ino (last inode number handed out), session (last session id),
 *                                bytes (sum of file sizes), inodes (live inode count)
 *   rfs:{V}:i:<ino>      hash   t type, m st_mode, u uid, g gid, n nlink, s size,
 *                                at/mt/ct times in ns, r rdev, v version (bumped by every change),
 *                                p parent (directories only), l target (symlinks only),
 *                                k number of chunks holding data (for st_blocks),
 *                                pa/pt the same attributes packed for listings, derived
 *                                (lua/prelude.lua: trusted only while pt ends with ct)
 *   rfs:{V}:e:<ino>      hash   directory entries: name -> <type char><ino>, e.g. "f42"
 *   rfs:{V}:c:<ino>      hash   chunk map of a file: chunk index -> chunk id
 *   rfs:{V}:d:<ino>      string inline content of a small file (no chunk map then)
 *   rfs:{V}:x:<ino>      hash   extended attributes: name -> value
 *   rfs:{V}:orphans      hash   ino -> session: inodes with no name left, kept while that
 *                                session has them open (purged at its last close, or by gc)
 *   rfs:{V}:reclaim      zset   chunk ids no longer referenced, scored by ms time of release;
 *                                deleted after a grace period (other hosts may still read them)
 *   rfs:{V}:inval        pub/sub channel of invalidations (see invalidation.ts); a shard
 *                                channel (SPUBLISH) for a volume of format 2
 *   rfs:{V}:mounts       hash   session -> JSON {host, pid, mountpoint, version, kind, started,
 *                                heartbeat (ms), staleMs}: every live mount (and import) of the
 *                                volume; an entry whose heartbeat is older than its staleMs is
 *                                stale, and the next mount to notice reaps it (mounts.ts)
 *   rfs:{V}:mstat:<s>    string JSON counters of session s (ops, bytes, cache, Redis, commits),
 *                                rewritten every second with a TTL: `redisfs stats` reads them
 *
 * Data — immutable chunks, no hash tag, so on Redis Cluster they spread over every shard:
 *   rfs:V:k:<chunk id>   string chunk bytes; ids are "<session>.<counter>" in base 36, so a
 *                                chunk names the mount that wrote it (gc of dead mounts' uploads)
 */
import type { Ino } from '../core/types.js';

export const VOLUME_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export class VolumeKeys {
  readonly prefix: string;
  readonly vol: string;
  readonly ctr: string;
  readonly reclaim: string;
  readonly inval: string;
  readonly orphans: string;
  readonly mounts: string;
  private readonly chunkPrefix: string;

  constructor(readonly volume: string) {
    if (!VOLUME_NAME.test(volume)) throw new Error(`invalid volume name: ${volume}`);
    this.prefix = `rfs:{${volume}}:`;
    this.vol = this.prefix + 'vol';
    this.ctr = this.prefix + 'ctr';
    this.reclaim = this.prefix + 'reclaim';
    this.inval = this.prefix + 'inval';
    this.orphans = this.prefix + 'orphans';
    this.mounts = this.prefix + 'mounts';
    this.chunkPrefix = `rfs:${volume}:k:`;
  }

  inode(ino: Ino): string { return `${this.prefix}i:${ino}`; }
  entries(ino: Ino): string { return `${this.prefix}e:${ino}`; }
  chunkMap(ino: Ino): string { return `${this.prefix}c:${ino}`; }
  inline(ino: Ino): string { return `${this.prefix}d:${ino}`; }
  xattrs(ino: Ino): string { return `${this.prefix}x:${ino}`; }
  chunk(id: string): string { return this.chunkPrefix + id; }
  mountStats(session: string): string { return `${this.prefix}mstat:${session}`; }
  /** Patterns for SCAN MATCH over every key of one kind (fsck, gc). */
  get inodePattern(): string { return `${scanEscape(this.prefix)}i:*`; }
  get chunkMapPattern(): string { return `${scanEscape(this.prefix)}c:*`; }
  get chunkPattern(): string { return `${scanEscape(this.chunkPrefix)}*`; }
  /** inoOf parses the inode number out of a key built by inode() or chunkMap(). */
  inoOf(key: string): number { return Number(key.slice(key.lastIndexOf(':') + 1)); }
  /** chunkIdOf parses the chunk id out of a key built by chunk(). */
  chunkIdOf(key: string): string { return key.slice(this.chunkPrefix.length); }
}

// SCAN MATCH treats * ? [ ] and backslash as glob characters; the volume's hash tag braces are literal.
function scanEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
