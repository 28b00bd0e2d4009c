// Counts operations and their latency, per op name: the raw material of `redisfs stats`.
export interface OpCounter { count: number; errors: number; totalUs: number; maxUs: number }

export class OpStats {
  readonly ops = new Map<string, OpCounter>();

  /** start returns a function that records the op's end (ok or failed). */
  start(op: string): (failed: boolean) => void {
    const t0 = process.hrtime.bigint();
    return (failed) => {
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      let c = this.ops.get(op);
      if (!c) this.ops.set(op, (c = { count: 0, errors: 0, totalUs: 0, maxUs: 0 }));
      c.count++;
      if (failed) c.errors++;
      c.totalUs += us;
      if (us > c.maxUs) c.maxUs = us;
    };
  }

  snapshot(): Record<string, OpCounter> {
    return Object.fromEntries([...this.ops].map(([k, v]) => [k, { ...v }]));
  }
}
