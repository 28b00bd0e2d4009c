#!/usr/bin/env node
// `npm run bench`: the speed and cross-host coherence of redisfs as ratios against references
// measured in the same run (see docs/BENCHMARK.md). Starts its own redis-server, mounts two
// hosts A and B of one fresh volume, a null FUSE filesystem on the same binding and (with
// --peers) sshfs twice, runs every workload in worker processes, then the FUSE bindings rows
// (bindings.ts), prints the tables and writes JSON under .bench/.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dropCachedPages, type Job, type JobResult } from './jobs.js';
import { NULL_TIMEOUTS, measureBindings } from './bindings.js';
import { bindingMetrics, metrics, type BindingMetricId, type BindingTarget, type MetricId } from './metrics.js';
import { cpuSeconds, memKiB, stopAll } from './procs.js';
import { RedisStats } from './redis-stats.js';
import { measureRedisAlone, redisAloneLines, type RedisAlone } from './redis-alone.js';
import { aggregate, runJob, runJobs } from './run-workers.js';
import {
  aheadOfPeer, bindingRatio, bindingVerdicts, formatRatio, ratio, referenceScaling, renderBindingTable, renderTable, verdict, type BindingFigures, type Figures,
} from './table.js';
import {
  localTarget, mountRedisfs, nullTarget, nfsNote, redisfsTarget, removeTree, sshfsTarget, startRedis, type Target,
  type TargetName,
} from './targets.js';

interface Sizes {
  seqBytes: number;
  smallFiles: number;
  metaOps: number;
  randBytes: number;
  randReads: number;
  visRounds: number;
  visTimeoutMs: number;
  /** Longest a visibility workload may take on one target (a slow peer stops early). */
  visBudgetMs: number;
  idleSeconds: number;
  bigBytes: number;
  /** --cache-size of hosts A and B: holds the sequential file, so "warm" means cached. */
  hostCache: string;
  /** --cache-size of the host that reads bigBytes: a fraction of it, so the cache churns. */
  rssCache: string;
  rssCacheMiB: number;
  /** Runs of the short throughput workloads (seq write, warm read, random read, FUSE bindings rows); the median counts. */
  repeat: number;
  /** Length of each timed loop of the FUSE bindings rows (open+read+close, stat). */
  bindingSeconds: number;
}

const MiB = 1 << 20;
const FULL: Sizes = {
  seqBytes: 1024 * MiB, smallFiles: 5000, metaOps: 2000, randBytes: 256 * MiB, randReads: 20000, visRounds: 200,
  visTimeoutMs: 2000, visBudgetMs: 90_000, idleSeconds: 30, bigBytes: 10 * 1024 * MiB, hostCache: '2G', rssCache: '512M', rssCacheMiB: 512, repeat: 3,
  bindingSeconds: 1.5,
};
const QUICK: Sizes = {
  seqBytes: 100 * MiB, smallFiles: 500, metaOps: 200, randBytes: 32 * MiB, randReads: 2000, visRounds: 20,
  visTimeoutMs: 1000, visBudgetMs: 8000, idleSeconds: 3, bigBytes: 1000 * MiB, hostCache: '2G', rssCache: '32M', rssCacheMiB: 32, repeat: 1,
  bindingSeconds: 0.5,
};
const JOB_TIMEOUT_MS = 600_000;
/** Pause between a visibility reader's polls: spinning would starve the daemons it waits for. */
const VIS_POLL_US = Number(process.env.BENCH_VIS_POLL_US ?? 200);
const BENCH_DIR = fileURLToPath(new URL('../../.bench/', import.meta.url));

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    peers: { type: 'boolean', default: false },
    out: { type: 'string' },
    profile: { type: 'boolean', default: false },
    binding: { type: 'string', default: 'lowlevel' },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write('usage: node dist/bench/main.js [--quick] [--peers] [--out results.json]\n'
    + '  --quick  every size ~10x smaller (development, CI smoke run)\n'
    + '  --peers  also measure sshfs over loopback (installs sshfs/openssh-server if missing)\n'
    + '  --binding NAME  FUSE binding of redisfs and of the null reference: lowlevel (default) or fuse-native\n'
    + '  --only a,b  run only the workloads whose names contain one of these words (e.g. --only read)\n'
    + '  --profile  run the redisfs daemons with --cpu-prof, dump their op stats (SIGUSR2) after\n'
    + '             each workload, and keep logs and profiles in .bench/profile-<date>/\n');
  process.exit(0);
}
if (args.binding !== 'lowlevel' && args.binding !== 'fuse-native') {
  process.stderr.write(`bench: --binding must be lowlevel or fuse-native, not ${args.binding}\n`);
  process.exit(2);
}
const sizes = args.quick ? QUICK : FULL;
/** wanted says whether --only lets a workload run (every one without it). */
const wanted = (what: string): boolean => !args.only || args.only.split(',').some((w) => w !== '' && what.includes(w));
const figures: Figures = {};
const bindingFigures: BindingFigures = {};
const notes: string[] = [];
/** Every run of a repeated workload, by `<metric>/<target>`. */
const samples: Record<string, number[]> = {};
/** The Redis work of the create, delete and cold-read rows, measured alone (redis-alone.ts). */
let redisAlone: RedisAlone | undefined;
/** CPU of all processes per MiB of the cold read, ms, by target (daemon, Redis, reader). */
const coldCpuMsPerMiB: Partial<Record<TargetName, number>> = {};
const t0 = Date.now();

