// `redisfs status`: the volume (settings, usage, mounts) and the Redis it lives on, with the
// settings that endanger data flagged.
import type { Argv } from 'yargs';
import { Cluster, type Redis } from 'ioredis';
import { scanKeys } from '../../store/key-scan.js';
import { keyOwner, nodeAddress } from '../../store/cluster-nodes.js';
import { listMounts } from '../../store/mounts.js';
import { openVolume, withVolumeOptions, type OpenVolume, type RedisConn } from '../volume-target.js';
import { bytes } from '../ops/stats-view.js';
import { CliError } from '../cli-error.js';

export function statusCommand(y: Argv): Argv {
  return y.command(
    'status',
    'Volume settings and usage, live and stale mounts, and the health of its Redis',
    (c) => withVolumeOptions(c
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object' })
      .example('$0 status --redis redis://10.0.0.5 --volume uploads', '')),
    async (argv) => {
      const vol = await openVolume(argv, { name: 'status' });
      try {
        const s = await collect(vol);
        if (argv.json) process.stdout.write(JSON.stringify(s, null, 2) + '\n');
        else process.stdout.write(render(s));
        if (s.warnings.length > 0) process.exitCode = 2;
      } finally {
        await vol.close();
      }
    },
  );
}

interface Status {
  volume: string;
  redisUrl: string;
  settings: Record<string, string>;
  usage: { bytes: number; inodes: number; chunks: number | undefined; reclaimPending: number; orphans: number };
  mounts: Array<{ session: string; host: string; pid: number; mountpoint: string; kind: string; version: string; started: string; heartbeatAgeMs: number; stale: boolean }>;
  redis: { version: string; mode: string; usedMemory: number; maxMemory: number; evictionPolicy: string; aof: boolean; aofFsync: string; rdbSaves: string; lastSaveOk: boolean; role: string; connectedReplicas: number };
  warnings: string[];
}

