// For --profile: how many Redis commands of each kind a workload cost (INFO commandstats,
// read before and after it). Talks to the bench's own redis-server only.
import { Redis } from 'ioredis';

export class RedisStats {
  private readonly redis: Redis;
  private before = new Map<string, number>();

  constructor(url: string) {
    this.redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  }

  async begin(): Promise<void> {
    this.before = await this.read();
  }

  /** end returns the commands run since begin(), most frequent first (e.g. "evalsha 1000, hget 500"). */
  async end(): Promise<string> {
    const after = await this.read();
    const used: [string, number][] = [];
    for (const [cmd, n] of after) {
      const d = n - (this.before.get(cmd) ?? 0) - (cmd === 'info' ? 1 : 0);
      if (d > 0) used.push([cmd, d]);
    }
    return used.sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ');
  }

  close(): void {
    this.redis.disconnect();
  }

  private async read(): Promise<Map<string, number>> {
    const text = await this.redis.info('commandstats');
    const m = new Map<string, number>();
    for (const line of text.split('\n')) {
      const r = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
      if (r) m.set(r[1]!, Number(r[2]));
    }
    return m;
  }
}
