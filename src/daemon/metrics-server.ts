// `--metrics HOST:PORT`: Prometheus text at /metrics (prom-client) and the raw snapshot as JSON
// at /status. Every value is read from the mount's counters when scraped: nothing runs between
// scrapes.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { MountStatsSnapshot } from '../store/mounts.js';

export interface MetricsSource {
  snapshot(): MountStatsSnapshot;
  /** Labels and identity shown in /status. */
  describe(): Record<string, string | number>;
}

/** parseListen turns "127.0.0.1:9567", ":9567" or "9567" into a host and port (loopback by default). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*)\]?:)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --metrics address '${text}' (expected HOST:PORT, e.g. 127.0.0.1:9567)`);
  return { host: m[1] || '127.0.0.1', port };
}

/** buildRegistry declares the metrics, each collected from the source at scrape time. */
export function buildRegistry(src: MetricsSource): Registry {
  const registry = new Registry();
  let snap: MountStatsSnapshot = src.snapshot();
  const fresh = (): MountStatsSnapshot => (snap = src.snapshot());
  // prom-client Counters only go up by inc(); set them to the snapshot's totals by difference.
  const counter = (name: string, help: string, value: (s: MountStatsSnapshot) => number): void => {
    new Counter({
      name, help, registers: [registry],
      collect() { this.reset(); this.inc(value(snap)); },
    });
  };
  const gauge = (name: string, help: string, value: (s: MountStatsSnapshot) => number): void => {
    new Gauge({ name, help, registers: [registry], collect() { this.set(value(snap)); } });
  };
  // The first collector refreshes the snapshot; metrics are collected in registration order.
  new Gauge({ name: 'redisfs_up', help: '1 while the mount is serving', registers: [registry], collect() { fresh(); this.set(1); } });
  new Counter({
    name: 'redisfs_fuse_ops_total', help: 'FUSE operations answered, by op', labelNames: ['op'], registers: [registry],
    collect() { this.reset(); for (const [op, c] of Object.entries(snap.opsByName)) this.inc({ op }, c.count); },
  });
  new Counter({
    name: 'redisfs_fuse_op_errors_total', help: 'FUSE operations answered with an error, by op', labelNames: ['op'], registers: [registry],
    collect() { this.reset(); for (const [op, c] of Object.entries(snap.opsByName)) this.inc({ op }, c.errors); },
  });
  new Counter({
    name: 'redisfs_fuse_op_seconds_total', help: 'Time spent answering FUSE operations, by op', labelNames: ['op'], registers: [registry],
    collect() { this.reset(); for (const [op, c] of Object.entries(snap.opsByName)) this.inc({ op }, c.totalUs / 1e6); },
  });
  counter('redisfs_read_bytes_total', 'Bytes read through the mount', (s) => s.bytesRead);
  counter('redisfs_written_bytes_total', 'Bytes written through the mount', (s) => s.bytesWritten);
  counter('redisfs_cache_hits_total', 'Chunk cache hits', (s) => s.cache.hits);
  counter('redisfs_cache_misses_total', 'Chunk cache misses', (s) => s.cache.misses);
  gauge('redisfs_cache_bytes', 'Bytes of chunk data cached', (s) => s.cache.bytes);
  gauge('redisfs_cache_max_bytes', 'Chunk cache capacity in bytes', (s) => s.cache.maxBytes);
  counter('redisfs_redis_commands_total', 'Redis commands sent', (s) => s.redis.commands);
  counter('redisfs_redis_errors_total', 'Redis commands that failed', (s) => s.redis.errors);
  counter('redisfs_redis_seconds_total', 'Time waiting for Redis replies', (s) => s.redis.totalUs / 1e6);
  gauge('redisfs_redis_inflight', 'Redis commands awaiting a reply', (s) => s.redis.inflight);
  counter('redisfs_commits_total', 'File content commits', (s) => s.commits);
  counter('redisfs_invalidations_total', 'Invalidation messages received from other mounts', (s) => s.invalidations);
  gauge('redisfs_open_handles', 'Open file handles', (s) => s.openHandles);
  gauge('redisfs_dirty_bytes', 'Bytes written but not committed yet', (s) => s.dirtyBytes);
  return registry;
}

/** startMetricsServer listens on host:port; resolves once listening. */
export async function startMetricsServer(listen: string, src: MetricsSource): Promise<Server> {
  const { host, port } = parseListen(listen);
  const registry = buildRegistry(src);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (path === '/metrics') {
      registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType }).end(text);
      }, (err: unknown) => res.writeHead(500).end(String(err)));
    } else if (path === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...src.describe(), stats: src.snapshot() }) + '\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('see /metrics or /status\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  server.unref();
  return server;
}
