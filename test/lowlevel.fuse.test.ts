// What only the lowlevel binding does: kernel caches kept long and invalidated by other hosts'
// changes, files owned by the caller, interrupted requests. Skipped on fuse-native.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BINDING, dumpLogsOnFailure, freePort, redisUrl, HAVE_PYTHON3, interruptedCall, killedWhileWaiting, makeTempDir, mountHost, RestartableRedis,
  sleep, uniqueVolume, waitFor, type Host,
} from './support/index.js';

const LOWLEVEL = BINDING === 'lowlevel';
/** Another host's change must show well before the kernel's own timeout would expire it. */
const DEADLINE_MS = 2000;

const volume = uniqueVolume('lowlevel');
let A: Host;
let B: Host;
/** B's --metrics port: its /status counts the requests B's kernel sent. */
let metricsB = 0;
let serial = 0;
/** The host of the interrupt tests, on a Redis of their own that they pause. */
let I: Host | undefined;

beforeAll(async () => {
  if (!LOWLEVEL) return;
  // Kernel caches of an hour: only invalidations can make B see A's changes in time.
  // --allow-other: another user creates files in one test.
  const extraArgs = ['--kernel-cache', '3600', '--allow-other'];
  metricsB = await freePort();
  [A, B] = await Promise.all([
    mountHost({ volume, label: 'A', extraArgs }),
    mountHost({ volume, label: 'B', extraArgs: [...extraArgs, '--metrics', `127.0.0.1:${metricsB}`] }),
  ]);
});
afterAll(async () => {
  await Promise.all([A?.stop(), B?.stop()]);
});
dumpLogsOnFailure(() => [A, B, I]);

/** The commands B's daemon has sent Redis so far (its /status). */
async function commands(): Promise<number> {
  const status = await (await fetch(`http://127.0.0.1:${metricsB}/status`)).json() as { stats: { redis: { commands: number } } };
  return status.stats.redis.commands;
}

async function freshDir(label: string): Promise<[string, string]> {
  const rel = `${label}-${serial++}`;
  await fs.mkdir(A.p(rel));
  await waitFor(async () => expect((await fs.stat(B.p(rel))).isDirectory()).toBe(true), { timeoutMs: DEADLINE_MS });
  return [A.p(rel), B.p(rel)];
}

// Runs in `cwd` as `uid` (libuv changes directory before dropping privileges, so the run's
// private temp root above need not be searchable by that user).
function redisCli(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('redis-cli', ['-p', String(port), ...args], (e, out) => (e ? reject(e) : resolve(out))));
}

