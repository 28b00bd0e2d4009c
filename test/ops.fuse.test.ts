// Operating redisfs: stats (values that move under load), the mount registry (a SIGKILLed
// mount detected stale and cleaned up), fsck (planted damage found by path and repaired), gc
// (a killed mount's uploads reclaimed, live files and live uploads untouched) and import (a
// tree round-trips byte for byte with its metadata).
import fs from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cliEnv,
  dumpLogsOnFailure,
  freePort,
  makeTempDir,
  mountHost,
  Prng,
  redisUrl,
  run,
  runCli,
  runOk,
  sha256,
  sha256File,
  tmpRoot,
  uniqueVolume,
  waitFor,
  type Host,
} from './support/index.js';

const MiB = 1024 * 1024;
// Fast heartbeats so that a killed mount goes stale within the test's patience.
const FAST = { REDISFS_HEARTBEAT_MS: '300', REDISFS_STALE_MS: '1500' };
const hosts: Host[] = [];
let redis: Redis;

dumpLogsOnFailure(() => hosts);

beforeAll(async () => {
  redis = new Redis(redisUrl(), { lazyConnect: true });
  await redis.connect();
});

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  redis.disconnect();
});

async function mount(volume: string, label: string, extraArgs: string[] = []): Promise<Host> {
  const h = await mountHost({ volume, label, env: FAST, extraArgs });
  hosts.push(h);
  return h;
}

function volArgs(volume: string): string[] {
  return ['--volume', volume, '--redis', redisUrl()];
}

/** The session a local mount registered, from the info file its daemon writes. */
async function sessionOf(h: Host): Promise<string> {
  const file = path.join(cliEnv().REDISFS_HOME!, 'run', `${encodeURIComponent(h.mountpoint)}.json`);
  return (JSON.parse(await fs.readFile(file, 'utf8')) as { session: string }).session;
}

function chunkKeysOf(volume: string, session: string): Promise<string[]> {
  return redis.keys(`rfs:${volume}:k:${Number(session).toString(36)}.*`);
}

describe('redisfs stats and --metrics', () => {
  it('shows ops, throughput, commits and Redis activity that move while load runs', async () => {
    const volume = uniqueVolume('stats');
    const port = await freePort();
    const A = await mount(volume, 'A', ['--metrics', `127.0.0.1:${port}`]);
    const rng = new Prng(7);
    const data = rng.bytes(2 * MiB);
    let loading = true;
    const load = (async () => {
      let i = 0;
      while (loading) {
        await fs.writeFile(A.p(`f${i % 4}`), data);
        expect(sha256(await fs.readFile(A.p(`f${i % 4}`)))).toBe(sha256(data));
        i++;
      }
      return i;
    })();
    const r = await runCli(['stats', ...volArgs(volume), '--json', '--count', '3', '--interval', '0.7']);
    const text = await runCli(['stats', A.mountpoint, '--count', '2', '--interval', '0.5']);
    loading = false;
    const files = await load;
    expect(r.code, r.stderr).toBe(0);
    const samples = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as {
      mounts: Array<{ session: string; mountpoint: string; stale: boolean; rates: Record<string, number>; counters: { bytesWritten: number; commits: number } }>;
      totals: { mounts: number; rates: Record<string, number> };
    });
    expect(samples).toHaveLength(3);
    const mine = samples.map((s) => s.mounts.find((m) => m.mountpoint === A.mountpoint)!);
    expect(mine.every((m) => m && !m.stale)).toBe(true);
    const best = (k: string): number => Math.max(...mine.map((m) => m.rates[k] ?? 0));
    expect(best('opsPerSec')).toBeGreaterThan(10);
    expect(best('writeMBps')).toBeGreaterThan(0.5);
    expect(best('readMBps')).toBeGreaterThan(0.5);
    expect(best('commitsPerSec')).toBeGreaterThan(0);
    expect(best('redisCmdsPerSec')).toBeGreaterThan(1);
    expect(mine[2]!.counters.bytesWritten).toBeGreaterThan(mine[0]!.counters.bytesWritten);
    expect(samples[2]!.totals.mounts).toBe(1);
    // The text view: a header, units, and one line per interval, all within 80 columns.
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/ops\/s.*wrMB\/s.*cmd\/s/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    // Prometheus text and JSON status.
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const written = Number(/^redisfs_written_bytes_total (\d+)/m.exec(metrics)?.[1]);
    expect(written).toBeGreaterThanOrEqual(files * data.length);
    expect(metrics).toMatch(/^redisfs_fuse_ops_total\{op="write"\} \d+/m);
    expect(metrics).toMatch(/^redisfs_redis_commands_total \d+/m);
    const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as { volume: string; stats: { commits: number } };
    expect(status.volume).toBe(volume);
    expect(status.stats.commits).toBeGreaterThanOrEqual(files);
    await A.stop();
    // A clean unmount deregisters.
    expect(await redis.hlen(`rfs:{${volume}}:mounts`)).toBe(0);
  });
});

