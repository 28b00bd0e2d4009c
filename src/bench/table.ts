// The printed tables. Main: absolute figures per target, then redisfs's ratio to each reference,
// then the issue-3 goal of the row and whether it is met. FUSE bindings: one line per row and
// reference, with the issue-6 goals. Both fit 100 columns.
import {
  BINDING_TARGET_NAMES, type BindingGoal, type BindingMetric, type BindingMetricId, type BindingTarget, type Goal, type Metric,
  type MetricId,
} from './metrics.js';
import type { TargetName } from './targets.js';

export type Figures = Partial<Record<MetricId, Partial<Record<TargetName, number>>>>;

const TARGETS: readonly TargetName[] = ['redisfs', 'null', 'local', 'sshfs'];
const REFS: readonly TargetName[] = ['null', 'local', 'sshfs'];

export interface Verdict { goal: string; met: boolean | undefined; ratio: number | undefined }

/** verdict evaluates a row's goal from this run's figures. */
export function verdict(m: Metric, f: Figures): Verdict | undefined {
  const g = m.goal;
  if (!g) return undefined;
  const ours = f[m.id]?.redisfs;
  const goal = goalText(g);
  if (ours === undefined || Number.isNaN(ours)) return { goal, met: undefined, ratio: undefined };
  if (g.kind === 'max') return { goal, met: ours <= g.max, ratio: undefined };
  const base = g.kind === 'ratio' ? f[m.id]?.[g.ref] : f[g.of]?.redisfs;
  if (base === undefined || base === 0 || Number.isNaN(base)) return { goal, met: undefined, ratio: undefined };
  return { goal, met: ours / base >= g.min, ratio: ours / base };
}

export function goalText(g: Goal): string {
  if (g.kind === 'ratio') return `≥${g.min}×${g.ref}`;
  if (g.kind === 'self') return `≥${g.min}×1p`;
  return `≤${g.max}`;
}

/** ratio is redisfs ÷ reference on a row, when both were measured and comparable. */
export function ratio(m: Metric, f: Figures, ref: TargetName): number | undefined {
  if (!m.compare.includes(ref)) return undefined;
  const ours = f[m.id]?.redisfs;
  const theirs = f[m.id]?.[ref];
  if (ours === undefined || theirs === undefined || theirs === 0 || Number.isNaN(ours) || Number.isNaN(theirs)) return undefined;
  return ours / theirs;
}

/**
 * referenceScaling is a reference's own figure with 4 processes ÷ its one-process figure, on a
 * row whose goal is such scaling: for the null, what the binding and the kernel allow there on
 * this machine, which redisfs's ×1p goal is read against.
 */
export function referenceScaling(m: Metric, f: Figures, ref: TargetName): number | undefined {
  if (m.goal?.kind !== 'self') return undefined;
  const many = f[m.id]?.[ref];
  const one = f[m.goal.of]?.[ref];
  return usable(many) && usable(one) && one !== 0 ? many / one : undefined;
}

/** peerVerdict tells whether redisfs is ahead of sshfs on a row (undefined when not compared). */
export function aheadOfPeer(m: Metric, f: Figures): boolean | undefined {
  const ours = f[m.id]?.redisfs;
  const theirs = f[m.id]?.sshfs;
  if (!m.compare.includes('sshfs') || ours === undefined || theirs === undefined) return undefined;
  return m.higherIsBetter ? ours >= theirs : ours <= theirs;
}

export function formatNumber(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '–';
  const a = Math.abs(n);
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (a >= 1000) return Math.round(n).toLocaleString('en-US');
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a === 0) return '0';
  return n.toFixed(2);
}

export function formatRatio(r: number | undefined): string {
  if (r === undefined) return '';
  if (r >= 100) return r.toFixed(0);
  if (r >= 10) return r.toFixed(1);
  if (r >= 0.1) return r.toFixed(2);
  return r.toPrecision(1);
}

const W = { label: 22, unit: 6, num: 7, ratio: 6 };