function runAs(uid: number, cwd: string, cmd: string, args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { uid, gid: uid, cwd, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
}

describe.skipIf(!LOWLEVEL)('lowlevel binding with kernel caches of an hour', () => {
  it('shows B an overwrite on A although B\'s kernel cached the old size and attributes', async () => {
    const [a, b] = await freshDir('over');
    await fs.writeFile(path.join(a, 'f'), 'short');
    await waitFor(async () => expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('short'), { timeoutMs: DEADLINE_MS });
    expect((await fs.stat(path.join(b, 'f'))).size).toBe(5); // now cached in B's kernel
    await fs.writeFile(path.join(a, 'f'), 'a longer content');
    await waitFor(async () => {
      expect((await fs.stat(path.join(b, 'f'))).size).toBe(16);
      expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('a longer content');
    }, { timeoutMs: DEADLINE_MS });
  });

  it('rereads an unchanged file from B\'s page cache, and still shows B an overwrite on A at once', async () => {
    const [a, b] = await freshDir('keep');
    await fs.writeFile(path.join(a, 'f'), 'version 1');
    await waitFor(async () => expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('version 1'), { timeoutMs: DEADLINE_MS });
    const reads = async (): Promise<number> => {
      const status = await (await fetch(`http://127.0.0.1:${metricsB}/status`)).json() as { stats: { opsByName: Record<string, { count: number }> } };
      return status.stats.opsByName.read?.count ?? 0;
    };
    const before = await reads();
    for (let i = 0; i < 100; i++) expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('version 1');
    expect(await reads() - before).toBeLessThan(5);
    await fs.writeFile(path.join(a, 'f'), 'version 2'); // same size
    await waitFor(async () => expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('version 2'), { timeoutMs: DEADLINE_MS });
  });

  it('drops B\'s kernel caches when B\'s subscription comes back: changes made meanwhile show', async () => {
    // (Names included: the next test relies on B\'s kernel forgetting what it knew.)
    const [a, b] = await freshDir('resub');
    await fs.writeFile(path.join(a, 'f'), 'before the gap');
    await waitFor(async () => expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('before the gap'), { timeoutMs: DEADLINE_MS });
    // Every subscriber is cut off; ioredis resubscribes after ~100 ms. A's change lands in the
    // gap, so B never hears of it: only the drop at resubscription can end B's stale pages.
    const port = Number(new URL(redisUrl()).port);
    await redisCli(port, ['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    await fs.writeFile(path.join(a, 'f'), 'during the gap');
    await waitFor(async () => expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('during the gap'), { timeoutMs: 5000 });
  });

  it('shows B a delete, a rename and a mode change made on A', async () => {
    const [a, b] = await freshDir('names');
    await fs.writeFile(path.join(a, 'x'), 'x');
    await fs.writeFile(path.join(a, 'y'), 'y');
    await waitFor(async () => expect((await fs.readdir(b)).sort()).toEqual(['x', 'y']), { timeoutMs: DEADLINE_MS });
    await fs.stat(path.join(b, 'x'));
    await fs.stat(path.join(b, 'y'));
    await fs.unlink(path.join(a, 'x'));
    await fs.rename(path.join(a, 'y'), path.join(a, 'z'));
    await fs.chmod(path.join(a, 'z'), 0o600);
    await waitFor(async () => {
      await expect(fs.stat(path.join(b, 'x'))).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(fs.stat(path.join(b, 'y'))).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await fs.stat(path.join(b, 'z'))).mode & 0o777).toBe(0o600);
    }, { timeoutMs: DEADLINE_MS });
  });

  it('gives a file the uid and gid of the process that creates it', async () => {
    const [a] = await freshDir('owner');
    await fs.chmod(a, 0o777);
    expect(await runAs(65534, a, 'touch', ['mine'])).toBe(0);
    expect(await runAs(65534, a, 'mkdir', ['dir'])).toBe(0);
    for (const n of ['mine', 'dir']) {
      const st = await fs.stat(path.join(a, n));
      expect([st.uid, st.gid]).toEqual([65534, 65534]);
    }
  });

  it('keeps invalidating B\'s kernel at once after A deletes hundreds of files B\'s kernel knew', async () => {
    // Deleting a name lets B's kernel drop its inode before the inode's own invalidation comes:
    // that one must not hold up the ones after it (see JUST_REPLIED_MS in the adapter).
    const [a, b] = await freshDir('many');
    const n = 300;
    for (let i = 0; i < n; i++) await fs.writeFile(path.join(a, `f${i}`), 'x');
    await fs.writeFile(path.join(a, 'last'), 'before');
    await waitFor(async () => expect((await fs.readdir(b)).length).toBe(n + 1), { timeoutMs: DEADLINE_MS });
    for (const name of await fs.readdir(b)) await fs.readFile(path.join(b, name));
    expect(await fs.readFile(path.join(b, 'last'), 'utf8')).toBe('before');
    await new Promise((r) => setTimeout(r, 200)); // past the window in which a reply is just given
    for (let i = 0; i < n; i++) await fs.unlink(path.join(a, `f${i}`));
    await fs.writeFile(path.join(a, 'last'), 'after!');
    await waitFor(async () => expect(await fs.readFile(path.join(b, 'last'), 'utf8')).toBe('after!'), { timeoutMs: DEADLINE_MS });
  });

  it('gives B what A\'s changes made with their invalidations: B shows a chmod, an overwrite and a new file without asking Redis', async () => {
    const [a, b] = await freshDir('pushed');
    await fs.writeFile(path.join(a, 'f'), 'version 0');
    await waitFor(async () => expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('version 0'), { timeoutMs: DEADLINE_MS });
    const before = await commands();
    const rounds = 7;
    for (let i = 1; i <= rounds; i++) {
      const mode = 0o600 | i;
      await fs.chmod(path.join(a, 'f'), mode);
      await waitFor(async () => expect((await fs.stat(path.join(b, 'f'))).mode & 0o777).toBe(mode), { timeoutMs: DEADLINE_MS });
      const content = `version ${i}${'.'.repeat(i)}`;
      await fs.writeFile(path.join(a, 'f'), content);
      await waitFor(async () => expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe(content), { timeoutMs: DEADLINE_MS });
      await fs.writeFile(path.join(a, `new-${i}`), content);
      await waitFor(async () => expect(await fs.readFile(path.join(b, `new-${i}`), 'utf8')).toBe(content), { timeoutMs: DEADLINE_MS });
    }
    // Each change read back would cost B at least one command; the few left are B's own
    // heartbeat and stats, sent every second.
    expect(await commands() - before).toBeLessThan(rounds);
  });

  it('deletes from Redis every file A deletes once A\'s kernel lets it go: no orphan is left behind', async () => {
    // A's kernel referenced each file it made, so each unlinked one is kept as an orphan (an
    // open of it may be on its way) until the kernel forgets it; those are purged in batches.
    const [a] = await freshDir('purged');
    const n = 100;
    const inos: number[] = [];
    for (let i = 0; i < n; i++) {
      await fs.writeFile(path.join(a, `f${i}`), 'x');
      inos.push((await fs.stat(path.join(a, `f${i}`))).ino);
    }
    for (let i = 0; i < n; i++) await fs.unlink(path.join(a, `f${i}`));
    const port = Number(new URL(redisUrl()).port);
    await waitFor(async () => {
      expect(await redisCli(port, ['HLEN', `rfs:{${volume}}:orphans`])).toBe('0\n');
      expect(await redisCli(port, ['EXISTS', ...inos.map((ino) => `rfs:{${volume}}:i:${ino}`)])).toBe('0\n');
    }, { timeoutMs: DEADLINE_MS });
  });

  it('reads on B the 4 KiB files A makes in a directory B looks at, without asking Redis', async () => {
    const [a, b] = await freshDir('pages');
    const files = Array.from({ length: 20 }, (_, i) => ({ name: `p${i}`, data: Buffer.alloc(4096, i + 1) }));
    for (const f of files) await fs.writeFile(path.join(a, f.name), f.data);
    await waitFor(async () => expect((await fs.readdir(b)).length).toBe(files.length), { timeoutMs: DEADLINE_MS });
    const before = await commands();
    // Backwards: in listing or name order, B would load them 32 per round trip anyway.
    for (const f of [...files].reverse()) expect((await fs.readFile(path.join(b, f.name))).equals(f.data)).toBe(true);
    // Each file's content came with its commit's invalidation (up to a page): what is left is
    // B's heartbeat and stats, sent every second.
    expect(await commands() - before).toBeLessThan(files.length / 4);
  });

  it('lists and stats on B a directory A made and filled, without asking Redis', async () => {
    const [a, b] = await freshDir('filled');
    const before = await commands();
    const names = Array.from({ length: 50 }, (_, i) => `f${i}`);
    for (const n of names) await fs.writeFile(path.join(a, n), n);
    await fs.rm(path.join(a, 'f7'));
    await fs.rename(path.join(a, 'f8'), path.join(a, 'renamed'));
    const expected = names.filter((n) => n !== 'f7' && n !== 'f8').concat('renamed').sort();
    await waitFor(async () => expect((await fs.readdir(b)).sort()).toEqual(expected), { timeoutMs: DEADLINE_MS });
    const rounds = 10;
    for (let i = 0; i < rounds; i++) {
      expect((await fs.readdir(b)).sort()).toEqual(expected);
      for (const n of expected) expect((await fs.stat(path.join(b, n))).size).toBe(n === 'renamed' ? 2 : n.length);
    }
    // B heard of the directory when it was made (empty), then of every name and its
    // attributes: a listing read from Redis would cost one command each round; what is left
    // is B's heartbeat and stats, sent every second.
    expect(await commands() - before).toBeLessThan(rounds / 2);
  });
});

// A paused Redis (SIGSTOP) keeps its connections: every command waits for the io timeout. A
// process waiting on such a request is stuck in the kernel (even SIGKILL waits for the answer)
// unless the kernel's FUSE_INTERRUPT gets one.
const IO_TIMEOUT_MS = 8000;
/** An interrupted request must be answered well before the io timeout. */
const PROMPT_MS = 2000;

describe.skipIf(!LOWLEVEL)('lowlevel binding, interrupted requests (Redis paused)', () => {
  let redis: RestartableRedis;
  let n = 0;
  const cold = (): string => I!.p(`never-looked-up-${n++}`);

  beforeAll(async () => {
    redis = new RestartableRedis(await freePort(), await makeTempDir('redis-intr'), []);
    await redis.start();
    const volume = uniqueVolume('intr');
    // A name I has never looked up is asked of Redis only in a directory I does not know
    // complete: a fresh volume's empty root would be, so another host gives it a name first.
    const seed = await mountHost({ volume, redisUrl: redis.url, label: 'seed' });
    await fs.mkdir(seed.p('seeded'));
    await seed.stop();
    I = await mountHost({ volume, redisUrl: redis.url, label: 'I',
      extraArgs: ['--io-timeout', String(IO_TIMEOUT_MS), '--kernel-cache', '3600'] });
  });
  afterAll(async () => {
    redis?.resume();
    await I?.stop();
    await redis?.kill('SIGKILL');
  });

  async function whilePaused<T>(work: () => Promise<T>): Promise<T> {
    redis.pause();
    try {
      return await work();
    } finally {
      redis.resume();
    }
  }

  it.skipIf(!HAVE_PYTHON3)('fails a lookup waiting on Redis with EINTR as soon as the caller catches a signal', async () => {
    const got = await whilePaused(() => interruptedCall('open', cold(), 300));
    expect(got.result).toBe('EINTR');
    expect(got.ms).toBeLessThan(300 + PROMPT_MS);
  });

  it('lets a process killed while it waits on a lookup die at once', async () => {
    const ms = await whilePaused(() => killedWhileWaiting('stat', [cold()], 300));
    expect(ms).toBeLessThan(PROMPT_MS);
  });

  it.skipIf(!HAVE_PYTHON3)('runs an interrupted chmod to completion: its change may already be in Redis', async () => {
    const f = I!.p('chmod-me');
    await fs.writeFile(f, 'x', { mode: 0o644 });
    await fs.stat(f); // the kernel holds name and attributes for an hour: chmod goes straight to SETATTR
    const got = await whilePaused(async () => {
      const call = interruptedCall('chmod', f, 300);
      await sleep(1500);
      redis.resume();
      return await call;
    });
    expect(got).toMatchObject({ result: 'ok' });
    expect(got.ms).toBeGreaterThan(1000);
    expect((await fs.stat(f)).mode & 0o777).toBe(0o600);
  });

  it('keeps serving once Redis answers again: the late answers to abandoned requests are dropped', async () => {
    const name = cold();
    await whilePaused(async () => {
      await killedWhileWaiting('stat', [name], 300);
      if (HAVE_PYTHON3) await interruptedCall('open', cold(), 300);
    });
    // Redis answers in order: once this write is through, so are the abandoned lookups.
    await waitFor(async () => {
      await fs.writeFile(I!.p('after'), 'back');
      expect(await fs.readFile(I!.p('after'), 'utf8')).toBe('back');
    }, { timeoutMs: 15_000 });
    await expect(fs.stat(name)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(I!.exited()).toBeUndefined();
    expect(I!.stderr()).not.toMatch(/unexpected failure|reply failed/);
  });
});