function infoField(info: string, key: string): string {
  return new RegExp(`^${key}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
}

async function collect(vol: OpenVolume): Promise<Status> {
  const { redis, meta } = vol;
  const k = meta.keys;
  const [settings, ctr, reclaimPending, orphans, mounts, servers] = await Promise.all([
    redis.hgetall(k.vol), redis.hgetall(k.ctr), redis.zcard(k.reclaim), redis.hlen(k.orphans),
    listMounts(redis, k), checkServers(redis, k.vol),
  ]);
  const chunks = await countChunks(vol);
  const warnings = servers.flatMap((s) => s.warnings);
  const stale = mounts.filter((m) => m.stale);
  if (stale.length > 0) warnings.push(`${stale.length} stale mount(s): reaped by the next live mount, or by redisfs gc`);
  return {
    volume: vol.volume,
    redisUrl: vol.where,
    settings,
    usage: { bytes: Number(ctr.bytes ?? 0), inodes: Number(ctr.inodes ?? 0), chunks, reclaimPending, orphans },
    mounts: mounts.map((m) => ({
      session: m.session, host: m.host, pid: m.pid, mountpoint: m.mountpoint, kind: m.kind, version: m.version,
      started: new Date(m.started).toISOString(), heartbeatAgeMs: m.ageMs, stale: m.stale,
    })),
    redis: servers[0]!.redis,
    warnings,
  };
}

/**
 * The server facts of the volume's Redis. On a cluster, of every master (each holds some of
 * the volume's chunks: eviction or a lost AOF on any of them loses files), the one holding its
 * metadata first; warnings then name their node.
 */
async function checkServers(redis: RedisConn, volKey: string): Promise<Array<{ redis: Status['redis']; warnings: string[] }>> {
  if (!(redis instanceof Cluster)) return [await checkServer(redis, '')];
  // During a failover the slot may have no known owner: still report every master.
  const owner = await keyOwner(redis, volKey).catch(() => undefined);
  const nodes = [...(owner ? [owner] : []), ...redis.nodes('master').filter((n) => n !== owner)];
  if (nodes.length === 0) throw new CliError('no master of the cluster is known: is it up?');
  return Promise.all(nodes.map((n) => checkServer(n, `${nodeAddress(n)}: `)));
}

async function checkServer(redis: RedisConn | Redis, prefix: string): Promise<{ redis: Status['redis']; warnings: string[] }> {
  const info = await redis.info();
  const config = async (name: string): Promise<string | undefined> => {
    try {
      const r = (await redis.config('GET', name)) as string[];
      return r[1];
    } catch {
      return undefined;
    }
  };
  const [policy, appendfsync, save] = await Promise.all([config('maxmemory-policy'), config('appendfsync'), config('save')]);
  const warnings: string[] = [];
  const evictionPolicy = policy ?? infoField(info, 'maxmemory_policy');
  const aof = infoField(info, 'aof_enabled') === '1';
  const rdbSaves = save ?? '?';
  if (evictionPolicy !== 'noeviction') warnings.push(`maxmemory-policy is ${evictionPolicy}: Redis may evict keys, which deletes files (set noeviction)`);
  if (!aof && (rdbSaves === '' || rdbSaves === '?')) warnings.push('no persistence (AOF off, no RDB saves): a Redis restart loses the whole volume');
  else if (!aof) warnings.push(`AOF is off: a crash loses everything written since the last RDB save (save "${rdbSaves}")`);
  if (aof && appendfsync === 'no') warnings.push('appendfsync no: a machine crash may lose recent writes');
  if (infoField(info, 'rdb_last_bgsave_status') === 'err') warnings.push('the last RDB save failed');
  const usedMemory = Number(infoField(info, 'used_memory'));
  const maxMemory = Number(infoField(info, 'maxmemory'));
  if (maxMemory > 0 && usedMemory > 0.9 * maxMemory) warnings.push(`Redis memory is ${Math.round((100 * usedMemory) / maxMemory)}% full: writes fail with ENOSPC at 100%`);
  return {
    redis: {
      version: infoField(info, 'redis_version'), mode: infoField(info, 'redis_mode'), usedMemory, maxMemory, evictionPolicy,
      aof, aofFsync: appendfsync ?? '?', rdbSaves, lastSaveOk: infoField(info, 'rdb_last_bgsave_status') !== 'err',
      role: infoField(info, 'role'), connectedReplicas: Number(infoField(info, 'connected_slaves') || 0),
    },
    warnings: warnings.map((w) => prefix + w),
  };
}

// Chunks are counted with SCAN (pages of 1000): on a huge keyspace this takes a while, so it
// stops after 10 s and says so.
async function countChunks(vol: OpenVolume): Promise<number | undefined> {
  const deadline = Date.now() + 10_000;
  let n = 0;
  for await (const keys of scanKeys(vol.redis, vol.meta.keys.chunkPattern, 1000, 'everywhere')) {
    n += keys.length;
    if (Date.now() > deadline) return undefined;
  }
  return n;
}

function render(s: Status): string {
  const lines: string[] = [];
  lines.push(`volume ${s.volume} on ${s.redisUrl}`);
  lines.push(`  format ${s.settings.format ?? '?'}, chunk size ${bytes(Number(s.settings.chunkSize))}, inline up to ${bytes(Number(s.settings.inlineMax))}, created ${s.settings.created ? new Date(Number(BigInt(s.settings.created) / 1_000_000n)).toISOString() : '?'}`);
  lines.push(`  used: ${bytes(s.usage.bytes)} in ${s.usage.inodes} inodes, ${s.usage.chunks ?? '(too many to count)'} chunks, ${s.usage.reclaimPending} chunks awaiting reclaim, ${s.usage.orphans} open-unlinked`);
  const live = s.mounts.filter((m) => !m.stale);
  lines.push(`mounts: ${live.length} live, ${s.mounts.length - live.length} stale`);
  for (const m of s.mounts) {
    lines.push(`  ${m.stale ? 'STALE' : 'live '} ${m.host}:${m.kind === 'import' ? '(import)' : m.mountpoint}  pid ${m.pid}  session ${m.session}  v${m.version}  since ${m.started}  heartbeat ${(m.heartbeatAgeMs / 1000).toFixed(1)} s ago`);
  }
  const r = s.redis;
  lines.push(`redis ${r.version} (${r.mode}, ${r.role}${r.connectedReplicas ? `, ${r.connectedReplicas} replicas` : ''})`);
  lines.push(`  memory ${bytes(r.usedMemory)} used of ${r.maxMemory > 0 ? bytes(r.maxMemory) : 'no limit'}, eviction policy ${r.evictionPolicy}`);
  lines.push(`  persistence: AOF ${r.aof ? `on (appendfsync ${r.aofFsync})` : 'off'}, RDB saves "${r.rdbSaves}"${r.lastSaveOk ? '' : ', LAST SAVE FAILED'}`);
  if (s.warnings.length === 0) lines.push('no warnings');
  for (const w of s.warnings) lines.push(`WARNING: ${w}`);
  return lines.join('\n') + '\n';
}