function say(msg: string): void {
  process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
}

function put(id: MetricId, t: TargetName, v: number): void {
  (figures[id] ??= {})[t] = v;
}

function putBinding(id: BindingMetricId, t: BindingTarget, v: number): void {
  (bindingFigures[id] ??= {})[t] = v;
}

const mbps = (r: JobResult): number => r.bytes / r.seconds / 1e6;
const rate = (r: JobResult): number => r.ops / r.seconds;

// The median of `sizes.repeat` runs: the machine is shared, one run can be disturbed.
async function median(id: MetricId, t: TargetName, run: (i: number) => Promise<number>): Promise<number> {
  const got: number[] = [];
  for (let i = 0; i < sizes.repeat; i++) got.push(await run(i));
  samples[`${id}/${t}`] = [...got];
  got.sort((x, y) => x - y);
  return got[Math.floor(got.length / 2)]!;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function sizeLabel(bytes: number): string {
  return bytes >= 1024 * MiB ? `${+(bytes / 1024 / MiB).toFixed(1)} GiB` : `${Math.round(bytes / MiB)} MiB`;
}

// Writes back dirty pages and drops every clean one (root only; a no-op otherwise).
function dropAllCleanPages(): void {
  spawnSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '1');
  } catch {
    // not root: each target's own pages were dropped above, which is what cold means
  }
}

// Removes what a killed earlier run left: its mounts (lazily) and its directory.
function clearStaleRuns(): void {
  for (const name of readdirSync(tmpdir())) {
    const m = /^redisfs-bench-(\d+)$/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    if (existsSync(`/proc/${m[1]}`)) continue;
    const dir = join(tmpdir(), name);
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const mnt = line.split(' ')[1];
      if (mnt?.startsWith(dir + '/')) spawnSync('fusermount', ['-uz', mnt]);
    }
    removeTree(dir);
  }
}

