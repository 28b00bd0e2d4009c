// Starting and stopping private redis-server instances on loopback ports.
// No vitest imports here: the global setup (main process) uses this module too.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

export interface RedisInstance {
  /** redis://[:password@]127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** Adds --requirepass. */
  password?: string;
  /** Parent directory for the server's working dir. @default os.tmpdir() */
  parentDir?: string;
  /** Extra redis-server arguments. */
  args?: string[];
  /** Called with the server's pid once it is spawned (e.g. to record it for cleanup). */
  onSpawn?: (pid: number) => void;
}

/** Returns a loopback TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Sends one inline command and resolves with the first reply line (e.g. "+PONG"). */
export async function redisCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`redis on port ${port}: no reply to ${command.split(' ')[0]} in ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${command}\r\n`));
    sock.on('data', (d: string) => {
      buf += d;
      const i = buf.indexOf('\r\n');
      if (i >= 0) {
        clearTimeout(timer);
        sock.destroy();
        resolve(buf.slice(0, i));
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** waitExit resolves true once the child has exited, false if it is still running after timeoutMs. */
export function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function startOnce(opts: StartRedisOptions, port: number): Promise<RedisInstance> {
  const dir = await mkdtemp(path.join(opts.parentDir ?? os.tmpdir(), 'redis-'));
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--daemonize', 'no',
    '--loglevel', 'warning',
    ...(opts.password !== undefined ? ['--requirepass', opts.password] : []),
    ...(opts.args ?? []),
  ];
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const collect = (d: Buffer): void => {
    log = (log + d.toString('utf8')).slice(-8192);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (!(await waitExit(child, 0))) {
        child.kill('SIGTERM');
        if (!(await waitExit(child, 5000))) {
          child.kill('SIGKILL');
          await waitExit(child, 5000);
        }
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const deadline = Date.now() + 10_000;
  for (;;) {
    const failed =
      spawnError ??
      (child.exitCode !== null || child.signalCode !== null
        ? new Error(`redis-server exited (${child.exitCode ?? child.signalCode}): ${log.trim()}`)
        : undefined);
    if (failed) {
      await stop();
      throw failed;
    }
    try {
      // Without AUTH a password-protected server answers -NOAUTH: that still proves it is up.
      const reply = await redisCommand(port, 'PING', 500);
      if (reply === '+PONG' || reply.startsWith('-NOAUTH')) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server on port ${port} not ready in 10 s: ${log.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const auth = opts.password !== undefined ? `:${encodeURIComponent(opts.password)}@` : '';
  return { url: `redis://${auth}127.0.0.1:${port}`, port, pid: child.pid ?? -1, stop };
}

/** Starts a redis-server without persistence on a free loopback port; retries on a port race. */
export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisInstance> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(opts, await freePort());
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}
