// Deletes chunks that left every chunk map more than a grace period ago. Readers on other hosts
// may still hold an old map for a moment, so nothing is deleted the instant it is replaced.
// Every mount runs one; deleting twice is harmless.
import type { RedisClient } from './connect.js';
import type { VolumeKeys } from './keys.js';
import type { ChunkStore } from './chunk-store.js';
import { log } from '../core/log.js';

export interface ReclaimerOptions {
  /** How long a released chunk stays readable, in ms. @default 600000 (10 min) */
  graceMs: number;
  /** Time between passes, in ms. @default 30000 */
  intervalMs: number;
  /** Chunks deleted per batch. @default 500 */
  batch: number;
}

export const DEFAULT_RECLAIMER: ReclaimerOptions = { graceMs: 600_000, intervalMs: 30_000, batch: 500 };

export class Reclaimer {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly redis: RedisClient, private readonly keys: VolumeKeys, private readonly chunks: ChunkStore,
    private readonly opts: ReclaimerOptions = DEFAULT_RECLAIMER) {}

  start(): void {
    const jitter = Math.floor(Math.random() * this.opts.intervalMs);
    this.timer = setTimeout(() => void this.tick(), jitter);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** pass deletes one batch of expired chunks and returns how many it deleted. */
  async pass(): Promise<number> {
    const ids = await this.redis.zrangebyscore(this.keys.reclaim, '-inf', Date.now() - this.opts.graceMs, 'LIMIT', 0, this.opts.batch);
    if (ids.length === 0) return 0;
    await this.chunks.delete(ids);
    await this.redis.zrem(this.keys.reclaim, ...ids);
    return ids.length;
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while ((await this.pass()) === this.opts.batch) { /* keep going while there is a backlog */ }
    } catch (err) {
      log.warn({ err: String(err) }, 'reclaim pass failed; will retry');
    } finally {
      this.running = false;
      if (this.timer) {
        this.timer = setTimeout(() => void this.tick(), this.opts.intervalMs);
        this.timer.unref();
      }
    }
  }
}
