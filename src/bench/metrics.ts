// The rows of the benchmark tables: what each measures, which references it is compared with,
// and the target it is held to (issue 3 for the main table, issue 6 for the FUSE bindings).
import type { TargetName } from './targets.js';

export type MetricId =
  | 'seqWrite' | 'seqReadCold' | 'seqReadWarm'
  | 'smallCreate' | 'smallStat' | 'smallRead' | 'smallDelete'
  | 'parCreate' | 'parStat' | 'parRead' | 'parDelete'
  | 'mkdir' | 'rename' | 'unlink' | 'randRead'
  | 'visNewP50' | 'visNewP99' | 'visNewMax' | 'visNewLost'
  | 'visOverP50' | 'visOverP99' | 'visOverMax' | 'visOverLost'
  | 'bigRead' | 'peakRss' | 'idleCpu';

/** A goal a row is held to: a ratio to a reference or to another row, or an absolute bound. */
export type Goal =
  | { kind: 'ratio'; ref: TargetName; min: number }
  | { kind: 'self'; of: MetricId; min: number }
  | { kind: 'max'; max: number };

export interface Metric {
  id: MetricId;
  label: string;
  unit: string;
  /** Whether a bigger figure is better (throughput) or worse (latency, CPU, memory). */
  higherIsBetter: boolean;
  /** References a ratio is shown for (others are not comparable on this row). */
  compare: readonly TargetName[];
  goal?: Goal;
}

const ALL: readonly TargetName[] = ['null', 'local', 'sshfs'];
const PEERS: readonly TargetName[] = ['sshfs'];

/** metrics lists the rows in table order; labels carry the sizes of this run. */
export function metrics(s: { seqLabel: string; files: number; bigLabel: string; rssLimitMiB: number }): Metric[] {
  const thr = (id: MetricId, label: string, unit: string, goal?: Goal, compare = ALL): Metric =>
    ({ id, label, unit, higherIsBetter: true, compare, ...(goal ? { goal } : {}) });
  const low = (id: MetricId, label: string, unit: string, goal?: Goal, compare = PEERS): Metric =>
    ({ id, label, unit, higherIsBetter: false, compare, ...(goal ? { goal } : {}) });
  return [
    thr('seqWrite', `seq write ${s.seqLabel}, A`, 'MB/s', { kind: 'ratio', ref: 'null', min: 0.8 }),
    thr('seqReadCold', 'seq read, B cold', 'MB/s', { kind: 'ratio', ref: 'null', min: 0.6 }),
    thr('seqReadWarm', 'seq read, B warm', 'MB/s', { kind: 'ratio', ref: 'null', min: 0.85 }),
    thr('smallCreate', `${s.files} × 4K: create, A`, 'file/s', { kind: 'ratio', ref: 'null', min: 0.6 }),
    thr('smallStat', '4K: list+stat, B', 'file/s', { kind: 'ratio', ref: 'null', min: 0.6 }),
    thr('smallRead', '4K: read, B', 'file/s', { kind: 'ratio', ref: 'null', min: 0.5 }),
    thr('smallDelete', '4K: delete, A', 'file/s'),
    thr('parCreate', '4 procs: create, A', 'file/s', { kind: 'self', of: 'smallCreate', min: 1.5 }),
    thr('parStat', '4 procs: list+stat, B', 'file/s', { kind: 'self', of: 'smallStat', min: 1.5 }),
    thr('parRead', '4 procs: read, B', 'file/s', { kind: 'self', of: 'smallRead', min: 1.5 }),
    thr('parDelete', '4 procs: delete, A', 'file/s', { kind: 'self', of: 'smallDelete', min: 1.5 }),
    thr('mkdir', 'mkdir, A', 'ops/s'),
    thr('rename', 'rename, A', 'ops/s'),
    thr('unlink', 'unlink, A', 'ops/s'),
    thr('randRead', 'rand 4K read, B cached', 'IOPS', { kind: 'ratio', ref: 'null', min: 0.5 }),
    low('visNewP50', 'new file A→B: p50', 'ms'),
    low('visNewP99', 'new file A→B: p99', 'ms', { kind: 'max', max: 5 }),
    low('visNewMax', 'new file A→B: max', 'ms', { kind: 'max', max: 50 }),
    low('visNewLost', 'new file A→B: lost', 'rounds', { kind: 'max', max: 0 }),
    low('visOverP50', 'overwrite A→B: p50', 'ms'),
    low('visOverP99', 'overwrite A→B: p99', 'ms', { kind: 'max', max: 5 }),
    low('visOverMax', 'overwrite A→B: max', 'ms', { kind: 'max', max: 50 }),
    low('visOverLost', 'overwrite A→B: lost', 'rounds', { kind: 'max', max: 0 }),
    thr('bigRead', `read ${s.bigLabel}, host C`, 'MB/s', undefined, ['null', 'sshfs']),
    low('peakRss', 'peak RSS of that host', 'MiB', { kind: 'max', max: s.rssLimitMiB }, ['null', 'sshfs']),
    low('idleCpu', 'idle CPU of a mount', '% core', { kind: 'max', max: 1 }, ['null', 'sshfs']),
  ];
}

