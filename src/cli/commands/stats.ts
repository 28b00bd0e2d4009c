// `redisfs stats [<mountpoint>]`: a live view of what mounts are doing, one line per interval,
// read from the stats each mount publishes in Redis, so it works from any host that reaches
// Redis. With a mountpoint: that mount alone. Without: every live mount of the volume.
import type { Argv } from 'yargs';
import { listMounts, readStats, type MountEntry, type MountStatsSnapshot } from '../../store/mounts.js';
import { CliError } from '../cli-error.js';
import { openVolume, readMountInfo, withVolumeOptions, type OpenVolume } from '../volume-target.js';
import { header, rates, row, sumRates, units, ZERO_RATES, type Rates } from '../ops/stats-view.js';

interface Sample { entry: MountEntry; snap: MountStatsSnapshot | undefined }

export function statsCommand(y: Argv): Argv {
  return y.command(
    'stats [mountpoint]',
    'Live per-mount activity: ops, throughput, cache, Redis, commits',
    (c) => withVolumeOptions(c
      .positional('mountpoint', { type: 'string', describe: 'A mount on this host (else every mount of --volume)' })
      .option('interval', { type: 'number', default: 1, describe: 'Seconds between lines' })
      .option('count', { type: 'number', describe: 'Stop after this many lines' })
      .option('json', { type: 'boolean', default: false, describe: 'Print JSON (one object per interval)' })
      .option('once', { type: 'boolean', default: false, describe: 'One sample, then exit (same as --count 1)' })
      .example('$0 stats /srv/uploads', 'This mount, one line per second')
      .example('$0 stats --volume uploads --redis redis://10.0.0.5', 'Every mount of the volume, from any host')
      .example('$0 stats --json --once', 'One JSON object with per-mount rates and totals')),
    async (argv) => {
      const interval = argv.interval;
      if (!Number.isFinite(interval) || interval < 0.1) throw new CliError('--interval must be at least 0.1 (seconds)');
      const count = argv.once ? 1 : argv.count;
      let session: string | undefined;
      const target = { ...argv };
      if (argv.mountpoint) {
        const info = await readMountInfo(argv.mountpoint);
        session = info.session;
        target.volume ??= info.volume;
        target.redis ??= info.redis;
      }
      const vol = await openVolume(target, { name: 'stats' });
      try {
        await watch(vol, { session, label: argv.mountpoint, intervalMs: interval * 1000, count, json: argv.json });
      } finally {
        await vol.close();
      }
    },
  );
}

interface WatchOptions {
  session: string | undefined;
  label: string | undefined;
  intervalMs: number;
  count: number | undefined;
  json: boolean;
}

async function sample(vol: OpenVolume, session: string | undefined): Promise<Sample[]> {
  let mounts = await listMounts(vol.redis, vol.meta.keys);
  if (session !== undefined) {
    mounts = mounts.filter((m) => m.session === session);
    if (mounts.length === 0) throw new CliError(`the mount (session ${session}) is not registered on volume '${vol.volume}': is its daemon running?`);
  }
  const snaps = await readStats(vol.redis, vol.meta.keys, mounts.map((m) => m.session));
  return mounts.map((entry, i) => ({ entry, snap: snaps[i] }));
}

async function watch(vol: OpenVolume, o: WatchOptions): Promise<void> {
  const prev = new Map<string, { snap: MountStatsSnapshot; rates: Rates; seenAt: number }>();
  // Mounts publish about once a second while busy: a first reading, then one per interval.
  for (const s of await sample(vol, o.session)) if (s.snap) prev.set(s.entry.session, { snap: s.snap, rates: ZERO_RATES, seenAt: Date.now() });
  let printed = 0;
  let lastHeader = -1;
  const once = o.count === 1;
  for (;;) {
    await sleep(once ? Math.max(o.intervalMs, 1500) : o.intervalMs);
    const now = Date.now();
    const rows: Array<{ entry: MountEntry; rates: Rates; snap: MountStatsSnapshot | undefined }> = [];
    for (const s of await sample(vol, o.session)) {
      const p = prev.get(s.entry.session);
      let r = ZERO_RATES;
      if (s.snap && p && s.snap.at !== p.snap.at) {
        r = rates(p.snap, s.snap);
        prev.set(s.entry.session, { snap: s.snap, rates: r, seenAt: now });
      } else if (s.snap && p) {
        // Not republished since: either idle (then its heartbeat republishes within seconds)
        // or we read between two publications: keep the last rates for a moment.
        r = { ...(now - s.snap.at < 2500 ? p.rates : ZERO_RATES), cacheBytes: s.snap.cache.bytes };
      } else if (s.snap) {
        prev.set(s.entry.session, { snap: s.snap, rates: r, seenAt: now });
      }
      rows.push({ entry: s.entry, rates: r, snap: s.snap });
    }
    const total = sumRates(rows.filter((x) => !x.entry.stale).map((x) => x.rates));
    if (o.json) {
      process.stdout.write(JSON.stringify({
        volume: vol.volume,
        at: new Date(now).toISOString(),
        mounts: rows.map((x) => ({
          session: x.entry.session, host: x.entry.host, pid: x.entry.pid, mountpoint: x.entry.mountpoint, kind: x.entry.kind,
          version: x.entry.version, stale: x.entry.stale, heartbeatAgeMs: x.entry.ageMs, rates: x.rates, counters: x.snap ?? null,
        })),
        totals: { mounts: rows.filter((x) => !x.entry.stale).length, stale: rows.filter((x) => x.entry.stale).length, rates: total },
      }) + '\n');
    } else if (o.session !== undefined) {
      if (printed % 20 === 0) process.stdout.write(`${header('time')}\n${units()}\n`);
      const r = rows[0]?.rates ?? ZERO_RATES;
      process.stdout.write(row(new Date(now).toTimeString().slice(0, 8), r) + '\n');
    } else {
      if (lastHeader < 0 || printed - lastHeader >= 5) {
        process.stdout.write(`${header('host:mount')}\n${units()}\n`);
        lastHeader = printed;
      }
      process.stdout.write(`-- ${new Date(now).toTimeString().slice(0, 8)}  ${rows.length} mount(s) of ${vol.volume}\n`);
      for (const x of rows) {
        const where = x.entry.kind === 'import' ? 'import' : x.entry.mountpoint.split('/').pop() ?? '';
        const label = `${x.entry.stale ? '!' : ''}${x.entry.host.split('.')[0]}:${where}`;
        process.stdout.write(row(label, x.rates) + '\n');
      }
      if (rows.length > 1) process.stdout.write(row('total', total) + '\n');
    }
    printed++;
    if (o.count !== undefined && printed >= o.count) return;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
