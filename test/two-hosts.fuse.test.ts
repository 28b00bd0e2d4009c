// Two daemons mounting one volume play two hosts: what one closes, the other sees within a
// bounded deadline (polled, never slept), without remounting.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dumpLogsOnFailure,
  expectErrno,
  mountHost,
  Prng,
  redisUrl,
  run,
  runOk,
  sha256,
  sha256File,
  uniqueVolume,
  waitFor,
  type Host,
  type WaitForResult,
} from './support/index.js';

/** How long a change closed on one host may take to show on the other. */
const DEADLINE_MS = 2000;
const MiB = 1024 * 1024;

const volume = uniqueVolume('twohosts');
let A: Host;
let B: Host;
let serial = 0;
const latencies: number[] = [];

beforeAll(async () => {
  [A, B] = await Promise.all([mountHost({ volume, label: 'A' }), mountHost({ volume, label: 'B' })]);
});
afterAll(async () => {
  if (latencies.length > 0) {
    const sorted = [...latencies].sort((x, y) => x - y);
    const q = (p: number): string => (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(1);
    console.log(`two-hosts: visibility latency over ${sorted.length} checks: p50 ${q(0.5)} ms, max ${q(1)} ms`);
  }
  await Promise.all([A?.stop(), B?.stop()]);
});
dumpLogsOnFailure(() => [A, B]);

/** Polls `fn` on the other host until it passes, at most DEADLINE_MS; records the latency. */
async function seen<T>(what: string, fn: () => T | Promise<T>): Promise<WaitForResult<T>> {
  const r = await waitFor(fn, { timeoutMs: DEADLINE_MS, message: `the other host did not see: ${what}` });
  latencies.push(r.elapsedMs);
  return r;
}

/** A fresh directory, created on A and already visible on B; returns [pathOnA, pathOnB]. */
async function freshDir(label: string): Promise<[string, string]> {
  const rel = `${label}-${serial++}`;
  await fs.mkdir(A.p(rel));
  await seen(`directory ${rel}`, async () => expect((await fs.stat(B.p(rel))).isDirectory()).toBe(true));
  return [A.p(rel), B.p(rel)];
}

describe('two mounts of one volume', () => {
  it('show a file created on A, with its content, on B', async () => {
    const [a, b] = await freshDir('create');
    await fs.writeFile(path.join(a, 'f'), 'hello from A');
    await seen('new file content', async () => expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('hello from A'));
    expect((await fs.readdir(b)).sort()).toEqual(['f']);
  });

  it('show a name B had just looked up as missing, once A creates it (no stale negative entry)', async () => {
    const [a, b] = await freshDir('negative');
    await expectErrno(fs.stat(path.join(b, 'later')), 'ENOENT');
    await expect(fs.readdir(b)).resolves.toEqual([]);
    await fs.writeFile(path.join(a, 'later'), 'now here');
    await seen('file created after a failed lookup', async () =>
      expect(await fs.readFile(path.join(b, 'later'), 'utf8')).toBe('now here'),
    );
    await seen('readdir lists it', async () => expect(await fs.readdir(b)).toEqual(['later']));
  });

  it('show names B adds to a directory A made and listed, though A knew all its names', async () => {
    const [a, b] = await freshDir('complete');
    await fs.writeFile(path.join(a, 'mine'), 'A');
    expect(await fs.readdir(a)).toEqual(['mine']);
    await expectErrno(fs.stat(path.join(a, 'theirs')), 'ENOENT');
    await fs.writeFile(path.join(b, 'theirs'), 'B');
    await seen('a file B created', async () => expect(await fs.readFile(path.join(a, 'theirs'), 'utf8')).toBe('B'));
    await fs.rename(path.join(b, 'theirs'), path.join(b, 'moved'));
    await seen('a file B renamed', async () => expect(await fs.readFile(path.join(a, 'moved'), 'utf8')).toBe('B'));
    await fs.mkdir(path.join(b, 'sub'));
    await seen('a directory B made', async () => expect((await fs.stat(path.join(a, 'sub'))).isDirectory()).toBe(true));
    expect((await fs.readdir(a)).sort()).toEqual(['mine', 'moved', 'sub']);
  });

  it('show an overwrite on A on B: new content and new size', async () => {
    const [a, b] = await freshDir('overwrite');
    await fs.writeFile(path.join(a, 'f'), 'version one, long');
    await seen('first version', async () => expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('version one, long'));
    await fs.writeFile(path.join(a, 'f'), 'v2');
    await seen('second version', async () => {
      expect((await fs.stat(path.join(b, 'f'))).size).toBe(2);
      expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('v2');
    });
  });

  it('show an in-place write, an append and a truncate on A on B', async () => {
    const [a, b] = await freshDir('inplace');
    const fa = path.join(a, 'f');
    await fs.writeFile(fa, 'aaaaaaaaaa');
    await seen('initial', async () => expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('aaaaaaaaaa'));
    const fh = await fs.open(fa, 'r+');
    await fh.write('XY', 4);
    await fh.close();
    await seen('in-place write', async () => expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('aaaaXYaaaa'));
    await fs.appendFile(fa, '+tail');
    await seen('append', async () => expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('aaaaXYaaaa+tail'));
    await fs.truncate(fa, 3);
    await seen('truncate', async () => {
      expect((await fs.stat(path.join(b, 'f'))).size).toBe(3);
      expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('aaa');
    });
  });

  it('show data fsynced on A, whose descriptor is still open, on B', async () => {
    const [a, b] = await freshDir('fsync');
    const fh = await fs.open(path.join(a, 'f'), 'w');
    try {
      await fh.write('durable');
      await fh.sync();
      await seen('fsynced data', async () => expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('durable'));
    } finally {
      await fh.close();
    }
  });

  it('give B the new content on reopen after A rewrote a file B had open (close-to-open)', async () => {
    const [a, b] = await freshDir('cto');
    await fs.writeFile(path.join(a, 'f'), 'old content');
    await seen('old', async () => expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('old content'));
    const onB = await fs.open(path.join(b, 'f'), 'r');
    try {
      await fs.writeFile(path.join(a, 'f'), 'NEW CONTENT');
      await seen('new content on reopen', async () => expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('NEW CONTENT'));
    } finally {
      await onB.close();
    }
  });

  it('give B the files A rewrote after B, reading a directory in order, loaded them ahead', async () => {
    const [a, b] = await freshDir('ahead');
    const names = Array.from({ length: 60 }, (_, i) => `f${String(i).padStart(2, '0')}`);
    for (const n of names) await fs.writeFile(path.join(a, n), `old ${n}`);
    await seen('all 60 files', async () => expect(await fs.readdir(b)).toHaveLength(60));
    // B reads the first files in name order: the next ones are loaded ahead.
    for (const n of names.slice(0, 10)) expect(await fs.readFile(path.join(b, n), 'utf8')).toBe(`old ${n}`);
    for (const n of names.slice(10)) await fs.writeFile(path.join(a, n), `new ${n}`);
    for (const n of names.slice(10)) {
      await seen(`rewritten ${n}`, async () => expect(await fs.readFile(path.join(b, n), 'utf8')).toBe(`new ${n}`));
    }
  });

  it('list on B, over many listing pages, every name A made once with its size, and A\'s later changes', async () => {
    const [a, b] = await freshDir('pages');
    // Sizes differ per file, so that a stat answered from a listing page shows whose attributes it holds.
    const names = Array.from({ length: 1500 }, (_, i) => `file-${String(i).padStart(4, '0')}`);
    await Promise.all(names.map((n, i) => fs.writeFile(path.join(a, n), Buffer.alloc(i % 97))));
    await seen('1500 names', async () => expect(await fs.readdir(b)).toHaveLength(1500));
    const sizes = async (): Promise<Map<string, number>> => {
      const out = new Map<string, number>();
      for (const e of await fs.readdir(b)) out.set(e, (await fs.stat(path.join(b, e))).size);
      return out;
    };
    const first = await sizes();
    expect([...first.keys()].sort()).toEqual(names);
    names.forEach((n, i) => expect(first.get(n), n).toBe(i % 97));
    // A removes some, grows others and adds new ones; B's next listing shows all of it.
    for (const n of names.slice(0, 100)) await fs.unlink(path.join(a, n));
    for (const n of names.slice(100, 200)) await fs.writeFile(path.join(a, n), Buffer.alloc(500));
    for (const n of ['new-1', 'new-2']) await fs.writeFile(path.join(a, n), 'x');
    await seen('the changes listed', async () => {
      const now = await sizes();
      expect(now.size).toBe(1402);
      expect(now.has(names[0]!)).toBe(false);
      expect(now.get(names[150]!)).toBe(500);
      expect(now.get(names[1000]!)).toBe(1000 % 97);
      expect(now.get('new-2')).toBe(1);
    });
  });

  it('list every name again on B after rewinddir, while the listing\'s next pages are still being read', async () => {
    const [a, b] = await freshDir('rewind');
    await Promise.all(Array.from({ length: 1200 }, (_, i) => fs.writeFile(path.join(a, `f${i}`), '')));
    await seen('1200 names', async () => expect(await fs.readdir(b)).toHaveLength(1200));
    // Each rewind starts the listing again on the same open directory, whatever pages of the
    // previous pass were on their way; a fresh mount has nothing of it cached.
    const perl = 'opendir(my $d, $ARGV[0]) or die "$!"; for my $k (1..5) { my @n = map { scalar readdir($d) } 1..(50 * $k); rewinddir($d); } my @all = readdir($d); print scalar(@all), "\\n";';
    const C = await mountHost({ volume, label: 'C' });
    try {
      expect((await runOk('perl', ['-e', perl, C.p(path.basename(b))])).trim()).toBe('1202'); // and . and ..
      expect(await fs.readdir(C.p(path.basename(b)))).toHaveLength(1200);
    } finally {
      await C.stop();
    }
  });

  it('show a multi-chunk file written on A with an equal sha256 on B', async () => {
    const [a, b] = await freshDir('big');
    const data = new Prng(5).bytes(3 * MiB + 777);
    await fs.writeFile(path.join(a, 'big'), data);
    await seen('size', async () => expect((await fs.stat(path.join(b, 'big'))).size).toBe(data.length));
    expect(await sha256File(path.join(b, 'big'))).toBe(sha256(data));
    // Rewrite one middle chunk only: B must not keep serving the old chunk.
    const fh = await fs.open(path.join(a, 'big'), 'r+');
    const patch = Buffer.alloc(4096, 0xee);
    await fh.write(patch, 0, patch.length, MiB + 100);
    await fh.close();
    patch.copy(data, MiB + 100);
    await seen('patched chunk', async () => expect(await sha256File(path.join(b, 'big'))).toBe(sha256(data)));
  });

  it('show a rename on A on B: the old name is gone, the new one present', async () => {
    const [a, b] = await freshDir('rename');
    await fs.writeFile(path.join(a, 'old'), 'moving');
    await seen('before', async () => expect(await fs.readFile(path.join(b, 'old'), 'utf8')).toBe('moving'));
    await fs.rename(path.join(a, 'old'), path.join(a, 'new'));
    await seen('rename', async () => {
      await expectErrno(fs.stat(path.join(b, 'old')), 'ENOENT');
      expect(await fs.readFile(path.join(b, 'new'), 'utf8')).toBe('moving');
    });
    expect(await fs.readdir(b)).toEqual(['new']);
  });

  it('show a rename that replaces a file on A on B', async () => {
    const [a, b] = await freshDir('replace');
    await fs.writeFile(path.join(a, 'target'), 'old target');
    await seen('before', async () => expect(await fs.readFile(path.join(b, 'target'), 'utf8')).toBe('old target'));
    await fs.writeFile(path.join(a, 'tmp'), 'new target');
    await fs.rename(path.join(a, 'tmp'), path.join(a, 'target'));
    await seen('replaced', async () => expect(await fs.readFile(path.join(b, 'target'), 'utf8')).toBe('new target'));
    await seen('tmp gone', async () => expect(await fs.readdir(b)).toEqual(['target']));
  });

  it('never show B a missing target while A replaces it by rename over and over', async () => {
    const [a, b] = await freshDir('atomic');
    await fs.writeFile(path.join(a, 'target'), 'v-initial');
    await seen('initial', async () => expect(await fs.readFile(path.join(b, 'target'), 'utf8')).toBe('v-initial'));
    let stop = false;
    let probes = 0;
    let error: unknown;
    const prober = (async () => {
      while (!stop) {
        try {
          await fs.stat(path.join(b, 'target'));
          probes++;
        } catch (e) {
          error ??= e;
          return;
        }
      }
    })();
    try {
      for (let i = 0; i < 100 && error === undefined; i++) {
        await fs.writeFile(path.join(a, `tmp${i}`), `v-${i}`);
        await fs.rename(path.join(a, `tmp${i}`), path.join(a, 'target'));
      }
    } finally {
      stop = true;
      await prober;
    }
    expect(error, `B's stat failed after ${probes} successful ones`).toBeUndefined();
    await seen('last version', async () => expect(await fs.readFile(path.join(b, 'target'), 'utf8')).toBe('v-99'));
  });

  it('show a delete on A on B', async () => {
    const [a, b] = await freshDir('delete');
    await fs.writeFile(path.join(a, 'f'), 'doomed');
    await seen('before', async () => expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('doomed'));
    await fs.unlink(path.join(a, 'f'));
    await seen('delete', async () => {
      await expectErrno(fs.stat(path.join(b, 'f')), 'ENOENT');
      expect(await fs.readdir(b)).toEqual([]);
    });
  });

  it('show B a new file, not the old one, when A deletes and recreates a name', async () => {
    const [a, b] = await freshDir('recreate');
    await fs.writeFile(path.join(a, 'f'), 'first incarnation');
    const ino1 = (await seen('first', async () => fs.stat(path.join(b, 'f')))).value.ino;
    await fs.unlink(path.join(a, 'f'));
    await fs.writeFile(path.join(a, 'f'), 'second');
    await seen('second', async () => {
      const st = await fs.stat(path.join(b, 'f'));
      expect(st.ino).not.toBe(ino1);
      expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('second');
    });
  });

  it('show chmod, chown and utimens on A on B', async () => {
    const [a, b] = await freshDir('attrs');
    const fa = path.join(a, 'f');
    await fs.writeFile(fa, 'x');
    await seen('file', async () => fs.stat(path.join(b, 'f')));
    await fs.chmod(fa, 0o751);
    await seen('chmod', async () => expect((await fs.stat(path.join(b, 'f'))).mode & 0o7777).toBe(0o751));
    await fs.chown(fa, 1001, 2002);
    await seen('chown', async () => {
      const st = await fs.stat(path.join(b, 'f'));
      expect([st.uid, st.gid]).toEqual([1001, 2002]);
    });
    const t = new Date('2012-12-12T12:12:12.012Z');
    await fs.utimes(fa, t, t);
    // fs.utimes keeps µs (libuv), so compare to the millisecond.
    await seen('utimens', async () => expect(Math.abs((await fs.stat(path.join(b, 'f'))).mtimeMs - t.getTime())).toBeLessThan(1));
  });

  it('show mkdir and rmdir on A on B', async () => {
    const [a, b] = await freshDir('dirs');
    await fs.mkdir(path.join(a, 'sub'));
    await seen('mkdir', async () => expect((await fs.stat(path.join(b, 'sub'))).isDirectory()).toBe(true));
    await fs.writeFile(path.join(a, 'sub', 'f'), 'in sub');
    await seen('file in sub', async () => expect(await fs.readFile(path.join(b, 'sub', 'f'), 'utf8')).toBe('in sub'));
    await fs.unlink(path.join(a, 'sub', 'f'));
    await fs.rmdir(path.join(a, 'sub'));
    await seen('rmdir', async () => {
      await expectErrno(fs.stat(path.join(b, 'sub')), 'ENOENT');
      expect(await fs.readdir(b)).toEqual([]);
    });
  });

  it('show a directory renamed on A on B, contents and all', async () => {
    const [a, b] = await freshDir('dirrename');
    await fs.mkdir(path.join(a, 'd1'));
    await fs.writeFile(path.join(a, 'd1', 'f'), 'inside');
    await seen('d1/f', async () => expect(await fs.readFile(path.join(b, 'd1', 'f'), 'utf8')).toBe('inside'));
    await fs.rename(path.join(a, 'd1'), path.join(a, 'd2'));
    await seen('d2/f', async () => {
      await expectErrno(fs.stat(path.join(b, 'd1')), 'ENOENT');
      expect(await fs.readFile(path.join(b, 'd2', 'f'), 'utf8')).toBe('inside');
    });
  });

  it('show symlinks and hard links made on A on B', async () => {
    const [a, b] = await freshDir('links');
    await fs.writeFile(path.join(a, 'f'), 'target');
    await fs.symlink('f', path.join(a, 'sym'));
    await fs.link(path.join(a, 'f'), path.join(a, 'hard'));
    await seen('links', async () => {
      expect(await fs.readlink(path.join(b, 'sym'))).toBe('f');
      const f = await fs.stat(path.join(b, 'f'));
      const h = await fs.stat(path.join(b, 'hard'));
      expect(h.ino).toBe(f.ino);
      expect(f.nlink).toBe(2);
    });
  });

  it('show extended attributes set on A on B', async () => {
    const [a, b] = await freshDir('xattr');
    await fs.writeFile(path.join(a, 'f'), 'x');
    await runOk('setfattr', ['-n', 'user.host', '-v', 'A', path.join(a, 'f')]);
    await seen('xattr', async () => {
      const r = await run('getfattr', ['--absolute-names', '--only-values', '-n', 'user.host', path.join(b, 'f')]);
      expect(r.stdout).toBe('A');
    });
    await runOk('setfattr', ['-x', 'user.host', path.join(a, 'f')]);
    await seen('xattr removed', async () => {
      const r = await run('getfattr', ['--absolute-names', '--only-values', '-n', 'user.host', path.join(b, 'f')]);
      expect(r.code).not.toBe(0);
    });
  });

  it('work in both directions: B writes, A sees', async () => {
    const [a, b] = await freshDir('reverse');
    await fs.writeFile(path.join(b, 'from-b'), 'hello from B');
    await seen('B to A', async () => expect(await fs.readFile(path.join(a, 'from-b'), 'utf8')).toBe('hello from B'));
  });

  it('keep every inode\'s attributes packed for listings equal to its own fields, after all of the above', async () => {
    // Every script that changes an inode repacks it (lua/prelude.lua); one that forgot would
    // show up here as an inode whose packed copy disagrees with its fields.
    const redis = new Redis(redisUrl());
    try {
      const fields = ['t', 'm', 'u', 'g', 'n', 's', 'r', 'v', 'k', 'at', 'mt', 'ct'];
      let checked = 0;
      for await (const keys of redis.scanStream({ match: `rfs:{${volume}}:i:*`, count: 1000 })) {
        for (const key of keys as string[]) {
          const [pa, pt, ...raw] = await redis.hmget(key, 'pa', 'pt', ...fields);
          if (pa === null && key.endsWith(':i:1')) continue; // the root, made by initVolume, is never listed
          expect(`${pa},${pt}`, key).toBe(raw.map((f) => f ?? '').join(','));
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(1000);
    } finally {
      redis.disconnect();
    }
  });

  it('list the attributes an inode has, not a packed copy left stale by a writer that did not repack', async () => {
    const [a, b] = await freshDir('stale-pack');
    await fs.writeFile(path.join(a, 'f'), 'ten bytes!');
    const redis = new Redis(redisUrl());
    try {
      const ino = (await fs.stat(path.join(a, 'f'))).ino;
      const key = `rfs:{${volume}}:i:${ino}`;
      const [pa, pt] = await redis.hmget(key, 'pa', 'pt');
      expect(pa).toMatch(/^f,.*,10,/);
      // What an older writer would leave: new fields (size 999, a later ctime), the old packed
      // copy, and an invalidation naming only the inode.
      await redis.hset(key, 's', '999', 'ct', String(BigInt(pt!.split(',')[2]!) + 1n));
      await redis.publish(`rfs:{${volume}}:inval`, `older-writer\0i${ino}`);
      await seen('the size an older writer set, in a listing', async () => {
        expect(await fs.readdir(b)).toEqual(['f']);
        expect((await fs.stat(path.join(b, 'f'))).size).toBe(999);
      });
    } finally {
      redis.disconnect();
    }
  });

  it('keep both daemons alive throughout', () => {
    expect(A.exited()).toBeUndefined();
    expect(B.exited()).toBeUndefined();
  });
});

// A create that races another host's change: A's kernel looked the name up (absent, as far as
// A knew) just before the other host's create of that name, or removal of its directory,
// reached Redis, whose news is still on its way to A. The other host's change is made here
// straight in Redis, its invalidation published later or never, so that A learns of it from
// its own create's answer.
describe('a file A creates while another host changes that name or its directory (the news not there yet)', () => {
  let redis: Redis;
  beforeAll(() => { redis = new Redis(redisUrl()); });
  afterAll(() => redis?.disconnect());
  async function plant(dir: string, name: string, fields: Record<string, string>, inline?: string): Promise<number> {
    const ino = await redis.hincrby(`rfs:{${volume}}:ctr`, 'ino', 1);
    const t = String(BigInt(Date.now()) * 1_000_000n);
    await redis.hset(`rfs:{${volume}}:i:${ino}`, { u: '0', g: '0', r: '0', v: '0', k: '0', at: t, mt: t, ct: t, ...fields });
    if (inline !== undefined) await redis.set(`rfs:{${volume}}:d:${ino}`, inline);
    await redis.hset(`rfs:{${volume}}:e:${(await fs.stat(dir)).ino}`, name, `${fields.t}${ino}`);
    return ino;
  }
  /** The planted name's invalidation, as the host that made it would publish it. */
  async function announce(dir: string, name: string): Promise<void> {
    await redis.publish(`rfs:{${volume}}:inval`, `planter\0e${(await fs.stat(dir)).ino}/${name}`);
  }
  const file = (size: number): Record<string, string> => ({ t: 'f', m: String(0o100644), n: '1', s: String(size) });

  it('open the other host\'s file without O_EXCL, truncated, and give it what A wrote', async () => {
    const [a, b] = await freshDir('taken');
    const theirs = 'the other host made this';
    const taken = await plant(a, 'f', file(theirs.length), theirs);
    await fs.writeFile(path.join(a, 'f'), 'from A');
    expect(await redis.hget(`rfs:{${volume}}:e:${(await fs.stat(a)).ino}`, 'f')).toBe(`f${taken}`);
    expect(await redis.get(`rfs:{${volume}}:d:${taken}`)).toBe('from A');
    expect((await fs.stat(path.join(a, 'f'))).ino).toBe(taken);
    expect(await fs.readFile(path.join(a, 'f'), 'utf8')).toBe('from A');
    await announce(a, 'f');
    await seen('A\'s content in the file the other host made', async () => expect(await fs.readFile(path.join(b, 'f'), 'utf8')).toBe('from A'));
  });

  it('fail with EISDIR when the other host made a directory, and show it', async () => {
    const [a] = await freshDir('taken-dir');
    await plant(a, 'd', { t: 'd', m: String(0o40755), n: '2', s: '0', p: String((await fs.stat(a)).ino) });
    await expectErrno(fs.writeFile(path.join(a, 'd'), 'x'), 'EISDIR');
    expect((await fs.stat(path.join(a, 'd'))).isDirectory()).toBe(true);
  });

  it('fail with EEXIST under O_EXCL, the other host\'s file untouched', async () => {
    const [a] = await freshDir('taken-excl');
    await plant(a, 'f', file(3), 'old');
    await expectErrno(fs.writeFile(path.join(a, 'f'), 'new', { flag: 'wx' }), 'EEXIST');
    expect(await fs.readFile(path.join(a, 'f'), 'utf8')).toBe('old');
  });

  it('fail with ENOENT when the other host removed the directory, and leave no file', async () => {
    const [a] = await freshDir('gone-dir');
    const dirIno = (await fs.stat(a)).ino;
    await redis.hdel(`rfs:{${volume}}:e:1`, path.basename(a));
    await redis.del(`rfs:{${volume}}:i:${dirIno}`);
    await expectErrno(fs.writeFile(path.join(a, 'f'), 'data'), 'ENOENT');
    await expectErrno(fs.stat(path.join(a, 'f')), 'ENOENT');
    expect(await redis.hexists(`rfs:{${volume}}:e:${dirIno}`, 'f')).toBe(0);
  });
});

describe('two mounts of a volume made on a Redis 7 cluster, now on one server', () => {
  it('hear each other by sharded pub/sub, as the volume says', async () => {
    const vol = uniqueVolume('sharded');
    const first = await mountHost({ volume: vol, label: 'S0' });
    await first.stop();
    const redis = new Redis(redisUrl());
    let hosts: Host[] = [];
    try {
      // What a volume made on a cluster holds (prelude.lua, publish_command; FORMAT_SHARDED).
      await redis.hset(`rfs:{${vol}}:vol`, 'format', '2');
      hosts = await Promise.all([mountHost({ volume: vol, label: 'S1' }), mountHost({ volume: vol, label: 'S2' })]);
      const [S1, S2] = hosts as [Host, Host];
      const clients = (await redis.client('LIST') as string).split('\n').filter((c) => c.includes(` name=redisfs:${vol}:sub `));
      expect(clients.map((c) => / ssub=1 /.test(c))).toEqual([true, true]);
      await fs.readdir(S2.p('')); // B holds the root: it answers from memory once it hears
      await fs.writeFile(S1.p('f'), 'sharded');
      await waitFor(async () => expect(await fs.readFile(S2.p('f'), 'utf8')).toBe('sharded'), { timeoutMs: DEADLINE_MS });
    } finally {
      await Promise.all(hosts.map((h) => h.stop()));
      redis.disconnect();
    }
  });
});