async function main(): Promise<void> {
  clearStaleRuns();
  const root = join(tmpdir(), `redisfs-bench-${process.pid}`);
  mkdirSync(root, { recursive: true });
  say(`${args.quick ? 'quick' : 'full'} run in ${root}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const redis = await startRedis(join(root, 'redis'));
  const volume = `bench-${Date.now().toString(36)}`;
  const targets: Target[] = [];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const logDir = args.profile ? join(BENCH_DIR, `profile-${stamp}`) : join(root, 'logs');
  const daemon = { logDir, binding: args.binding, nodeArgs: args.profile ? ['--cpu-prof', `--cpu-prof-dir=${logDir}`] : [] };
  const rfs = await redisfsTarget(root, redis.url, volume, { ...daemon, cacheSize: sizes.hostCache });
  const nullRef = await nullTarget(root, args.binding);
  targets.push(rfs, nullRef, localTarget(root));
  notes.push(nfsNote());
  if (args.peers) {
    try {
      targets.push(await sshfsTarget(root));
    } catch (err) {
      notes.push(`sshfs: could not be set up: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  } else {
    notes.push('peers not measured (run with --peers for sshfs)');
  }
  say(`mounted: ${targets.map((t) => t.name).join(', ')}`);
  const each = async (what: string, f: (t: Target) => Promise<void>): Promise<void> => {
    if (!wanted(what)) return;
    for (const t of targets) {
      say(`${what}: ${t.name}`);
      // The local disk (local and sshfs write there) flushes what earlier workloads wrote now,
      // not in the middle of the next target's run.
      spawnSync('sync', ['-f', root]);
      if (t.name === 'redisfs' && args.profile) {
        mark(`start ${what}`);
        await redisStats?.begin();
      }
      await f(t);
      if (t.name === 'redisfs' && args.profile) {
        mark(`end ${what}`);
        const used = await redisStats?.end();
        if (used) {
          appendFileSync(join(logDir, 'redis-commands.log'), `${what}: ${used}\n`);
          say(`  redis commands: ${used}`);
        }
      }
    }
  };
  // Profiling: a marker line in each daemon's log, then its op stats (SIGUSR2 logs them),
  // and the Redis commands the workload cost (INFO commandstats, before and after).
  const redisStats = args.profile ? new RedisStats(redis.url) : undefined;
  const mark = (what: string): void => {
    for (const h of [rfs.hostA, rfs.hostB]) {
      appendFileSync(h.logFile, `${JSON.stringify({ bench: what, time: Date.now() })}\n`);
      process.kill(h.pid, 'SIGUSR2');
    }
  };

  // Sequential write on A, then cold and warm reads on B.
  // Each run writes a new file (seq.bin, seq-1.bin, …): an overwrite is another workload.
  await each('sequential write', async (t) => {
    put('seqWrite', t.name, await median('seqWrite', t.name, async (i) =>
      mbps(await runJob({ kind: 'seqWrite', file: join(t.a, i === 0 ? 'seq.bin' : `seq-${i}.bin`), bytes: sizes.seqBytes, block: MiB }, JOB_TIMEOUT_MS))));
  });
  await each('sequential read (cold, warm)', async (t) => {
    const file = join(t.b, 'seq.bin');
    // Cold means no page cache holds the file, on either host: the null filesystem (one mount)
    // and the local disk would otherwise read back what their own writes left in memory, never
    // reaching the binding or the disk. Then every clean page cache is dropped, so that every
    // target reads into memory just freed: on a VM, memory not touched lately costs a host
    // fault per page, which made every target's cold read 2-3x slower after the other targets'
    // writes had filled the page cache (most with sshfs, whose files are on the local disk).
    if (t.a !== t.b) dropCachedPages(join(t.a, 'seq.bin')); // null and local: one directory
    dropCachedPages(file);
    dropAllCleanPages();
    // The CPU every process spent on it: the serving daemon, Redis (redisfs), the reader.
    const served = [t.pidB, t.name === 'redisfs' ? redis.pid : undefined].filter((p): p is number => p !== undefined);
    const cpu0 = served.map(cpuSeconds);
    const cold = await runJob({ kind: 'seqRead', file, block: MiB, passes: 1 }, JOB_TIMEOUT_MS);
    const cpu = served.reduce((sum, p, i) => sum + cpuSeconds(p) - cpu0[i]!, 0) + (cold.extra.cpuSeconds as number);
    coldCpuMsPerMiB[t.name] = (cpu * 1000) / (cold.bytes / MiB);
    put('seqReadCold', t.name, mbps(cold));
    put('seqReadWarm', t.name, await median('seqReadWarm', t.name, async () => mbps(await runJob({ kind: 'seqRead', file, block: MiB, passes: 1 }, JOB_TIMEOUT_MS))));
  });

  // Small files: one process, then four at once (each in its own directory).
  await each('4 KiB files, 1 process', async (t) => {
    const n = sizes.smallFiles;
    put('smallCreate', t.name, rate(await runJob({ kind: 'smallCreate', dir: join(t.a, 'small'), count: n, size: 4096 }, JOB_TIMEOUT_MS)));
    put('smallStat', t.name, rate(await runJob({ kind: 'smallStat', dir: join(t.b, 'small') }, JOB_TIMEOUT_MS)));
    put('smallRead', t.name, rate(await runJob({ kind: 'smallRead', dir: join(t.b, 'small') }, JOB_TIMEOUT_MS)));
    put('smallDelete', t.name, rate(await runJob({ kind: 'smallDelete', dir: join(t.a, 'small') }, JOB_TIMEOUT_MS)));
  });
  // After the rows it bounds, with the file of the cold read still in the volume.
  if (wanted('Redis alone') || wanted('4 KiB files, 1 process') || wanted('sequential read (cold, warm)')) {
    say('Redis alone');
    // The chunks come into memory just freed, as in the cold read.
    try {
      redisAlone = await measureRedisAlone(redis.url, volume, Math.max(500, Math.round(sizes.smallFiles / 5)), 'seq.bin', dropAllCleanPages);
    } catch (err) {
      notes.push(`Redis alone: not measured (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    }
  }
  await each('4 KiB files, 4 processes', async (t) => {
    const dirs = (side: string): string[] => [0, 1, 2, 3].map((i) => join(side, `par${i}`));
    const par = async (jobs: Job[]): Promise<number> => rate(aggregate(await runJobs(jobs, JOB_TIMEOUT_MS)));
    const n = Math.round(sizes.smallFiles / 4);
    put('parCreate', t.name, await par(dirs(t.a).map((dir) => ({ kind: 'smallCreate', dir, count: n, size: 4096 }))));
    put('parStat', t.name, await par(dirs(t.b).map((dir) => ({ kind: 'smallStat', dir }))));
    put('parRead', t.name, await par(dirs(t.b).map((dir) => ({ kind: 'smallRead', dir }))));
    put('parDelete', t.name, await par(dirs(t.a).map((dir) => ({ kind: 'smallDelete', dir }))));
  });

  await each('mkdir, rename, unlink', async (t) => {
    const r = await runJob({ kind: 'meta', dir: join(t.a, 'meta'), count: sizes.metaOps }, JOB_TIMEOUT_MS);
    put('mkdir', t.name, r.extra.mkdirRate as number);
    put('rename', t.name, r.extra.renameRate as number);
    put('unlink', t.name, r.extra.unlinkRate as number);
  });

  await each('random 4 KiB reads', async (t) => {
    await runJob({ kind: 'seqWrite', file: join(t.a, 'rand.bin'), bytes: sizes.randBytes, block: MiB }, JOB_TIMEOUT_MS);
    put('randRead', t.name, await median('randRead', t.name, async () =>
      rate(await runJob({ kind: 'randRead', file: join(t.b, 'rand.bin'), count: sizes.randReads, block: 4096 }, JOB_TIMEOUT_MS))));
  });

  // Cross-host visibility. The null filesystem keeps no data (and is one mount): not measured.
  await each('cross-host visibility', async (t) => {
    if (t.name === 'null') return;
    for (const mode of ['new', 'overwrite'] as const) {
      const dir = `vis-${mode}`;
      const r = await runJob({
        kind: 'visibility', writeDir: join(t.a, dir), readDir: join(t.b, dir), mode, rounds: sizes.visRounds,
        timeoutMs: sizes.visTimeoutMs, budgetMs: sizes.visBudgetMs, pollUs: VIS_POLL_US,
      }, JOB_TIMEOUT_MS);
      const lat = (r.extra.latencies as number[]).sort((x, y) => x - y);
      const p = mode === 'new' ? 'visNew' : 'visOver';
      put(`${p}P50`, t.name, percentile(lat, 50));
      put(`${p}P99`, t.name, percentile(lat, 99));
      put(`${p}Max`, t.name, lat.length > 0 ? lat[lat.length - 1]! : NaN);
      put(`${p}Lost`, t.name, r.extra.lost as number);
      if ((r.extra.rounds as number) < sizes.visRounds) notes.push(`${t.name}: ${mode} visibility stopped after ${r.extra.rounds as number} of ${sizes.visRounds} rounds (time budget ${sizes.visBudgetMs / 1000} s)`);
    }
  });

  // A big read through FUSE, watching the serving process's peak RSS. For redisfs a third
  // host C with a cache smaller than the file re-reads the sequential file: every pass
  // churns the whole cache. The references re-read it on B.
  const passes = Math.max(1, Math.round(sizes.bigBytes / sizes.seqBytes));
  await each(`read ${sizeLabel(passes * sizes.seqBytes)} (peak RSS)`, async (t) => {
    if (t.name === 'local') return;
    let pid = t.pidB;
    let dir = t.b;
    let host: Awaited<ReturnType<typeof mountRedisfs>> | undefined;
    if (t.name === 'redisfs') {
      host = await mountRedisfs(join(root, 'mnt', 'C'), redis.url, volume, join(root, 'home'), { ...daemon, cacheSize: sizes.rssCache });
      pid = host.pid;
      dir = host.mnt;
    }
    if (pid === undefined) return;
    if (!host) writeFileSync(`/proc/${pid}/clear_refs`, '5'); // resets VmHWM
    try {
      const r = await runJob({ kind: 'seqRead', file: join(dir, 'seq.bin'), block: MiB, passes }, JOB_TIMEOUT_MS);
      put('bigRead', t.name, mbps(r));
      put('peakRss', t.name, memKiB(pid, 'VmHWM') / 1024);
    } finally {
      await host?.stop();
    }
  });

  // The FUSE bindings rows: their own null mounts and hosts, all stopped before the idle window.
  if (wanted('FUSE bindings')) {
    say('FUSE bindings');
    await measureBindings({
      root, redisUrl: redis.url, volume, daemon: { ...daemon, cacheSize: sizes.hostCache }, redisfs: rfs, nullRef, seqBytes: sizes.seqBytes,
      seconds: sizes.bindingSeconds, repeat: sizes.repeat, jobTimeoutMs: JOB_TIMEOUT_MS, put: putBinding, samples, say,
      note: (msg) => notes.push(msg),
    });
  }

  // Idle: every mount at rest, watched over the same window.
  if (wanted('idle CPU')) {
    say(`idle CPU over ${sizes.idleSeconds} s`);
    const idle = targets.filter((t) => t.pidB !== undefined);
    const before = idle.map((t) => cpuSeconds(t.pidB!));
    await new Promise((r) => setTimeout(r, sizes.idleSeconds * 1000));
    idle.forEach((t, i) => put('idleCpu', t.name, ((cpuSeconds(t.pidB!) - before[i]!) / sizes.idleSeconds) * 100));
  }

  redisStats?.close();
  say('stopping');
  for (const t of targets) await t.stop();
  await redis.stop();
  report(targets.map((t) => t.name));
  if (args.profile) process.stdout.write(`daemon logs and CPU profiles: ${logDir}\n`);
  removeTree(root);
}

function report(measured: TargetName[]): void {
  const rows = metrics({
    seqLabel: sizeLabel(sizes.seqBytes), files: sizes.smallFiles,
    bigLabel: sizeLabel(Math.max(1, Math.round(sizes.bigBytes / sizes.seqBytes)) * sizes.seqBytes), rssLimitMiB: sizes.rssCacheMiB + 200,
  });
  const free = spawnSync('free', ['-h']).stdout?.toString().split('\n')[1]?.trim().replace(/\s+/g, ' ') ?? '';
  const machine = `${availableParallelism()} cores, ${free}, Linux ${release()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end`;
  const out: string[] = [''];
  out.push(`redisfs benchmark (${args.quick ? 'quick' : 'full'} run, ${((Date.now() - t0) / 1000).toFixed(0)} s) on ${machine}`);
  out.push(`redisfs and null on --binding ${args.binding}; hosts A, B: --cache-size ${sizes.hostCache}; host C: --cache-size ${sizes.rssCache}. Ratios are redisfs ÷ reference.`);
  if (sizes.repeat > 1) out.push(`seq write, warm read, random read: median of ${sizes.repeat} runs; every other row: one run.`);
  out.push('');
  out.push(renderTable(rows, figures));
  const judged = rows.map((m) => ({ m, v: verdict(m, figures) })).filter((x) => x.v?.met !== undefined);
  const missed = judged.filter((x) => !x.v!.met);
  out.push('');
  out.push(`goals met: ${judged.length - missed.length} of ${judged.length}${missed.length ? `; missed: ${missed.map((x) => x.m.label).join('; ')}` : ''}`);
  const nullScaling = rows.flatMap((m) => {
    const r = referenceScaling(m, figures, 'null');
    return r === undefined ? [] : [`${m.label.replace(/^4 procs: /, '').replace(/, [AB]$/, '')} ${formatRatio(r)}`];
  });
  if (nullScaling.length) out.push(`the null's own 4 procs ÷ 1 proc (the ceiling of the ×1p goals here): ${nullScaling.join(', ')}`);
  if (redisAlone) {
    out.push(...redisAloneLines(redisAlone, {
      createNull: figures.smallCreate?.null, deleteNull: figures.smallDelete?.null, deleteSshfs: figures.smallDelete?.sshfs, coldNull: figures.seqReadCold?.null,
    }));
  }
  const coldLine = coldCpuLine();
  if (coldLine) out.push(coldLine);
  if (measured.includes('sshfs')) {
    const behind = rows.filter((m) => aheadOfPeer(m, figures) === false);
    out.push(`ahead of sshfs on ${rows.filter((m) => aheadOfPeer(m, figures) !== undefined).length - behind.length} compared rows${behind.length ? `; behind on: ${behind.map((m) => m.label).join('; ')}` : ' (all)'}`);
  }
  const bRows = bindingMetrics({ seqLabel: sizeLabel(sizes.seqBytes) });
  const bJudged = bRows.flatMap((m) => bindingVerdicts(m, bindingFigures)).filter((v) => v.met !== undefined);
  out.push('');
  out.push(`FUSE bindings: open+read+close of a 100-byte file on each null (kernel timeouts: entry ${NULL_TIMEOUTS.entry} s,`);
  out.push(`attr ${NULL_TIMEOUTS.attr} s), 1 process then 4 at once; stat: redisfs host B and null (--binding ${args.binding});`);
  out.push(`seq write: fresh hosts, lowlevel --writeback-cache vs --binding fuse-native. ${sizes.bindingSeconds} s per loop${sizes.repeat > 1 ? `; median of ${sizes.repeat} runs` : ''}.`);
  out.push('');
  out.push(renderBindingTable(bRows, bindingFigures));
  out.push('');
  out.push(`FUSE binding goals met: ${bJudged.filter((v) => v.met).length} of ${bJudged.length}`);
  for (const n of notes) out.push(`note: ${n}`);
  process.stdout.write(out.join('\n') + '\n');

  mkdirSync(BENCH_DIR, { recursive: true });
  const file = args.out ?? join(BENCH_DIR, `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({
    date: new Date().toISOString(), mode: args.quick ? 'quick' : 'full', machine, sizes, notes, measured, samples, redisAlone: redisAlone ?? null, coldCpuMsPerMiB,
    rows: rows.map((m) => ({
      id: m.id, label: m.label, unit: m.unit, higherIsBetter: m.higherIsBetter, figures: figures[m.id] ?? {},
      ratios: Object.fromEntries((['null', 'local', 'sshfs'] as const).map((r) => [r, ratio(m, figures, r) ?? null])),
      goal: verdict(m, figures) ?? null, aheadOfSshfs: aheadOfPeer(m, figures) ?? null,
    })),
    bindings: bRows.map((m) => ({
      id: m.id, label: m.label, unit: m.unit, subject: m.subject, figures: bindingFigures[m.id] ?? {},
      ratios: Object.fromEntries(m.refs.map((ref) => [ref, bindingRatio(m, bindingFigures, ref) ?? null])),
      goals: bindingVerdicts(m, bindingFigures).map((v) => ({ goal: v.goal, ref: v.ref ?? null, ratio: v.ratio ?? null, met: v.met ?? null })),
    })),
  }, null, 2) + '\n');
  process.stdout.write(`results: ${file}\n`);
}

// The cold read's CPU budget: what every process spent per MiB, and the rate that CPU alone
// would allow if the cores were never idle (cores ÷ CPU per MiB), against the null's rate.
function coldCpuLine(): string | undefined {
  const ours = coldCpuMsPerMiB.redisfs;
  const nul = coldCpuMsPerMiB.null;
  const nullRate = figures.seqReadCold?.null;
  if (ours === undefined || nul === undefined || !nullRate) return undefined;
  const cores = availableParallelism();
  const most = (cores * MiB) / (ours / 1000) / 1e6;
  return `cold read CPU per MiB in all processes (daemon, Redis, reader): redisfs ${ours.toFixed(2)} ms, null ${nul.toFixed(2)} ms; `
    + `on ${cores} cores that allows redisfs at most ${most.toFixed(0)} MB/s = ${(most / nullRate).toFixed(2)}× null`;
}

let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await stopAll();
  }
  process.exit(code);
}
process.once('SIGINT', () => void shutdown(130));
process.once('SIGTERM', () => void shutdown(143));

main().then(() => shutdown(0), async (err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.stderr.write(`bench: daemon logs kept in ${join(tmpdir(), `redisfs-bench-${process.pid}`, 'logs')}\n`);
  await shutdown(1);
});
