// Faults: Redis going away and coming back, Redis out of memory, a mount daemon killed
// mid-write, two hosts writing one file at once. For each: what was attempted, which errnos
// came back, bytes of acknowledged data lost (must be 0), and the longest single call (must
// stay under the configured --io-timeout plus a margin). The figures are printed at the end.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  dumpLogsOnFailure,
  expectErrno,
  freePort,
  makeTempDir,
  mountHost,
  RestartableRedis,
  runCli,
  sha256,
  sha256File,
  sleep,
  uniqueVolume,
  waitFor,
  type Host,
} from './support/index.js';

const IO_TIMEOUT_MS = 2000;
/** A call may take the io timeout plus this much (FUSE round trips, scheduling on 2 cores). */
const MARGIN_MS = 1500;

interface FaultFigures { attempted: number; ok: number; errnos: Record<string, number>; bytesLost: number; longestMs: number }
const figures = new Map<string, FaultFigures>();

/** Runs a file system call, recording its outcome and duration under a fault's name. */
async function attempt<T>(fault: string, call: () => Promise<T>): Promise<T | undefined> {
  let f = figures.get(fault);
  if (!f) figures.set(fault, (f = { attempted: 0, ok: 0, errnos: {}, bytesLost: 0, longestMs: 0 }));
  f.attempted++;
  const t0 = performance.now();
  try {
    const v = await call();
    f.ok++;
    return v;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'other';
    f.errnos[code] = (f.errnos[code] ?? 0) + 1;
    return undefined;
  } finally {
    f.longestMs = Math.max(f.longestMs, performance.now() - t0);
  }
}

function lost(fault: string, bytes: number): void {
  const f = figures.get(fault);
  if (f) f.bytesLost += bytes;
}

const servers: RestartableRedis[] = [];
const hosts: Host[] = [];
async function restartableRedis(extra: string[] = []): Promise<RestartableRedis> {
  const r = new RestartableRedis(await freePort(), await makeTempDir('redis-fault'), extra);
  await r.start();
  servers.push(r);
  return r;
}
async function host(volume: string, url: string, label: string, mountpoint?: string): Promise<Host> {
  const h = await mountHost({ volume, redisUrl: url, label, extraArgs: ['--io-timeout', String(IO_TIMEOUT_MS)], ...(mountpoint ? { mountpoint } : {}) });
  hosts.push(h);
  return h;
}
dumpLogsOnFailure(() => hosts);

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  await Promise.all(servers.map((s) => s.kill('SIGKILL')));
  const rows = [...figures].map(([name, f]) =>
    `${name.padEnd(34)} ${String(f.attempted).padStart(5)} ${String(f.ok).padStart(5)}  ${JSON.stringify(f.errnos).padEnd(28)} ${String(f.bytesLost).padStart(6)} ${f.longestMs.toFixed(0).padStart(7)}`);
  console.log(['fault                              tried    ok  errnos                       lost B  long ms', ...rows].join('\n'));
});