describe('live mounts', () => {
  it('a SIGKILLed mount is seen stale, then reaped by another mount with the orphans it held', async () => {
    const volume = uniqueVolume('reap');
    const A = await mount(volume, 'A');
    const B = await mount(volume, 'B');
    const sessionB = await sessionOf(B);
    // B holds a file open and unlinks it: an orphan kept alive for B.
    await fs.writeFile(B.p('held'), 'held open');
    const fd = await fs.open(B.p('held'), 'r');
    const ino = (await fd.stat()).ino;
    await fs.unlink(B.p('held'));
    expect(await redis.hget(`rfs:{${volume}}:orphans`, String(ino))).toBe(sessionB);
    const st0 = await runCli(['status', ...volArgs(volume), '--json']);
    expect((JSON.parse(st0.stdout) as { mounts: unknown[] }).mounts).toHaveLength(2);

    process.kill(B.pid, 'SIGKILL');
    await waitFor(async () => {
      const st = await runCli(['status', ...volArgs(volume), '--json']);
      const mounts = (JSON.parse(st.stdout) as { mounts: Array<{ session: string; stale: boolean }> }).mounts;
      // Either caught while stale, or already reaped by A.
      expect(mounts.find((m) => m.session === sessionB)?.stale ?? true).toBe(true);
    }, { timeoutMs: 5000 });
    await waitFor(async () => {
      expect(await redis.hexists(`rfs:{${volume}}:mounts`, sessionB)).toBe(0);
      expect(await redis.hexists(`rfs:{${volume}}:orphans`, String(ino))).toBe(0);
      expect(await redis.exists(`rfs:{${volume}}:i:${ino}`)).toBe(0);
    }, { timeoutMs: 8000 });
    await fd.close().catch(() => undefined);
    await B.stop();
    // A still serves, and is the one live mount left.
    await fs.writeFile(A.p('after'), 'ok');
    const st = await runCli(['status', ...volArgs(volume)]);
    expect(st.stdout).toMatch(/mounts: 1 live, 0 stale/);
    await A.stop();
  });
});

