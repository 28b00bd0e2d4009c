// The bench's verdicts: how a row's goal is judged from one run's figures.
import { describe, expect, it } from 'vitest';
import { metrics } from '../src/bench/metrics.js';
import { referenceScaling, verdict, type Figures } from '../src/bench/table.js';
import { redisAloneLines } from '../src/bench/redis-alone.js';

const rows = metrics({ seqLabel: '1 GiB', files: 5000, bigLabel: '10 GiB', rssLimitMiB: 712 });
const row = (id: string) => rows.find((m) => m.id === id)!;

describe('bench goals', () => {
  const f: Figures = {
    smallStat: { redisfs: 40_000, null: 100_000 },
    parStat: { redisfs: 30_000, null: 90_000 },
  };

  it('judges a ratio goal against the reference measured in the same run', () => {
    const v = verdict(row('smallStat'), f)!;
    expect(v.ratio).toBeCloseTo(0.4);
    expect(v.met).toBe(false);
  });

  it('judges a parallel goal against redisfs with one process', () => {
    const v = verdict(row('parStat'), f)!;
    expect(v.ratio).toBeCloseTo(0.75);
    expect(v.met).toBe(false);
  });

  it("gives the null's own parallel scaling on the rows that have a parallel goal, and only there", () => {
    expect(referenceScaling(row('parStat'), f, 'null')).toBeCloseTo(0.9);
    expect(referenceScaling(row('smallStat'), f, 'null')).toBeUndefined();
    expect(referenceScaling(row('parCreate'), f, 'null')).toBeUndefined(); // not measured
  });
});

describe('Redis alone ceilings', () => {
  const alone = { pingUs: 200, createUs: 500, deleteUs: 250, chunkMBps: 700 };

  it("bounds a row by the null's time per file plus the Redis work done in series with it", () => {
    // null: 2,000 files/s = 500 µs per file; with 500 µs of scripts at most 1,000 files/s
    const [, ceilings] = redisAloneLines(alone, { createNull: 2000, deleteNull: 4000, deleteSshfs: 2000, coldNull: 1400 });
    expect(ceilings).toContain('create 0.50× null');
    // delete: 250 + 250 µs per file, 2,000 files/s: half the null, as fast as sshfs
    expect(ceilings).toContain('delete 0.50× null (1.00× sshfs)');
    expect(ceilings).toContain('cold read 0.50× null');
  });

  it('says only what was measured', () => {
    const lines = redisAloneLines({ ...alone, chunkMBps: NaN }, {});
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('chunks');
  });
});