describe('Redis unreachable', () => {
  it('answers every call within the io timeout: cached files stay readable, the rest fails with EIO', async () => {
    const redis = await restartableRedis();
    const A = await host(uniqueVolume('outage'), redis.url, 'A');
    const content = 'cached before the outage';
    await fs.writeFile(A.p('kept'), content);
    expect(await fs.readFile(A.p('kept'), 'utf8')).toBe(content);
    await redis.kill('SIGKILL');
    const F = 'redis down';
    for (let i = 0; i < 5; i++) {
      expect(await attempt(F, () => fs.readFile(A.p('kept'), 'utf8'))).toBe(content);
      await attempt(F, () => fs.stat(A.p('kept')));
      await attempt(F, () => fs.writeFile(A.p(`new${i}`), 'x'));
      await attempt(F, () => fs.readdir(A.p('')));
    }
    const f = figures.get(F)!;
    expect(f.longestMs).toBeLessThan(IO_TIMEOUT_MS + MARGIN_MS);
    expect(Object.keys(f.errnos).every((c) => c === 'EIO'), JSON.stringify(f.errnos)).toBe(true);
    expect(f.ok).toBeGreaterThanOrEqual(10); // every read and stat of the cached file
  });

  it('reconnects by itself when Redis returns: no remount, acknowledged data intact', async () => {
    const redis = await restartableRedis(['--appendfsync', 'always']);
    const A = await host(uniqueVolume('reconnect'), redis.url, 'A');
    const B = await host(A.volume, redis.url, 'B');
    const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    await fs.writeFile(A.p('big'), data);
    await redis.kill('SIGKILL');
    await sleep(300);
    await redis.start();
    const F = 'redis killed and restarted';
    await waitFor(async () => expect(await attempt(F, () => fs.writeFile(A.p('after'), 'back').then(() => 'written'))).toBe('written'), { timeoutMs: 15_000 });
    // B reconnects on its own schedule (bounded back-off): poll, do not remount.
    await waitFor(async () => expect(await sha256File(B.p('big'))).toBe(sha256(data)), { timeoutMs: 15_000 });
    expect(await fs.readFile(B.p('after'), 'utf8')).toBe('back');
    // B dropped what it cached while unsubscribed: it sees a change made after the outage.
    await fs.writeFile(A.p('big'), 'small now');
    await waitFor(async () => expect(await fs.readFile(B.p('big'), 'utf8')).toBe('small now'));
    lost(F, 0);
  });

  it('fails a read of chunks not fetched yet with EIO within the io timeout while Redis stalls, and reads the whole file after', async () => {
    // The kernel retries a failed readahead page by page: each retry must not wait again.
    const redis = await restartableRedis();
    const A = await host(uniqueVolume('stall'), redis.url, 'A');
    const B = await host(A.volume, redis.url, 'B');
    const data = Buffer.alloc(12 * 1024 * 1024 + 5);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i, i); // every page its own
    await fs.writeFile(A.p('big'), data);
    // B learns the file and its chunk list, and fetches its first chunks (and those read ahead).
    const first = await fs.open(B.p('big'));
    await first.read(Buffer.alloc(1), 0, 1, 0);
    await first.close();
    await sleep(500);
    const F = 'redis stalled (SIGSTOP), chunk reads';
    const far = Buffer.alloc(4096);
    redis.pause();
    try {
      const fh = await fs.open(B.p('big')); // the chunk list is cached: no Redis
      try {
        expect(await attempt(F, () => fh.read(far, 0, far.length, 10 * 1024 * 1024))).toBeUndefined();
      } finally {
        await fh.close();
      }
    } finally {
      redis.resume();
    }
    const f = figures.get(F)!;
    expect(f.errnos).toEqual({ EIO: 1 });
    expect(f.longestMs).toBeLessThan(IO_TIMEOUT_MS + MARGIN_MS);
    await waitFor(async () => expect(await sha256File(B.p('big'))).toBe(sha256(data)), { timeoutMs: 5000 });
    lost(F, 0);
  });

  it('keeps every closed file across a graceful Redis restart with persistence on (AOF, fsync every second)', async () => {
    const redis = await restartableRedis(['--appendfsync', 'everysec']);
    const A = await host(uniqueVolume('restart'), redis.url, 'A');
    const F = 'redis restarted (SHUTDOWN)';
    const written = new Map<string, string>();
    for (let i = 0; i < 50; i++) {
      const body = `file ${i} `.repeat(i * 40);
      if ((await attempt(F, () => fs.writeFile(A.p(`f${i}`), body).then(() => 'written'))) === 'written') written.set(`f${i}`, body);
    }
    await redis.command('SHUTDOWN').catch(() => undefined);
    await redis.kill('SIGKILL');
    await redis.start();
    await waitFor(async () => expect(await fs.readFile(A.p('f1'), 'utf8')).toBe(written.get('f1')), { timeoutMs: 15_000 });
    for (const [name, body] of written) {
      const got = await fs.readFile(A.p(name), 'utf8').catch(() => '');
      if (got !== body) lost(F, Buffer.byteLength(body));
    }
    expect(figures.get(F)!.bytesLost).toBe(0);
  });
});