describe('redisfs fsck', () => {
  it('finds a missing chunk, a dangling entry, a wrong nlink and a stale listing copy by path, and repairs them', async () => {
    const volume = uniqueVolume('fsck');
    const A = await mount(volume, 'A');
    await fs.mkdir(A.p('dir'));
    await fs.writeFile(A.p('dir', 'big'), new Prng(3).bytes(3 * MiB));
    await fs.writeFile(A.p('dir', 'small'), 'small');
    await fs.writeFile(A.p('linked'), 'two names');
    await fs.link(A.p('linked'), A.p('dir', 'second'));
    const clean = await runCli(['fsck', ...volArgs(volume)]);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/0 problem\(s\)/);

    const P = `rfs:{${volume}}:`;
    const bigIno = (await fs.stat(A.p('dir', 'big'))).ino;
    const smallIno = (await fs.stat(A.p('dir', 'small'))).ino;
    const dirIno = (await fs.stat(A.p('dir'))).ino;
    const chunk = await redis.hget(`${P}c:${bigIno}`, '1');
    expect(chunk).toBeTruthy();
    await redis.del(`rfs:${volume}:k:${chunk}`); // a missing chunk
    await redis.hset(`${P}e:${dirIno}`, 'ghost', 'f987654'); // a dangling entry
    // A wrong nlink, set by hand without touching ctime: the attributes the inode keeps packed
    // for listings (still nlink 1) would be trusted, and now differ from its fields.
    await redis.hset(`${P}i:${smallIno}`, 'n', '5');

    const found = await runCli(['fsck', ...volArgs(volume)]);
    expect(found.code).toBe(1);
    expect(found.stdout).toMatch(/missing-chunk +\/dir\/big: missing chunk\(s\) #1/);
    expect(found.stdout).toMatch(/dangling-entry +\/dir\/ghost/);
    expect(found.stdout).toMatch(/wrong-nlink +\/dir\/small: nlink 5, but 1 name/);
    expect(found.stdout).toMatch(/stale-listing-copy +\/dir\/small: the attributes packed for listings differ/);
    expect(found.stdout).toMatch(/4 problem\(s\)/);

    const fixed = await runCli(['fsck', ...volArgs(volume), '--repair']);
    expect(fixed.code, fixed.stdout).toBe(0);
    expect(fixed.stdout).toMatch(/4 problem\(s\), 4 repaired/);
    const again = await runCli(['fsck', ...volArgs(volume)]);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toMatch(/0 problem\(s\)/);
    expect(await redis.hget(`${P}i:${smallIno}`, 'n')).toBe('1');
    expect(await redis.hexists(`${P}e:${dirIno}`, 'ghost')).toBe(0);
    // The damaged range reads as zeros now instead of failing with EIO.
    const big = await fs.readFile(A.p('dir', 'big'));
    expect(big.length).toBe(3 * MiB);
    expect(big.subarray(MiB, 2 * MiB).equals(Buffer.alloc(MiB))).toBe(true);
    expect((await fs.stat(A.p('linked'))).nlink).toBe(2);

    // A file no entry names goes to /lost+found; a file open-unlinked on a live mount is fine.
    await fs.writeFile(A.p('lost'), 'lost and found');
    const lostIno = (await fs.stat(A.p('lost'))).ino;
    const held = await fs.open(A.p('dir', 'small'), 'r');
    await fs.unlink(A.p('dir', 'small'));
    await redis.hdel(`${P}e:1`, 'lost');
    const unreachable = await runCli(['fsck', ...volArgs(volume), '--repair']);
    expect(unreachable.stdout).toMatch(new RegExp(`unreachable +<inode ${lostIno}>: nlink 1 but no entry names it -> REPAIRED: moved to /lost\\+found/#${lostIno}`));
    expect(unreachable.stdout).toMatch(/1 problem\(s\), 1 repaired/);
    expect(await fs.readFile(A.p('lost+found', `#${lostIno}`), 'utf8')).toBe('lost and found');
    const buf = Buffer.alloc(5); // read, not readFile: libfuse2 cannot fstat an unlinked file
    await held.read(buf, 0, 5, 0);
    expect(buf.toString()).toBe('small');
    await held.close();
    await A.stop();
  });
});

