// The embedded default: with no --redis, a mount uses a redis-server of this host, started on
// first use with persistence on (AOF, fsync every second) and reused by later mounts.
import { spawn } from 'node:child_process';
import { mkdir, access } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ConnectError } from '../store/connect.js';
import { redisfsHome } from './paths.js';

export interface EmbeddedRedis { url: string; started: boolean }

export async function ensureEmbeddedRedis(timeoutMs = 10_000): Promise<EmbeddedRedis> {
  const dir = join(redisfsHome(), 'redis');
  const socket = join(dir, 'redis.sock');
  const url = `unix://${socket}`;
  if (await answers(socket)) return { url, started: false };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const args = [
    '--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir,
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction',
    '--daemonize', 'yes', '--pidfile', join(dir, 'redis.pid'), '--logfile', join(dir, 'redis.log'),
  ];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    child.on('error', (err: NodeJS.ErrnoException) => reject(new ConnectError(err.code === 'ENOENT'
      ? 'redis-server is not installed: install it (apt-get install redis-server) or pass --redis URL'
      : `cannot start redis-server: ${err.message}`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new ConnectError(`redis-server failed to start (exit ${code}); see ${join(dir, 'redis.log')}`))));
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await answers(socket)) return { url, started: true };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new ConnectError(`the embedded redis-server did not answer on ${socket}; see ${join(dir, 'redis.log')}`);
}

async function answers(socket: string): Promise<boolean> {
  try {
    await access(socket);
  } catch {
    return false;
  }
  const r = new Redis({ path: socket, lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}