export function renderTable(rows: Metric[], f: Figures): string {
  const lines: string[] = [];
  const head = [
    'workload'.padEnd(W.label), 'unit'.padEnd(W.unit),
    ...TARGETS.map((t) => t.padStart(W.num)),
    ...REFS.map((t) => `×${t}`.padStart(W.ratio)),
    ' goal',
  ].join(' ');
  lines.push(head, '─'.repeat(100));
  for (const m of rows) {
    const v = verdict(m, f);
    const mark = v?.met === undefined ? (v ? ' ?' : '') : v.met ? ' ✓' : ' ✗';
    const goal = v ? `${v.goal}${v.ratio !== undefined && m.goal?.kind === 'self' ? `: ${formatRatio(v.ratio)}` : ''}${mark}` : '';
    lines.push([
      m.label.padEnd(W.label), m.unit.padEnd(W.unit),
      ...TARGETS.map((t) => formatNumber(f[m.id]?.[t]).padStart(W.num)),
      ...REFS.map((t) => formatRatio(ratio(m, f, t)).padStart(W.ratio)),
      ` ${goal}`,
    ].join(' ').trimEnd());
  }
  return lines.join('\n');
}

// ---- FUSE bindings ------------------------------------------------------------------------------

export type BindingFigures = Partial<Record<BindingMetricId, Partial<Record<BindingTarget, number>>>>;

export interface BindingVerdict { goal: string; met: boolean | undefined; ratio: number | undefined; ref: BindingTarget | undefined }

function usable(n: number | undefined): n is number {
  return n !== undefined && !Number.isNaN(n);
}

/** bindingRatio is subject ÷ reference on a binding row, when both were measured. */
export function bindingRatio(m: BindingMetric, f: BindingFigures, ref: BindingTarget): number | undefined {
  const ours = f[m.id]?.[m.subject];
  const theirs = f[m.id]?.[ref];
  return usable(ours) && usable(theirs) && theirs !== 0 ? ours / theirs : undefined;
}

export function bindingGoalText(g: BindingGoal): string {
  return g.kind === 'ratio' ? `≥${g.min}×` : `≥${formatNumber(g.min)}`;
}

/** bindingVerdicts evaluates every goal of a binding row (met undefined: not measured). */
export function bindingVerdicts(m: BindingMetric, f: BindingFigures): BindingVerdict[] {
  return m.goals.map((g) => {
    if (g.kind === 'min') {
      const v = f[m.id]?.[m.subject];
      return { goal: bindingGoalText(g), met: usable(v) ? v >= g.min : undefined, ratio: undefined, ref: undefined };
    }
    const r = bindingRatio(m, f, g.ref);
    return { goal: bindingGoalText(g), met: r === undefined ? undefined : r >= g.min, ratio: r, ref: g.ref };
  });
}

const B = { label: 24, unit: 5, subject: 13, num: 8, ref: 19, ratio: 5 };

export function renderBindingTable(rows: BindingMetric[], f: BindingFigures): string {
  const lines = [[
    'FUSE bindings (issue 6)'.padEnd(B.label), 'unit'.padEnd(B.unit), 'measured'.padEnd(B.subject), 'value'.padStart(B.num),
    'reference'.padEnd(B.ref), 'value'.padStart(B.num), 'ratio'.padStart(B.ratio), 'goal',
  ].join(' '), '─'.repeat(100)];
  const mark = (v: BindingVerdict): string => `${v.goal}${v.met === undefined ? ' ?' : v.met ? ' ✓' : ' ✗'}`;
  for (const m of rows) {
    const verdicts = bindingVerdicts(m, f);
    m.refs.forEach((ref, i) => {
      const goals = verdicts.filter((v) => v.ref === ref || (i === 0 && v.ref === undefined)).map(mark).join(' ');
      lines.push([
        (i === 0 ? m.label : '').padEnd(B.label), (i === 0 ? m.unit : '').padEnd(B.unit),
        (i === 0 ? BINDING_TARGET_NAMES[m.subject] : '').padEnd(B.subject), (i === 0 ? formatNumber(f[m.id]?.[m.subject]) : '').padStart(B.num),
        BINDING_TARGET_NAMES[ref].padEnd(B.ref), formatNumber(f[m.id]?.[ref]).padStart(B.num),
        formatRatio(bindingRatio(m, f, ref)).padStart(B.ratio), goals,
      ].join(' ').trimEnd());
    });
  }
  return lines.join('\n');
}