describe('redisfs gc', () => {
  it('reclaims the uploads of a mount killed mid-write and never touches live files or live uploads', async () => {
    const volume = uniqueVolume('gc');
    const A = await mount(volume, 'A');
    const B = await mount(volume, 'B');
    const sessionA = await sessionOf(A);
    const sessionB = await sessionOf(B);
    const live = new Prng(11).bytes(3 * MiB + 5);
    await fs.writeFile(A.p('live'), live);
    // A is writing a file it has not closed yet: its filled chunks are uploaded, uncommitted.
    const pending = new Prng(12).bytes(2 * MiB + 100);
    const fa = await fs.open(A.p('pending'), 'w');
    await fa.write(pending);
    // B dies mid-write, with 3 full chunks uploaded and nothing committed.
    const fb = await fs.open(B.p('doomed'), 'w');
    await fb.write(new Prng(13).bytes(3 * MiB + 10));
    await waitFor(async () => expect((await chunkKeysOf(volume, sessionB)).length).toBeGreaterThanOrEqual(3));
    const aKeys = await chunkKeysOf(volume, sessionA);
    expect(aKeys.length).toBeGreaterThanOrEqual(5); // 4 of 'live', 2 of 'pending'
    process.kill(B.pid, 'SIGKILL');
    await fb.close().catch(() => undefined);
    await B.stop();

    // Until B is known dead its uploads are left alone.
    await waitFor(async () => {
      const r = await runCli(['gc', ...volArgs(volume), '--dry-run', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { unreferencedChunks: number }).unreferencedChunks).toBe(3);
    }, { timeoutMs: 6000 });
    expect((await chunkKeysOf(volume, sessionB)).length).toBe(3); // dry run deleted nothing
    const r = await runCli(['gc', ...volArgs(volume)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/reclaimed 3 unreferenced chunks \(3\.0M\)/);
    expect(await chunkKeysOf(volume, sessionB)).toHaveLength(0);
    for (const key of aKeys) expect(await redis.exists(key)).toBe(1);
    // The live upload commits fine afterwards, and every file reads back whole.
    await fa.close();
    expect(sha256(await fs.readFile(A.p('pending')))).toBe(sha256(pending));
    expect(sha256(await fs.readFile(A.p('live')))).toBe(sha256(live));
    const fsck = await runCli(['fsck', ...volArgs(volume)]);
    expect(fsck.code, fsck.stdout).toBe(0);
    await A.stop();
  });
});

describe('redisfs import', () => {
  let src: string;
  beforeAll(async () => {
    src = await makeTempDir('import-src');
    const rng = new Prng(21);
    await fs.mkdir(path.join(src, 'a', 'b', 'c'), { recursive: true });
    await fs.mkdir(path.join(src, 'empty'));
    for (let i = 0; i < 300; i++) await fs.writeFile(path.join(src, 'a', `s${i}`), rng.bytes(rng.int(0, 9000)));
    await fs.writeFile(path.join(src, 'a', 'b', 'large'), rng.bytes(2 * MiB + 12345));
    await fs.writeFile(path.join(src, 'a', 'b', 'c', 'exact'), rng.bytes(MiB));
    const sparse = await fs.open(path.join(src, 'sparse'), 'w');
    await sparse.write(Buffer.from('tail'), 0, 4, 3 * MiB);
    await sparse.close();
    await fs.writeFile(path.join(src, 'empty-file'), '');
    await fs.symlink('a/b/large', path.join(src, 'link'));
    await fs.symlink('nowhere', path.join(src, 'dangling'));
    await fs.link(path.join(src, 'a', 's1'), path.join(src, 'hard'));
    await fs.link(path.join(src, 'a', 's1'), path.join(src, 'a', 'b', 'hard2'));
    await run('mkfifo', [path.join(src, 'fifo')]);
    await fs.chmod(path.join(src, 'a', 's2'), 0o600);
    await fs.chmod(path.join(src, 'a', 'b', 'large'), 0o751);
    await fs.chmod(path.join(src, 'a', 'b', 'c'), 0o700);
    const old = new Date('2011-02-03T04:05:06.789Z');
    await fs.utimes(path.join(src, 'a', 's3'), old, old);
    await fs.utimes(path.join(src, 'a', 'b'), old, old);
    await fs.lutimes(path.join(src, 'link'), old, old);
  });

  it('round-trips a tree byte for byte with modes, times, symlinks and hard links, and resumes', async () => {
    const volume = uniqueVolume('import');
    const r = await runCli(['import', src, ...volArgs(volume), '--to', '/in/here'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ 304 files .*, 4 directories, 2 symlinks, 2 hard links, 1 special files/);
    expect(r.stdout).toMatch(/MB\/s, \d+ files\/s/);
    const A = await mount(volume, 'A');
    const dst = A.p('in', 'here');
    // diff cannot compare fifos (it says so, exit 1); the listing below covers the fifo.
    await runOk('diff', ['-r', '--no-dereference', '--exclude=fifo', src, dst]);
    // Every name's type, mode, owner, size (files), mtime to the ns, link count and hard-link identity.
    const listing = async (root: string): Promise<string> =>
      (await runOk('find', ['.', '-printf', '%p %y %m %U %G %n %T@ %l|%s\n'], { cwd: root }))
        .split('\n').filter(Boolean).map((l) => (l.includes(' d ') ? l.replace(/\|\d+$/, '') : l)).sort().join('\n');
    expect(await listing(dst)).toBe(await listing(src));
    const inoOf = async (p: string): Promise<number> => (await fs.stat(p)).ino;
    expect(await inoOf(path.join(dst, 'hard'))).toBe(await inoOf(path.join(dst, 'a', 's1')));
    expect(await inoOf(path.join(dst, 'a', 'b', 'hard2'))).toBe(await inoOf(path.join(dst, 'a', 's1')));
    expect(await sha256File(path.join(dst, 'a', 'b', 'large'))).toBe(await sha256File(path.join(src, 'a', 'b', 'large')));
    // A second run finds everything in place.
    const again = await runCli(['import', src, ...volArgs(volume), '--to', '/in/here'], { timeoutMs: 60_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/ 0 files .*, 0 directories/);
    expect(again.stdout).toMatch(/ 0 replaced, 0 errors/);
    // A changed source file is replaced on the next run, and only that one.
    await fs.writeFile(path.join(src, 'a', 's5'), 'changed');
    const third = await runCli(['import', src, ...volArgs(volume), '--to', '/in/here'], { timeoutMs: 60_000 });
    expect(third.stdout).toMatch(/ 1 files .* 1 replaced, 0 errors/s);
    await waitFor(async () => expect(await fs.readFile(path.join(dst, 'a', 's5'), 'utf8')).toBe('changed'));
    const fsck = await runCli(['fsck', ...volArgs(volume)]);
    expect(fsck.code, fsck.stdout).toBe(0);
    await A.stop();
    void tmpRoot;
  });
});