// ---- the FUSE bindings section (issue 6) ------------------------------------------------------

/** Who is measured on the rows of the FUSE bindings section. */
export type BindingTarget =
  | 'nullLowlevel' | 'nullC' | 'nullFuseNative' | 'redisfs' | 'null' | 'redisfsWb' | 'redisfsFuseNative';

export type BindingMetricId = 'openRead1' | 'openRead4' | 'statUnchanged' | 'seqWriteWb';

/** A goal of a binding row: a ratio of its subject to a reference, or an absolute floor. */
export type BindingGoal = { kind: 'ratio'; ref: BindingTarget; min: number } | { kind: 'min'; min: number };

export interface BindingMetric {
  id: BindingMetricId;
  label: string;
  unit: string;
  /** What the row measures; its ratios are subject ÷ reference (all rows: higher is better). */
  subject: BindingTarget;
  refs: readonly BindingTarget[];
  goals: readonly BindingGoal[];
}

export const BINDING_TARGET_NAMES: Readonly<Record<BindingTarget, string>> = {
  nullLowlevel: 'lowlevel null', nullC: 'C libfuse3 null', nullFuseNative: 'fuse-native null',
  redisfs: 'redisfs', null: 'null', redisfsWb: 'redisfs wb', redisfsFuseNative: 'redisfs fuse-native',
};

/** bindingMetrics lists the rows of the FUSE bindings section, with the targets of issue 6. */
export function bindingMetrics(s: { seqLabel: string }): BindingMetric[] {
  const nulls = ['nullC', 'nullFuseNative'] as const;
  return [
    { id: 'openRead1', label: 'open+read+close, 1 proc', unit: 'ops/s', subject: 'nullLowlevel', refs: nulls, goals: [] },
    {
      id: 'openRead4', label: 'open+read+close, 4 procs', unit: 'ops/s', subject: 'nullLowlevel', refs: nulls,
      goals: [{ kind: 'ratio', ref: 'nullC', min: 0.7 }, { kind: 'ratio', ref: 'nullFuseNative', min: 2 }],
    },
    { id: 'statUnchanged', label: 'stat unchanged file, B', unit: 'ops/s', subject: 'redisfs', refs: ['null'], goals: [{ kind: 'min', min: 100_000 }] },
    {
      id: 'seqWriteWb', label: `seq write ${s.seqLabel}, wb`, unit: 'MB/s', subject: 'redisfsWb', refs: ['redisfsFuseNative'],
      goals: [{ kind: 'ratio', ref: 'redisfsFuseNative', min: 1.5 }],
    },
  ];
}