describe('Redis out of memory (maxmemory, noeviction)', () => {
  it('fails writes with ENOSPC, still reads and deletes, and the mount survives', async () => {
    const redis = await restartableRedis();
    const A = await host(uniqueVolume('oom'), redis.url, 'A');
    await fs.writeFile(A.p('keep'), 'kept');
    await fs.writeFile(A.p('victim'), Buffer.alloc(200_000, 1));
    const used = Number(/used_memory:(\d+)/.exec(await infoMemory(redis))?.[1]);
    await redis.command(`CONFIG SET maxmemory ${Math.max(used - 100_000, 1_000_000)}`);
    const F = 'redis out of memory';
    await expectErrno(fs.writeFile(A.p('big'), Buffer.alloc(4 * 1024 * 1024, 2)), 'ENOSPC');
    await attempt(F, () => fs.writeFile(A.p('big2'), Buffer.alloc(4 * 1024 * 1024, 2)));
    expect(await attempt(F, () => fs.readFile(A.p('keep'), 'utf8'))).toBe('kept');
    expect(await attempt(F, () => fs.unlink(A.p('victim')).then(() => 'deleted'))).toBe('deleted');
    expect(figures.get(F)!.errnos).toEqual({ ENOSPC: 1 });
    await redis.command('CONFIG SET maxmemory 0');
    await fs.writeFile(A.p('after'), 'room again');
    expect(await fs.readFile(A.p('after'), 'utf8')).toBe('room again');
  });

  it('refuses to mount a Redis that may evict keys, unless --allow-eviction', async () => {
    const redis = await restartableRedis(['--maxmemory-policy', 'allkeys-lru']);
    const mp = await makeTempDir('evict-mnt');
    const r = await runCli(['mount', mp, '--redis', redis.url, '--volume', uniqueVolume('evict')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^redisfs: .*maxmemory-policy.*allkeys-lru/);
    const A = await mountHost({ volume: uniqueVolume('evict'), redisUrl: redis.url, label: 'A', extraArgs: ['--allow-eviction'] });
    hosts.push(A);
    await fs.writeFile(A.p('ok'), 'mounted anyway');
  });
});

describe('a mount daemon killed mid-write (SIGKILL)', () => {
  it('leaves other hosts the old version or the new one, never a mix, and the mountpoint can be mounted again', async () => {
    const redis = await restartableRedis();
    const mountpoint = await makeTempDir('kill-mnt');
    const A = await host(uniqueVolume('kill'), redis.url, 'A', mountpoint);
    const B = await host(A.volume, redis.url, 'B');
    const oldData = Buffer.alloc(5 * 1024 * 1024, 0x61);
    await fs.writeFile(A.p('f'), oldData);
    // Start rewriting it on A (several chunks uploaded early), and kill A before close.
    const fh = await fs.open(A.p('f'), 'r+');
    await fh.write(Buffer.alloc(4 * 1024 * 1024, 0x62), 0, 4 * 1024 * 1024, 0);
    process.kill(A.pid, 'SIGKILL');
    await fh.close().catch(() => undefined);
    const F = 'mount daemon SIGKILLed';
    const seen = await attempt(F, () => fs.readFile(B.p('f')));
    expect(seen && sha256(seen)).toBe(sha256(oldData));
    // The dead daemon left a dead FUSE mount on A's mountpoint: mounting there again works.
    await A.stop();
    const A2 = await host(A.volume, redis.url, 'A2', mountpoint);
    expect(await sha256File(A2.p('f'))).toBe(sha256(oldData));
  });
});

describe('two hosts writing one file at once', () => {
  it('ends with one writer\'s whole content (the later commit), never a torn mix', async () => {
    const redis = await restartableRedis();
    const A = await host(uniqueVolume('race'), redis.url, 'A');
    const B = await host(A.volume, redis.url, 'B');
    const size = 3 * 1024 * 1024 + 5;
    for (let round = 0; round < 5; round++) {
      const a = Buffer.alloc(size, 0x41 + round);
      const b = Buffer.alloc(size, 0x61 + round);
      await Promise.all([fs.writeFile(A.p('shared'), a), fs.writeFile(B.p('shared'), b)]);
      const digests = new Set([sha256(a), sha256(b)]);
      await waitFor(async () => {
        const onA = await sha256File(A.p('shared'));
        expect(digests.has(onA)).toBe(true);
        expect(await sha256File(B.p('shared'))).toBe(onA);
      });
    }
  });
});

async function infoMemory(redis: RestartableRedis): Promise<string> {
  const { execFile } = await import('node:child_process');
  return await new Promise((resolve, reject) => execFile('redis-cli', ['-p', String(redis.port), 'INFO', 'memory'], (e, out) => (e ? reject(e) : resolve(out))));
}

// Keeps the unused-import checker quiet for helpers some runs skip.
void path;

describe('hostile or corrupt data in Redis', () => {
  it('answers EIO for the damaged file only, logs it, and keeps serving the rest', async () => {
    const redis = await restartableRedis();
    const A = await host(uniqueVolume('corrupt'), redis.url, 'A');
    const V = A.volume;
    const cli = (...args: string[]): Promise<string> => redisCliAt(redis.port, args);
    const F = 'corrupt metadata or chunks';
    await fs.writeFile(A.p('healthy'), 'fine');
    const big = Buffer.alloc(2 * 1024 * 1024 + 3, 5);
    await fs.writeFile(A.p('chunked'), big);
    for (const name of ['badtype', 'badsize']) await fs.writeFile(A.p(name), 'x');

    // A chunk whose bytes were changed: its checksum no longer matches.
    const chunkedIno = (await fs.stat(A.p('chunked'))).ino;
    const chunkId = (await cli('HGET', `rfs:{${V}}:c:${chunkedIno}`, '1')).trim();
    expect(chunkId).not.toBe('');
    await cli('SETRANGE', `rfs:${V}:k:${chunkId}`, '100', 'garbage');
    // An inode of an unknown type, an inode with an impossible size, an entry named with a '/'.
    await cli('HSET', `rfs:{${V}}:i:${(await fs.stat(A.p('badtype'))).ino}`, 't', 'z');
    await cli('HSET', `rfs:{${V}}:i:${(await fs.stat(A.p('badsize'))).ino}`, 's', '1e300');
    await cli('HSET', `rfs:{${V}}:e:1`, 'evil/name', `f${chunkedIno}`);
    await cli('HSET', `rfs:{${V}}:e:1`, 'garbled', 'not-an-entry');
    // A second host, whose caches hold nothing yet, meets the damage.
    const B = await host(V, redis.url, 'B');
    await expectErrno(fs.readFile(B.p('chunked')), 'EIO');
    await expectErrno(fs.stat(B.p('badtype')), 'EIO');
    await expectErrno(fs.stat(B.p('badsize')), 'EIO');
    expect(await attempt(F, () => fs.readFile(B.p('healthy'), 'utf8'))).toBe('fine');
    const names = await attempt(F, () => fs.readdir(B.p('')));
    expect(names).toContain('healthy');
    expect(names).not.toContain('evil/name');
    expect(names).not.toContain('garbled');
    expect(B.exited()).toBeUndefined();
    await waitFor(() => expect(B.stderr()).toMatch(/fails its checksum/));
  });

  it('refuses to mount a volume of an unknown format version, saying which', async () => {
    const redis = await restartableRedis();
    const A = await host(uniqueVolume('format'), redis.url, 'A');
    await redisCliAt(redis.port, ['HSET', `rfs:{${A.volume}}:vol`, 'format', '99']);
    const mp = await makeTempDir('format-mnt');
    const r = await runCli(['mount', mp, '--redis', redis.url, '--volume', A.volume]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^redisfs: .*format 99/);
  });
});

async function redisCliAt(port: number, args: string[]): Promise<string> {
  const { execFile } = await import('node:child_process');
  return await new Promise((resolve, reject) =>
    execFile('redis-cli', ['-p', String(port), ...args], (e, out) => (e ? reject(e) : resolve(out))));
}
