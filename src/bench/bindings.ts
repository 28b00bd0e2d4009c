// The "FUSE bindings" section of the benchmark (issue 6), measured in the same run as the rest:
// - open+read+close of a 100-byte file, 1 and 4 processes, on three null filesystems: the C
//   libfuse3 low-level one (one thread), ours on the lowlevel addon (JS) and fuse-native's (JS on
//   libfuse2). All three get the same kernel entry/attr timeouts (redisfs' on lowlevel), so each
//   iteration costs every daemon the same requests: OPEN, READ, FLUSH, RELEASE (the name stays
//   cached; an open always reaches the daemon, and drops the page cache, so the read does too).
// - stat of a few unchanged files on redisfs host B, next to the null reference;
// - sequential write on a fresh host with --writeback-cache (lowlevel) against a fresh host on
//   --binding fuse-native, both on the bench's volume.
import { join } from 'node:path';
import { DEFAULT_LOWLEVEL_MOUNT_OPTIONS } from '../fuse/lowlevel/options.js';
import { buildCNull } from './c-null.js';
import type { Job, JobResult } from './jobs.js';
import type { BindingMetricId, BindingTarget } from './metrics.js';
import { aggregate, runJob, runJobs } from './run-workers.js';
import { mountNull, mountRedisfs, type DaemonOptions, type KernelTimeouts, type NullKind, type NullMount, type Target } from './targets.js';

export interface BindingRun {
  root: string;
  redisUrl: string;
  volume: string;
  /** How the bench's redisfs daemons are started (the binding is set here per host). */
  daemon: DaemonOptions;
  redisfs: Target;
  nullRef: Target;
  seqBytes: number;
  /** Length of each timed loop (open+read+close, stat), in seconds. */
  seconds: number;
  /** Runs of each workload, interleaved over its targets; the median counts. */
  repeat: number;
  jobTimeoutMs: number;
  put(id: BindingMetricId, t: BindingTarget, v: number): void;
  /** Every run, by `<row>/<target>`. */
  samples: Record<string, number[]>;
  say(msg: string): void;
  note(msg: string): void;
}

/** The kernel timeouts of every null on the open+read+close rows: redisfs' on lowlevel. */
export const NULL_TIMEOUTS: KernelTimeouts = { entry: DEFAULT_LOWLEVEL_MOUNT_OPTIONS.entryTimeout, attr: DEFAULT_LOWLEVEL_MOUNT_OPTIONS.attrTimeout };
const SMALL_FILE = 100;
const STAT_FILES = 4;
const MiB = 1 << 20;

/** The order the null targets are measured in, each round. */
const ORDER: readonly BindingTarget[] = ['nullC', 'nullLowlevel', 'nullFuseNative'];

const rate = (r: JobResult): number => r.ops / r.seconds;

export async function measureBindings(r: BindingRun): Promise<void> {
  await openReadRows(r);
  await statRow(r);
  await writebackRow(r);
}

// Each round measures every target once, in turn, so drift in the machine's load hits them alike.
async function interleaved(r: BindingRun, id: BindingMetricId, runs: [BindingTarget, (i: number) => Promise<number>][]): Promise<void> {
  r.say(`${id}: ${runs.map(([t]) => t).join(', ')}`);
  const got = new Map<BindingTarget, number[]>(runs.map(([t]) => [t, []]));
  for (let i = 0; i < r.repeat; i++) for (const [t, run] of runs) got.get(t)!.push(await run(i));
  for (const [t, values] of got) {
    r.samples[`${id}/${t}`] = [...values];
    values.sort((x, y) => x - y);
    r.put(id, t, values[Math.floor(values.length / 2)]!);
  }
}

async function openReadRows(r: BindingRun): Promise<void> {
  const mounts: { t: BindingTarget; m: NullMount; file: string }[] = [];
  const mount = async (t: BindingTarget, dir: string, kind: NullKind): Promise<void> => {
    const m = await mountNull(join(r.root, 'mnt', dir), kind);
    mounts.push({ t, m, file: join(m.mnt, 'file') });
  };
  try {
    const built = buildCNull(r.root);
    if ('error' in built) {
      r.say(`C libfuse3 null not built, its figures skipped: ${built.error}`);
      r.note(`C libfuse3 null not measured: ${built.error}`);
    }
    await Promise.all([
      'exe' in built ? mount('nullC', 'null-c', { binding: 'c', exe: built.exe, timeouts: NULL_TIMEOUTS }) : undefined,
      mount('nullLowlevel', 'null-lowlevel', { binding: 'lowlevel' }),
      mount('nullFuseNative', 'null-fuse-native', { binding: 'fuse-native', timeouts: NULL_TIMEOUTS }),
    ]);
    mounts.sort((x, y) => ORDER.indexOf(x.t) - ORDER.indexOf(y.t));
    // The JS nulls start empty: they get a file like the C null's.
    for (const x of mounts) {
      if (x.t !== 'nullC') await runJob({ kind: 'seqWrite', file: x.file, bytes: SMALL_FILE, block: SMALL_FILE }, r.jobTimeoutMs);
    }
    const loop = (file: string): Job => ({ kind: 'openRead', file, seconds: r.seconds });
    await interleaved(r, 'openRead1', mounts.map((x) => [x.t, async () => rate(await runJob(loop(x.file), r.jobTimeoutMs))]));
    await interleaved(r, 'openRead4', mounts.map((x) => [x.t, async () =>
      rate(aggregate(await runJobs([0, 1, 2, 3].map(() => loop(x.file)), r.jobTimeoutMs)))]));
  } finally {
    await Promise.all(mounts.map((x) => x.m.stop()));
  }
}

// The same few files, written on A, stat'ed again and again on B.
async function statRow(r: BindingRun): Promise<void> {
  const targets: [BindingTarget, Target][] = [['redisfs', r.redisfs], ['null', r.nullRef]];
  for (const [, t] of targets) await runJob({ kind: 'smallCreate', dir: join(t.a, 'stat'), count: STAT_FILES, size: 4096 }, r.jobTimeoutMs);
  await interleaved(r, 'statUnchanged', targets.map(([name, t]) => [name, async () => rate(await runJob({
    kind: 'statLoop', files: Array.from({ length: STAT_FILES }, (_, i) => join(t.b, 'stat', `f${i}`)), seconds: r.seconds,
  }, r.jobTimeoutMs))]));
}

// Two fresh hosts, so that neither has a cache filled by earlier rows; each file is deleted
// after its run (untimed).
async function writebackRow(r: BindingRun): Promise<void> {
  const home = join(r.root, 'home');
  const [wb, fn] = await Promise.all([
    mountRedisfs(join(r.root, 'mnt', 'W'), r.redisUrl, r.volume, home, { ...r.daemon, binding: 'lowlevel', mountArgs: ['--writeback-cache'] }),
    mountRedisfs(join(r.root, 'mnt', 'F'), r.redisUrl, r.volume, home, { ...r.daemon, binding: 'fuse-native' }),
  ]);
  try {
    const write = (dir: string, name: string) => async (i: number): Promise<number> => {
      const res = await runJob({ kind: 'seqWrite', file: join(dir, `${name}-${i}.bin`), bytes: r.seqBytes, block: MiB, unlink: true }, r.jobTimeoutMs);
      return res.bytes / res.seconds / 1e6;
    };
    await interleaved(r, 'seqWriteWb', [['redisfsWb', write(wb.mnt, 'wb')], ['redisfsFuseNative', write(fn.mnt, 'fn')]]);
  } finally {
    await Promise.all([wb.stop(), fn.stop()]);
  }
}
