// POSIX semantics of one redisfs mount, operation by operation: success and errno cases.
// Everything goes through a real FUSE mount served by a daemon in a child process.
import { constants as C } from 'node:fs';
import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readAt,
  writeAt,
  LIBFUSE2_HIGH_LEVEL,
  dumpLogsOnFailure,
  expectErrno,
  makeTempDir,
  mapLimit,
  mountHost,
  Prng,
  run,
  runOk,
  sha256,
  sha256File,
  uniqueVolume,
  waitFor,
  withTimeout,
  type Host,
} from './support/index.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** Entries in the big-directory readdir test; READDIR_ENTRIES overrides. */
const BIG_DIR_ENTRIES = Number(process.env.READDIR_ENTRIES ?? 20_000);

const volume = uniqueVolume('posix');
let A: Host;
let serial = 0;

beforeAll(async () => {
  A = await mountHost({ volume, label: 'A' });
});
afterAll(async () => {
  await A?.stop();
});
dumpLogsOnFailure(() => [A]);

/** A fresh, empty directory in the mount for one test. */
async function freshDir(label: string): Promise<string> {
  const d = A.p(`${label}-${serial++}`);
  await fs.mkdir(d);
  return d;
}



const umask = process.umask();
const perm = (mode: number): number => mode & 0o7777;
const isAllZero = (b: Buffer): boolean => b.every((x) => x === 0);
const PAST = new Date('2001-02-03T04:05:06.789Z');

describe('getattr(path) and fstat(fd)', () => {
  it('reports a new regular file as S_IFREG with its mode, size, nlink 1 and the daemon uid/gid', async () => {
    const d = await freshDir('getattr');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'hello', { mode: 0o640 });
    const st = await fs.stat(f);
    expect(st.isFile()).toBe(true);
    expect(perm(st.mode)).toBe(0o640 & ~umask);
    expect(st.size).toBe(5);
    expect(st.nlink).toBe(1);
    expect(st.uid).toBe(process.getuid?.());
    expect(st.gid).toBe(process.getgid?.());
    expect(st.ino).toBeGreaterThan(0);
  });

  it('reports atime, mtime and ctime close to the time of creation', async () => {
    const d = await freshDir('getattr');
    const before = Date.now();
    await fs.writeFile(path.join(d, 'f'), 'x');
    const st = await fs.stat(path.join(d, 'f'));
    for (const t of [st.atimeMs, st.mtimeMs, st.ctimeMs]) {
      expect(t).toBeGreaterThanOrEqual(before - 2000);
      expect(t).toBeLessThanOrEqual(Date.now() + 2000);
    }
  });

  it('reports a stable st_ino, distinct for distinct files', async () => {
    const d = await freshDir('getattr');
    await fs.writeFile(path.join(d, 'a'), 'a');
    await fs.writeFile(path.join(d, 'b'), 'b');
    const a1 = await fs.stat(path.join(d, 'a'));
    const a2 = await fs.stat(path.join(d, 'a'));
    const b = await fs.stat(path.join(d, 'b'));
    expect(a2.ino).toBe(a1.ino);
    expect(b.ino).not.toBe(a1.ino);
  });

  it('reports a directory as S_IFDIR with nlink >= 2', async () => {
    const d = await freshDir('getattr');
    const st = await fs.stat(d);
    expect(st.isDirectory()).toBe(true);
    expect(st.nlink).toBeGreaterThanOrEqual(2);
    const root = await fs.stat(A.mountpoint);
    expect(root.isDirectory()).toBe(true);
  });

  it('fstat agrees with stat and sees the size written through the fd before close', async () => {
    const d = await freshDir('getattr');
    const f = path.join(d, 'f');
    const fh = await fs.open(f, 'w+');
    try {
      await writeAt(fh, 0, Buffer.from('0123456789'));
      const fst = await fh.stat();
      expect(fst.size).toBe(10);
      const st = await fs.stat(f);
      expect(st.ino).toBe(fst.ino);
      expect(st.size).toBe(10);
      expect(st.mode).toBe(fst.mode);
    } finally {
      await fh.close();
    }
  });

  it('fails with ENOENT for a missing name', async () => {
    const d = await freshDir('getattr');
    await expectErrno(fs.stat(path.join(d, 'nope')), 'ENOENT');
    await expectErrno(fs.lstat(path.join(d, 'nope', 'deeper')), 'ENOENT');
  });

  it('fails with ENOTDIR when a path component is a regular file', async () => {
    const d = await freshDir('getattr');
    await fs.writeFile(path.join(d, 'file'), 'x');
    await expectErrno(fs.stat(path.join(d, 'file', 'x')), 'ENOTDIR');
  });
});

describe('readdir(dir)', () => {
  it('lists nothing for an empty directory', async () => {
    const d = await freshDir('readdir');
    expect(await fs.readdir(d)).toEqual([]);
  });

  it('lists exactly the entries created, with their types', async () => {
    const d = await freshDir('readdir');
    await fs.writeFile(path.join(d, 'file'), 'x');
    await fs.mkdir(path.join(d, 'dir'));
    await fs.symlink('file', path.join(d, 'link'));
    await runOk('mkfifo', [path.join(d, 'fifo')]);
    const entries = await fs.readdir(d, { withFileTypes: true });
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect([...byName.keys()].sort()).toEqual(['dir', 'fifo', 'file', 'link']);
    expect(byName.get('file')?.isFile()).toBe(true);
    expect(byName.get('dir')?.isDirectory()).toBe(true);
    expect(byName.get('link')?.isSymbolicLink()).toBe(true);
    expect(byName.get('fifo')?.isFIFO()).toBe(true);
  });

  it('stops listing removed names and lists renamed ones under the new name', async () => {
    const d = await freshDir('readdir');
    for (const n of ['a', 'b', 'c']) await fs.writeFile(path.join(d, n), n);
    await fs.unlink(path.join(d, 'b'));
    await fs.rename(path.join(d, 'c'), path.join(d, 'z'));
    expect((await fs.readdir(d)).sort()).toEqual(['a', 'z']);
  });

  it('fails with ENOTDIR on a regular file and ENOENT on a missing name', async () => {
    const d = await freshDir('readdir');
    await fs.writeFile(path.join(d, 'f'), 'x');
    await expectErrno(fs.readdir(path.join(d, 'f')), 'ENOTDIR');
    await expectErrno(fs.readdir(path.join(d, 'missing')), 'ENOENT');
  });

  it(`lists a directory of ${BIG_DIR_ENTRIES} entries completely, each name once`, { timeout: 300_000 }, async () => {
    const d = await freshDir('bigdir');
    const names = Array.from({ length: BIG_DIR_ENTRIES }, (_, i) => `entry-${i.toString().padStart(6, '0')}`);
    const t0 = performance.now();
    await mapLimit(names, 16, async (n) => {
      const fh = await fs.open(path.join(d, n), 'wx');
      await fh.close();
    });
    const t1 = performance.now();
    const listed = await fs.readdir(d);
    const t2 = performance.now();
    console.log(
      `readdir: created ${BIG_DIR_ENTRIES} files in ${((t1 - t0) / 1000).toFixed(1)} s, listed in ${((t2 - t1) / 1000).toFixed(2)} s`,
    );
    expect(listed.length).toBe(BIG_DIR_ENTRIES);
    expect(new Set(listed).size).toBe(BIG_DIR_ENTRIES);
    expect([...listed].sort()).toEqual(names);
    // Streaming iteration (opendir/readdir(3) in batches) sees the same.
    let streamed = 0;
    for await (const _ of await fs.opendir(d, { bufferSize: 128 })) streamed++;
    expect(streamed).toBe(BIG_DIR_ENTRIES);
    // And so does a separate tool.
    const ls = await runOk('ls', ['-1', '-f', d]);
    expect(ls.split('\n').filter((l) => l !== '' && l !== '.' && l !== '..').length).toBe(BIG_DIR_ENTRIES);
    await fs.rm(d, { recursive: true });
  });
});

describe('mkdir(path, mode)', () => {
  it('creates a directory with the requested mode (less the umask)', async () => {
    const d = await freshDir('mkdir');
    await fs.mkdir(path.join(d, 'sub'), { mode: 0o750 });
    const st = await fs.stat(path.join(d, 'sub'));
    expect(st.isDirectory()).toBe(true);
    expect(perm(st.mode)).toBe(0o750 & ~umask);
  });

  it('creates nested directories (mkdir -p)', async () => {
    const d = await freshDir('mkdir');
    await fs.mkdir(path.join(d, 'a', 'b', 'c', 'd'), { recursive: true });
    expect((await fs.stat(path.join(d, 'a', 'b', 'c', 'd'))).isDirectory()).toBe(true);
  });

  it('gives a new directory nlink 2 and adds one link to its parent', async () => {
    const d = await freshDir('mkdir');
    const before = (await fs.stat(d)).nlink;
    await fs.mkdir(path.join(d, 'sub'));
    expect((await fs.stat(path.join(d, 'sub'))).nlink).toBe(2);
    expect((await fs.stat(d)).nlink).toBe(before + 1);
  });

  it('fails with EEXIST when the name is taken by a directory or a file', async () => {
    const d = await freshDir('mkdir');
    await fs.mkdir(path.join(d, 'sub'));
    await fs.writeFile(path.join(d, 'file'), 'x');
    await expectErrno(fs.mkdir(path.join(d, 'sub')), 'EEXIST');
    await expectErrno(fs.mkdir(path.join(d, 'file')), 'EEXIST');
  });

  it('fails with ENOENT when the parent is missing and ENOTDIR when it is a file', async () => {
    const d = await freshDir('mkdir');
    await fs.writeFile(path.join(d, 'file'), 'x');
    await expectErrno(fs.mkdir(path.join(d, 'missing', 'sub')), 'ENOENT');
    await expectErrno(fs.mkdir(path.join(d, 'file', 'sub')), 'ENOTDIR');
  });
});

describe('rmdir(path)', () => {
  it('removes an empty directory and drops the link it held on its parent', async () => {
    const d = await freshDir('rmdir');
    const before = (await fs.stat(d)).nlink;
    await fs.mkdir(path.join(d, 'sub'));
    await fs.rmdir(path.join(d, 'sub'));
    await expectErrno(fs.stat(path.join(d, 'sub')), 'ENOENT');
    expect(await fs.readdir(d)).toEqual([]);
    expect((await fs.stat(d)).nlink).toBe(before);
  });

  it('fails with ENOTEMPTY when the directory has a file, a subdirectory or a dot-file', async () => {
    const d = await freshDir('rmdir');
    for (const [dir, child, kind] of [
      ['withfile', 'f', 'file'],
      ['withdir', 'sub', 'dir'],
      ['withdot', '.hidden', 'file'],
    ] as const) {
      await fs.mkdir(path.join(d, dir));
      if (kind === 'dir') await fs.mkdir(path.join(d, dir, child));
      else await fs.writeFile(path.join(d, dir, child), 'x');
      await expectErrno(fs.rmdir(path.join(d, dir)), 'ENOTEMPTY', 'EEXIST');
      expect((await fs.stat(path.join(d, dir, child))).ino).toBeGreaterThan(0);
    }
  });

  it('fails with ENOTDIR on a regular file and ENOENT on a missing name', async () => {
    const d = await freshDir('rmdir');
    await fs.writeFile(path.join(d, 'f'), 'x');
    await expectErrno(fs.rmdir(path.join(d, 'f')), 'ENOTDIR');
    await expectErrno(fs.rmdir(path.join(d, 'missing')), 'ENOENT');
  });
});

describe('create and open(path, flags)', () => {
  it('creates a file with O_CREAT|O_EXCL and fails with EEXIST the second time', async () => {
    const d = await freshDir('create');
    const f = path.join(d, 'f');
    const fh = await fs.open(f, C.O_CREAT | C.O_EXCL | C.O_WRONLY, 0o600);
    await fh.close();
    expect(perm((await fs.stat(f)).mode)).toBe(0o600);
    await expectErrno(fs.open(f, C.O_CREAT | C.O_EXCL | C.O_WRONLY, 0o600), 'EEXIST');
    await fs.mkdir(path.join(d, 'dir'));
    await expectErrno(fs.open(path.join(d, 'dir'), C.O_CREAT | C.O_EXCL | C.O_WRONLY), 'EEXIST');
  });

  it('keeps the content of an existing file on O_CREAT without O_EXCL', async () => {
    const d = await freshDir('create');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'keep me');
    const fh = await fs.open(f, C.O_CREAT | C.O_RDWR);
    await fh.close();
    expect(await fs.readFile(f, 'utf8')).toBe('keep me');
  });

  it('fails with ENOENT without O_CREAT or in a missing directory, ENOTDIR through a file', async () => {
    const d = await freshDir('create');
    await fs.writeFile(path.join(d, 'file'), 'x');
    await expectErrno(fs.open(path.join(d, 'missing'), 'r'), 'ENOENT');
    await expectErrno(fs.open(path.join(d, 'nodir', 'f'), 'w'), 'ENOENT');
    await expectErrno(fs.open(path.join(d, 'file', 'f'), 'w'), 'ENOTDIR');
  });

  it('fails with EISDIR when a directory is opened for writing', async () => {
    const d = await freshDir('create');
    await expectErrno(fs.open(d, 'r+'), 'EISDIR');
  });

  it('truncates an existing file with O_TRUNC and updates its mtime', async () => {
    const d = await freshDir('create');
    const f = path.join(d, 'f');
    await fs.writeFile(f, Buffer.alloc(3 * MiB, 7));
    await fs.utimes(f, PAST, PAST);
    const fh = await fs.open(f, C.O_WRONLY | C.O_TRUNC);
    expect((await fh.stat()).size).toBe(0);
    await writeAt(fh, 0, Buffer.from('new'));
    await fh.close();
    expect(await fs.readFile(f, 'utf8')).toBe('new');
    expect((await fs.stat(f)).mtimeMs).toBeGreaterThan(PAST.getTime());
  });

  it('appends with O_APPEND, even when the write names another position', async () => {
    const d = await freshDir('create');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'one\n');
    await fs.appendFile(f, 'two\n');
    const fh = await fs.open(f, 'a');
    await fh.write(Buffer.from('three\n'), 0, 6, 0); // Linux: O_APPEND wins over pwrite's offset
    await fh.close();
    expect(await fs.readFile(f, 'utf8')).toBe('one\ntwo\nthree\n');
  });

  it('interleaves two O_APPEND descriptors without losing a write', async () => {
    const d = await freshDir('create');
    const f = path.join(d, 'f');
    const a = await fs.open(f, 'a');
    const b = await fs.open(f, 'a');
    const expected: string[] = [];
    for (let i = 0; i < 20; i++) {
      const fh = i % 2 === 0 ? a : b;
      const line = `${i % 2 === 0 ? 'a' : 'b'}${i}\n`;
      await fh.write(line);
      expected.push(line);
    }
    await a.close();
    await b.close();
    expect(await fs.readFile(f, 'utf8')).toBe(expected.join(''));
  });
});

describe('mknod(path, S_IFIFO) via mkfifo', () => {
  it('creates a FIFO that carries data from a writer to a reader', async () => {
    const d = await freshDir('fifo');
    const fifo = path.join(d, 'pipe');
    await runOk('mkfifo', ['-m', '0640', fifo]);
    const st = await fs.lstat(fifo);
    expect(st.isFIFO()).toBe(true);
    expect(perm(st.mode)).toBe(0o640);
    const reader = fs.readFile(fifo, 'utf8');
    const writer = run('sh', ['-c', 'printf hello-through-fifo > "$1"', 'sh', fifo], { timeoutMs: 10_000 });
    expect(await withTimeout(reader, 10_000, 'reading the fifo')).toBe('hello-through-fifo');
    expect((await writer).code).toBe(0);
    await fs.unlink(fifo);
    await expectErrno(fs.lstat(fifo), 'ENOENT');
  });

  it('fails with EEXIST when the name is taken', async () => {
    const d = await freshDir('fifo');
    await fs.writeFile(path.join(d, 'taken'), 'x');
    const r = await run('mkfifo', [path.join(d, 'taken')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/File exists/);
  });
});

describe('read(fd, off, len) and write(fd, off, data)', () => {
  it('reads back what was written, short at EOF and empty past it', async () => {
    const d = await freshDir('rw');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'hello world');
    const fh = await fs.open(f, 'r');
    try {
      expect((await readAt(fh, 0, 11)).toString()).toBe('hello world');
      expect((await readAt(fh, 6, 100)).toString()).toBe('world');
      expect((await readAt(fh, 11, 10)).length).toBe(0);
      expect((await readAt(fh, 1000, 10)).length).toBe(0);
    } finally {
      await fh.close();
    }
    await fs.writeFile(path.join(d, 'empty'), '');
    expect((await fs.readFile(path.join(d, 'empty'))).length).toBe(0);
  });

  it('fails with EISDIR when reading a directory', async () => {
    const d = await freshDir('rw');
    await expectErrno(fs.readFile(d), 'EISDIR');
  });

  it('fails with EBADF when writing through a read-only descriptor', async () => {
    const d = await freshDir('rw');
    await fs.writeFile(path.join(d, 'f'), 'x');
    const fh = await fs.open(path.join(d, 'f'), 'r');
    try {
      await expectErrno(fh.write('y'), 'EBADF');
    } finally {
      await fh.close();
    }
  });

  it('overwrites in the middle and keeps the rest', async () => {
    const d = await freshDir('rw');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'aaaaaaaaaa');
    const fh = await fs.open(f, 'r+');
    await writeAt(fh, 3, Buffer.from('XYZ'));
    await fh.close();
    expect(await fs.readFile(f, 'utf8')).toBe('aaaXYZaaaa');
  });

  it('extends a file when writing past EOF, reading the gap as zeros', async () => {
    const d = await freshDir('rw');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'abc');
    const fh = await fs.open(f, 'r+');
    await writeAt(fh, 2 * MiB + 5, Buffer.from('end'));
    await fh.close();
    const data = await fs.readFile(f);
    expect(data.length).toBe(2 * MiB + 8);
    expect(data.subarray(0, 3).toString()).toBe('abc');
    expect(isAllZero(data.subarray(3, 2 * MiB + 5))).toBe(true);
    expect(data.subarray(2 * MiB + 5).toString()).toBe('end');
  });

  it('shows data written through one descriptor to another descriptor before either is closed', async () => {
    const d = await freshDir('rw');
    const f = path.join(d, 'f');
    const w = await fs.open(f, 'w');
    const r = await fs.open(f, 'r');
    try {
      await writeAt(w, 0, Buffer.from('visible?'));
      expect((await readAt(r, 0, 100)).toString()).toBe('visible?');
      expect((await fs.stat(f)).size).toBe(8);
    } finally {
      await w.close();
      await r.close();
    }
  });

  it('advances mtime and ctime on write, and leaves mtime alone on read', async () => {
    const d = await freshDir('rw');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'x');
    await fs.utimes(f, PAST, PAST);
    await fs.readFile(f);
    expect(Math.abs((await fs.stat(f)).mtimeMs - PAST.getTime())).toBeLessThan(1);
    const ctimeBefore = (await fs.stat(f)).ctimeMs;
    await fs.appendFile(f, 'y');
    const st = await fs.stat(f);
    expect(st.mtimeMs).toBeGreaterThan(PAST.getTime());
    expect(st.ctimeMs).toBeGreaterThanOrEqual(ctimeBefore);
  });
});

describe('fsync(fd)', () => {
  it('succeeds for fsync and fdatasync on a written file, and the data is there after close', async () => {
    const d = await freshDir('fsync');
    const f = path.join(d, 'f');
    const fh = await fs.open(f, 'w');
    await writeAt(fh, 0, Buffer.from('synced'));
    await fh.sync();
    await writeAt(fh, 6, Buffer.from('+data'));
    await fh.datasync();
    await fh.close();
    expect(await fs.readFile(f, 'utf8')).toBe('synced+data');
  });

  it('succeeds on a directory descriptor', async () => {
    const d = await freshDir('fsync');
    const fh = await fs.open(d, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  });
});

describe('truncate(path, size) and ftruncate(fd, size)', () => {
  it('grows a file with zeros', async () => {
    const d = await freshDir('trunc');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'abc');
    await fs.truncate(f, 100);
    const data = await fs.readFile(f);
    expect(data.length).toBe(100);
    expect(data.subarray(0, 3).toString()).toBe('abc');
    expect(isAllZero(data.subarray(3))).toBe(true);
  });

  it('shrinks a file and keeps the prefix', async () => {
    const d = await freshDir('trunc');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'abcdefghij');
    await fs.truncate(f, 4);
    expect(await fs.readFile(f, 'utf8')).toBe('abcd');
    await fs.truncate(f, 0);
    expect((await fs.stat(f)).size).toBe(0);
  });

  it('reads zeros, not the old bytes, after shrinking and growing again across chunk boundaries', async () => {
    const d = await freshDir('trunc');
    const f = path.join(d, 'f');
    const original = new Prng(42).bytes(3 * MiB + 17);
    await fs.writeFile(f, original);
    await fs.truncate(f, MiB - 3);
    await fs.truncate(f, 3 * MiB);
    const data = await fs.readFile(f);
    expect(data.length).toBe(3 * MiB);
    expect(data.subarray(0, MiB - 3).equals(original.subarray(0, MiB - 3))).toBe(true);
    expect(isAllZero(data.subarray(MiB - 3))).toBe(true);
  });

  it('applies ftruncate to data still buffered in the descriptor', async () => {
    const d = await freshDir('trunc');
    const f = path.join(d, 'f');
    const fh = await fs.open(f, 'w+');
    await writeAt(fh, 0, Buffer.alloc(100, 0x61));
    await fh.truncate(50);
    expect((await fh.stat()).size).toBe(50);
    await writeAt(fh, 60, Buffer.from('tail'));
    await fh.close();
    const data = await fs.readFile(f);
    expect(data.length).toBe(64);
    expect(data.subarray(0, 50).equals(Buffer.alloc(50, 0x61))).toBe(true);
    expect(isAllZero(data.subarray(50, 60))).toBe(true);
    expect(data.subarray(60).toString()).toBe('tail');
  });

  it('updates mtime', async () => {
    const d = await freshDir('trunc');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'abc');
    await fs.utimes(f, PAST, PAST);
    await fs.truncate(f, 1);
    expect((await fs.stat(f)).mtimeMs).toBeGreaterThan(PAST.getTime());
  });

  it('fails with EISDIR on a directory and ENOENT on a missing name', async () => {
    const d = await freshDir('trunc');
    await expectErrno(fs.truncate(d, 0), 'EISDIR');
    await expectErrno(fs.truncate(path.join(d, 'missing'), 0), 'ENOENT');
  });
});

describe('unlink(path)', () => {
  it('removes the name', async () => {
    const d = await freshDir('unlink');
    await fs.writeFile(path.join(d, 'f'), 'x');
    await fs.unlink(path.join(d, 'f'));
    await expectErrno(fs.stat(path.join(d, 'f')), 'ENOENT');
    expect(await fs.readdir(d)).toEqual([]);
  });

  it('fails with ENOENT on a missing name', async () => {
    const d = await freshDir('unlink');
    await expectErrno(fs.unlink(path.join(d, 'missing')), 'ENOENT');
  });

  it('fails with EISDIR (Linux) or EPERM on a directory', async () => {
    const d = await freshDir('unlink');
    await fs.mkdir(path.join(d, 'sub'));
    await expectErrno(fs.unlink(path.join(d, 'sub')), 'EISDIR', 'EPERM');
    expect((await fs.stat(path.join(d, 'sub'))).isDirectory()).toBe(true);
  });

  it('keeps an unlinked file readable and writable through a descriptor opened before', async () => {
    const d = await freshDir('unlink');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'still here');
    const fh = await fs.open(f, 'r+');
    try {
      await fs.unlink(f);
      await expectErrno(fs.stat(f), 'ENOENT');
      expect((await readAt(fh, 0, 100)).toString()).toBe('still here');
      // The name is free again at once: a new file there is another file.
      await fs.writeFile(f, 'new file');
      await writeAt(fh, 10, Buffer.from(' and more'));
      expect((await readAt(fh, 0, 100)).toString()).toBe('still here and more');
      expect((await fh.stat()).size).toBe(19);
      expect(await fs.readFile(f, 'utf8')).toBe('new file');
    } finally {
      await fh.close();
    }
    // libfuse hides the open-unlinked file as .fuse_hidden*; it must be gone after close.
    await waitFor(async () => expect((await fs.readdir(d)).filter((n) => n.startsWith('.fuse_hidden'))).toEqual([]));
  });
});

describe('rename(src, dst)', () => {
  it('moves a file to a new name, keeping its inode and content', async () => {
    const d = await freshDir('rename');
    await fs.writeFile(path.join(d, 'a'), 'content');
    const ino = (await fs.stat(path.join(d, 'a'))).ino;
    await fs.rename(path.join(d, 'a'), path.join(d, 'b'));
    await expectErrno(fs.stat(path.join(d, 'a')), 'ENOENT');
    const st = await fs.stat(path.join(d, 'b'));
    expect(st.ino).toBe(ino);
    expect(await fs.readFile(path.join(d, 'b'), 'utf8')).toBe('content');
  });

  it('moves a file into another directory', async () => {
    const d = await freshDir('rename');
    await fs.mkdir(path.join(d, 'x'));
    await fs.mkdir(path.join(d, 'y'));
    await fs.writeFile(path.join(d, 'x', 'f'), 'moved');
    await fs.rename(path.join(d, 'x', 'f'), path.join(d, 'y', 'g'));
    expect(await fs.readdir(path.join(d, 'x'))).toEqual([]);
    expect(await fs.readFile(path.join(d, 'y', 'g'), 'utf8')).toBe('moved');
  });

  it('replaces an existing target file, which keeps its content for a descriptor already open on it', async () => {
    const d = await freshDir('rename');
    await fs.writeFile(path.join(d, 'src'), 'new');
    await fs.writeFile(path.join(d, 'dst'), 'old');
    const srcIno = (await fs.stat(path.join(d, 'src'))).ino;
    const old = await fs.open(path.join(d, 'dst'), 'r');
    try {
      await fs.rename(path.join(d, 'src'), path.join(d, 'dst'));
      // libfuse keeps the replaced, still-open file as .fuse_hidden* until it is closed.
      expect((await fs.readdir(d)).filter((n) => !n.startsWith('.fuse_hidden'))).toEqual(['dst']);
      expect((await fs.stat(path.join(d, 'dst'))).ino).toBe(srcIno);
      expect(await fs.readFile(path.join(d, 'dst'), 'utf8')).toBe('new');
      expect((await readAt(old, 0, 100)).toString()).toBe('old');
    } finally {
      await old.close();
    }
    await waitFor(async () => expect(await fs.readdir(d)).toEqual(['dst']));
  });

  /**
   * Replaces `target` 100 times by rename while `probe` runs in a loop; returns the probe's
   * first failure, if any, and how many probes ran.
   */
  async function renameRace(d: string, probe: (target: string) => Promise<void>): Promise<{ error?: unknown; probes: number }> {
    const target = path.join(d, 'target');
    await fs.writeFile(target, 'v-initial');
    let stop = false;
    let probes = 0;
    let error: unknown;
    const loop = (async () => {
      while (!stop) {
        try {
          await probe(target);
        } catch (e) {
          error ??= e;
          return;
        }
        probes++;
      }
    })();
    try {
      for (let i = 0; i < 100 && error === undefined; i++) {
        await fs.writeFile(path.join(d, `tmp${i}`), `v-${i}`);
        await fs.rename(path.join(d, `tmp${i}`), target);
      }
    } finally {
      stop = true;
      await loop;
    }
    return error === undefined ? { probes } : { error, probes };
  }

  it.skipIf(LIBFUSE2_HIGH_LEVEL)('replaces the target atomically: a concurrent stat never finds it missing', async () => {
    const d = await freshDir('rename');
    const r = await renameRace(d, async (t) => {
      await fs.stat(t);
    });
    expect(r.error, `after ${r.probes} successful stats`).toBeUndefined();
    expect(await fs.readFile(path.join(d, 'target'), 'utf8')).toBe('v-99');
    expect(await fs.readdir(d)).toEqual(['target']);
  });

  it.skipIf(LIBFUSE2_HIGH_LEVEL)('replaces the target atomically: a concurrent reader (holding it open) never finds it missing', async () => {
    // With libfuse's high-level API, an open target is first renamed to .fuse_hidden* and
    // only then replaced: unless the daemon does better, there is a window with no target.
    const d = await freshDir('rename');
    const r = await renameRace(d, async (t) => {
      expect(await fs.readFile(t, 'utf8')).toMatch(/^v-(initial|\d+)$/);
    });
    expect(r.error, `after ${r.probes} successful reads`).toBeUndefined();
    await waitFor(async () => expect(await fs.readdir(d)).toEqual(['target']));
  });

  it('moves a directory with its contents and repoints its ".." and the parents\' link counts', async () => {
    const d = await freshDir('rename');
    await fs.mkdir(path.join(d, 'p1'));
    await fs.mkdir(path.join(d, 'p2'));
    await fs.mkdir(path.join(d, 'p1', 'dir'));
    await fs.writeFile(path.join(d, 'p1', 'dir', 'f'), 'inside');
    const n1 = (await fs.stat(path.join(d, 'p1'))).nlink;
    const n2 = (await fs.stat(path.join(d, 'p2'))).nlink;
    await fs.rename(path.join(d, 'p1', 'dir'), path.join(d, 'p2', 'moved'));
    expect(await fs.readFile(path.join(d, 'p2', 'moved', 'f'), 'utf8')).toBe('inside');
    expect((await fs.stat(path.join(d, 'p2', 'moved', '..'))).ino).toBe((await fs.stat(path.join(d, 'p2'))).ino);
    expect((await fs.stat(path.join(d, 'p1'))).nlink).toBe(n1 - 1);
    expect((await fs.stat(path.join(d, 'p2'))).nlink).toBe(n2 + 1);
  });

  it('replaces an empty target directory', async () => {
    const d = await freshDir('rename');
    await fs.mkdir(path.join(d, 'src'));
    await fs.writeFile(path.join(d, 'src', 'f'), 'x');
    await fs.mkdir(path.join(d, 'dst'));
    await fs.rename(path.join(d, 'src'), path.join(d, 'dst'));
    expect(await fs.readdir(path.join(d, 'dst'))).toEqual(['f']);
    await expectErrno(fs.stat(path.join(d, 'src')), 'ENOENT');
  });

  it('fails with ENOTEMPTY when the target directory has entries', async () => {
    const d = await freshDir('rename');
    await fs.mkdir(path.join(d, 'src'));
    await fs.mkdir(path.join(d, 'dst'));
    await fs.writeFile(path.join(d, 'dst', 'f'), 'x');
    await expectErrno(fs.rename(path.join(d, 'src'), path.join(d, 'dst')), 'ENOTEMPTY', 'EEXIST');
    expect(await fs.readdir(path.join(d, 'dst'))).toEqual(['f']);
    expect((await fs.stat(path.join(d, 'src'))).isDirectory()).toBe(true);
  });

  it('fails with EINVAL when moving a directory into its own subtree', async () => {
    const d = await freshDir('rename');
    await fs.mkdir(path.join(d, 'a', 'b'), { recursive: true });
    await expectErrno(fs.rename(path.join(d, 'a'), path.join(d, 'a', 'b', 'c')), 'EINVAL');
    await expectErrno(fs.rename(path.join(d, 'a'), path.join(d, 'a', 'c')), 'EINVAL');
  });

  it('fails with EISDIR for a file onto a directory and ENOTDIR for a directory onto a file', async () => {
    const d = await freshDir('rename');
    await fs.writeFile(path.join(d, 'file'), 'x');
    await fs.mkdir(path.join(d, 'dir'));
    await expectErrno(fs.rename(path.join(d, 'file'), path.join(d, 'dir')), 'EISDIR');
    await expectErrno(fs.rename(path.join(d, 'dir'), path.join(d, 'file')), 'ENOTDIR');
    expect(await fs.readFile(path.join(d, 'file'), 'utf8')).toBe('x');
    expect((await fs.stat(path.join(d, 'dir'))).isDirectory()).toBe(true);
  });

  it('fails with ENOENT for a missing source or a missing target directory', async () => {
    const d = await freshDir('rename');
    await fs.writeFile(path.join(d, 'f'), 'x');
    await expectErrno(fs.rename(path.join(d, 'missing'), path.join(d, 'g')), 'ENOENT');
    await expectErrno(fs.rename(path.join(d, 'f'), path.join(d, 'nodir', 'g')), 'ENOENT');
    expect(await fs.readFile(path.join(d, 'f'), 'utf8')).toBe('x');
  });

  it('does nothing when source and target are the same name', async () => {
    const d = await freshDir('rename');
    await fs.writeFile(path.join(d, 'f'), 'same');
    await fs.rename(path.join(d, 'f'), path.join(d, 'f'));
    expect(await fs.readFile(path.join(d, 'f'), 'utf8')).toBe('same');
  });

  it('keeps a descriptor open on the moved file working', async () => {
    const d = await freshDir('rename');
    const fh = await fs.open(path.join(d, 'a'), 'w+');
    try {
      await writeAt(fh, 0, Buffer.from('before'));
      await fs.rename(path.join(d, 'a'), path.join(d, 'b'));
      await writeAt(fh, 6, Buffer.from('+after'));
    } finally {
      await fh.close();
    }
    expect(await fs.readFile(path.join(d, 'b'), 'utf8')).toBe('before+after');
  });
});

describe('link(src, dst)', () => {
  it('gives both names the same inode, nlink 2 and shared content', async () => {
    const d = await freshDir('link');
    await fs.writeFile(path.join(d, 'a'), 'shared');
    await fs.link(path.join(d, 'a'), path.join(d, 'b'));
    const a = await fs.stat(path.join(d, 'a'));
    const b = await fs.stat(path.join(d, 'b'));
    expect(b.ino).toBe(a.ino);
    expect(a.nlink).toBe(2);
    expect(b.nlink).toBe(2);
    await fs.appendFile(path.join(d, 'b'), '+more');
    expect(await fs.readFile(path.join(d, 'a'), 'utf8')).toBe('shared+more');
  });

  it('counts links up and down as names are added and removed', async () => {
    const d = await freshDir('link');
    await fs.writeFile(path.join(d, 'a'), 'x');
    await fs.mkdir(path.join(d, 'sub'));
    await fs.link(path.join(d, 'a'), path.join(d, 'b'));
    await fs.link(path.join(d, 'a'), path.join(d, 'sub', 'c'));
    expect((await fs.stat(path.join(d, 'sub', 'c'))).nlink).toBe(3);
    await fs.unlink(path.join(d, 'a'));
    expect((await fs.stat(path.join(d, 'b'))).nlink).toBe(2);
    await fs.unlink(path.join(d, 'sub', 'c'));
    const st = await fs.stat(path.join(d, 'b'));
    expect(st.nlink).toBe(1);
    expect(await fs.readFile(path.join(d, 'b'), 'utf8')).toBe('x');
  });

  it('fails with EEXIST when the new name exists, ENOENT when the source is missing', async () => {
    const d = await freshDir('link');
    await fs.writeFile(path.join(d, 'a'), 'x');
    await fs.writeFile(path.join(d, 'b'), 'y');
    await expectErrno(fs.link(path.join(d, 'a'), path.join(d, 'b')), 'EEXIST');
    await expectErrno(fs.link(path.join(d, 'missing'), path.join(d, 'c')), 'ENOENT');
  });

  it('fails with EPERM for a directory', async () => {
    const d = await freshDir('link');
    await fs.mkdir(path.join(d, 'dir'));
    await expectErrno(fs.link(path.join(d, 'dir'), path.join(d, 'dir2')), 'EPERM');
  });
});

describe('symlink(target, path) and readlink(path)', () => {
  it('stores the target verbatim; lstat sees a link of the target\'s length, stat follows it', async () => {
    const d = await freshDir('symlink');
    await fs.writeFile(path.join(d, 'file'), 'pointed-to');
    for (const [name, target] of [
      ['rel', 'file'],
      ['abs', path.join(d, 'file')],
      ['dots', '../' + path.basename(d) + '/./file'],
    ] as const) {
      await fs.symlink(target, path.join(d, name));
      expect(await fs.readlink(path.join(d, name))).toBe(target);
      const l = await fs.lstat(path.join(d, name));
      expect(l.isSymbolicLink()).toBe(true);
      expect(l.size).toBe(Buffer.byteLength(target));
      expect(await fs.readFile(path.join(d, name), 'utf8')).toBe('pointed-to');
    }
  });

  it('stores a long target (1000 bytes) and a dangling one', async () => {
    const d = await freshDir('symlink');
    const long = 'x/'.repeat(499) + 'yy';
    await fs.symlink(long, path.join(d, 'long'));
    expect(await fs.readlink(path.join(d, 'long'))).toBe(long);
    await fs.symlink('nowhere', path.join(d, 'dangling'));
    expect((await fs.lstat(path.join(d, 'dangling'))).isSymbolicLink()).toBe(true);
    await expectErrno(fs.stat(path.join(d, 'dangling')), 'ENOENT');
  });

  it('fails with EEXIST when the name exists', async () => {
    const d = await freshDir('symlink');
    await fs.writeFile(path.join(d, 'f'), 'x');
    await expectErrno(fs.symlink('t', path.join(d, 'f')), 'EEXIST');
  });

  it('readlink fails with EINVAL on a non-link and ENOENT on a missing name', async () => {
    const d = await freshDir('symlink');
    await fs.writeFile(path.join(d, 'f'), 'x');
    await expectErrno(fs.readlink(path.join(d, 'f')), 'EINVAL');
    await expectErrno(fs.readlink(path.join(d, 'missing')), 'ENOENT');
  });

  it('reports ELOOP for a symlink loop', async () => {
    const d = await freshDir('symlink');
    await fs.symlink('b', path.join(d, 'a'));
    await fs.symlink('a', path.join(d, 'b'));
    await expectErrno(fs.stat(path.join(d, 'a')), 'ELOOP');
  });
});

describe('chmod(path, mode)', () => {
  it('changes permission bits, including setuid and sticky, and keeps the file type', async () => {
    const d = await freshDir('chmod');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'x');
    for (const mode of [0o600, 0o755, 0o4755, 0o000]) {
      await fs.chmod(f, mode);
      const st = await fs.stat(f);
      expect(perm(st.mode)).toBe(mode);
      expect(st.isFile()).toBe(true);
    }
    await fs.mkdir(path.join(d, 'sticky'));
    await fs.chmod(path.join(d, 'sticky'), 0o1777);
    const st = await fs.stat(path.join(d, 'sticky'));
    expect(perm(st.mode)).toBe(0o1777);
    expect(st.isDirectory()).toBe(true);
  });

  it('works through a descriptor (fchmod) and advances ctime', async () => {
    const d = await freshDir('chmod');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'x');
    const ctime = (await fs.stat(f)).ctimeMs;
    await new Promise((r) => setTimeout(r, 20));
    const fh = await fs.open(f, 'r');
    await fh.chmod(0o640);
    await fh.close();
    const st = await fs.stat(f);
    expect(perm(st.mode)).toBe(0o640);
    expect(st.ctimeMs).toBeGreaterThan(ctime);
  });

  it('ends with the permission bits cp -p sets (it uses fsetxattr(system.posix_acl_access) when xattrs work)', async () => {
    const d = await freshDir('chmod');
    const local = await makeTempDir('chmod-src');
    for (const mode of [0o644, 0o755, 0o600]) {
      const src = path.join(local, `m${mode.toString(8)}`);
      await fs.writeFile(src, 'x');
      await fs.chmod(src, mode);
      await runOk('cp', ['-p', src, d]);
      expect(perm((await fs.stat(path.join(d, path.basename(src)))).mode).toString(8)).toBe(mode.toString(8));
    }
    await fs.rm(local, { recursive: true });
  });

  it('fails with ENOENT on a missing name', async () => {
    const d = await freshDir('chmod');
    await expectErrno(fs.chmod(path.join(d, 'missing'), 0o644), 'ENOENT');
  });
});

describe('chown(path, uid, gid)', () => {
  it('changes owner and group (as root), and -1 keeps one of them', async () => {
    const d = await freshDir('chown');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'x');
    await fs.chown(f, 1234, 5678);
    let st = await fs.stat(f);
    expect([st.uid, st.gid]).toEqual([1234, 5678]);
    await fs.chown(f, 4321, -1);
    st = await fs.stat(f);
    expect([st.uid, st.gid]).toEqual([4321, 5678]);
    const fh = await fs.open(f, 'r');
    await fh.chown(-1, 42);
    await fh.close();
    st = await fs.stat(f);
    expect([st.uid, st.gid]).toEqual([4321, 42]);
  });

  it('lchown changes a symlink itself, not its target', async () => {
    const d = await freshDir('chown');
    await fs.writeFile(path.join(d, 'f'), 'x');
    await fs.symlink('f', path.join(d, 'l'));
    await fs.lchown(path.join(d, 'l'), 777, 888);
    const l = await fs.lstat(path.join(d, 'l'));
    const f = await fs.stat(path.join(d, 'f'));
    expect([l.uid, l.gid]).toEqual([777, 888]);
    expect([f.uid, f.gid]).toEqual([process.getuid?.(), process.getgid?.()]);
  });

  it('fails with ENOENT on a missing name', async () => {
    const d = await freshDir('chown');
    await expectErrno(fs.chown(path.join(d, 'missing'), 1, 1), 'ENOENT');
  });
});

describe('utimens(path, atime, mtime)', () => {
  // Node's fs.utimes goes through a double of seconds and libuv keeps microseconds, so a value
  // set that way can come back 1 µs short even on ext4: compare to within 1 ms. touch(1)
  // passes exact timespecs, so those must come back exactly.
  const within1ms = (got: number, want: Date): void => {
    expect(Math.abs(got - want.getTime()), `got ${got}, want ${want.getTime()}`).toBeLessThan(1);
  };

  it('sets atime and mtime to the millisecond', async () => {
    const d = await freshDir('utimens');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'x');
    const atime = new Date('2001-02-03T04:05:06.789Z');
    const mtime = new Date('2010-01-02T03:04:05.678Z');
    await fs.utimes(f, atime, mtime);
    const st = await fs.stat(f);
    within1ms(st.atimeMs, atime);
    within1ms(st.mtimeMs, mtime);
  });

  it('keeps the exact milliseconds that touch -d sets', async () => {
    const d = await freshDir('utimens');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'x');
    await runOk('touch', ['-d', '2010-01-02 03:04:05.678 UTC', f]);
    const st = await fs.stat(f);
    expect(st.mtimeMs).toBe(Date.parse('2010-01-02T03:04:05.678Z'));
    expect(st.atimeMs).toBe(Date.parse('2010-01-02T03:04:05.678Z'));
  });

  it('accepts times past 2038 and through a descriptor (futimens)', async () => {
    const d = await freshDir('utimens');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'x');
    const t = new Date('2100-12-31T23:59:59.123Z');
    const fh = await fs.open(f, 'r+');
    await fh.utimes(t, t);
    await fh.close();
    const st = await fs.stat(f);
    within1ms(st.mtimeMs, t);
    within1ms(st.atimeMs, t);
  });

  it('sets both times to now for touch (UTIME_NOW)', async () => {
    const d = await freshDir('utimens');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'x');
    await fs.utimes(f, PAST, PAST);
    const before = Date.now();
    await runOk('touch', [f]);
    const st = await fs.stat(f);
    expect(st.mtimeMs).toBeGreaterThanOrEqual(before - 2000);
    expect(st.atimeMs).toBeGreaterThanOrEqual(before - 2000);
  });

  it.skipIf(LIBFUSE2_HIGH_LEVEL)('sets only mtime when atime is UTIME_OMIT (touch -m -d; tar x does the same)', async () => {
    const d = await freshDir('utimens');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'x');
    await runOk('touch', ['-d', '2001-01-01 00:00:00.500 UTC', f]);
    await runOk('touch', ['-m', '-d', '2005-06-07 08:09:10.250 UTC', f]);
    const st = await fs.stat(f);
    expect(new Date(st.mtimeMs).toISOString()).toBe('2005-06-07T08:09:10.250Z');
    expect(new Date(st.atimeMs).toISOString()).toBe('2001-01-01T00:00:00.500Z');
  });

  it.skipIf(LIBFUSE2_HIGH_LEVEL)('sets only atime when mtime is UTIME_OMIT (touch -a -d)', async () => {
    const d = await freshDir('utimens');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'x');
    await runOk('touch', ['-d', '2001-01-01 00:00:00.500 UTC', f]);
    await runOk('touch', ['-a', '-d', '2007-06-07 08:09:10.250 UTC', f]);
    const st = await fs.stat(f);
    expect(new Date(st.atimeMs).toISOString()).toBe('2007-06-07T08:09:10.250Z');
    expect(new Date(st.mtimeMs).toISOString()).toBe('2001-01-01T00:00:00.500Z');
  });

  it('fails with ENOENT on a missing name', async () => {
    const d = await freshDir('utimens');
    await expectErrno(fs.utimes(path.join(d, 'missing'), PAST, PAST), 'ENOENT');
  });
});

describe('statfs(path)', () => {
  it('reports sane block and inode counts', async () => {
    const s = await fs.statfs(A.mountpoint);
    expect(s.bsize).toBeGreaterThan(0);
    expect(s.blocks).toBeGreaterThan(0);
    expect(s.bfree).toBeLessThanOrEqual(s.blocks);
    expect(s.bavail).toBeLessThanOrEqual(s.blocks);
    expect(s.ffree).toBeLessThanOrEqual(s.files);
    const d = await freshDir('statfs');
    expect((await fs.statfs(d)).bsize).toBe(s.bsize);
  });

  it('lets df report the mount', async () => {
    const out = await runOk('df', ['-P', A.mountpoint]);
    expect(out).toContain(A.mountpoint);
  });
});

describe('access(path, mode)', () => {
  it('grants F_OK, R_OK and W_OK on an existing file (as root)', async () => {
    const d = await freshDir('access');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'x', { mode: 0o644 });
    await fs.access(f, C.F_OK);
    await fs.access(f, C.R_OK | C.W_OK);
  });

  it('grants X_OK only when some execute bit is set, even to root', async () => {
    const d = await freshDir('access');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'x', { mode: 0o644 });
    await fs.chmod(f, 0o644);
    await expectErrno(fs.access(f, C.X_OK), 'EACCES');
    await fs.chmod(f, 0o744);
    await fs.access(f, C.X_OK);
    await fs.access(d, C.X_OK);
  });

  it('fails with ENOENT on a missing name', async () => {
    const d = await freshDir('access');
    await expectErrno(fs.access(path.join(d, 'missing')), 'ENOENT');
  });
});

describe('extended attributes: setxattr, getxattr, listxattr, removexattr', () => {
  const get = (f: string, name: string) => run('getfattr', ['--absolute-names', '--only-values', '-n', name, f]);
  const getHex = (f: string, name: string) => run('getfattr', ['--absolute-names', '-e', 'hex', '-n', name, f]);
  const list = async (f: string): Promise<string[]> => {
    const out = await runOk('getfattr', ['--absolute-names', '-m', '^user\\.', '-d', f]);
    return out
      .split('\n')
      .filter((l) => l.startsWith('user.'))
      .map((l) => l.split('=')[0] ?? '')
      .sort();
  };

  it('sets, gets, overwrites and lists user attributes', async () => {
    const d = await freshDir('xattr');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'x');
    await runOk('setfattr', ['-n', 'user.color', '-v', 'blue', f]);
    await runOk('setfattr', ['-n', 'user.size', '-v', 'large', f]);
    expect((await get(f, 'user.color')).stdout).toBe('blue');
    await runOk('setfattr', ['-n', 'user.color', '-v', 'green', f]);
    expect((await get(f, 'user.color')).stdout).toBe('green');
    expect(await list(f)).toEqual(['user.color', 'user.size']);
  });

  it('round-trips a binary value, an empty value and attributes on a directory', async () => {
    const d = await freshDir('xattr');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'x');
    const bin = new Prng(7).bytes(2000);
    bin[0] = 0;
    await runOk('setfattr', ['-n', 'user.bin', '-v', `0x${bin.toString('hex')}`, f]);
    const out = (await getHex(f, 'user.bin')).stdout;
    expect(out).toContain(`user.bin=0x${bin.toString('hex')}`);
    await runOk('setfattr', ['-n', 'user.empty', f]);
    expect((await get(f, 'user.empty')).code).toBe(0);
    expect((await get(f, 'user.empty')).stdout).toBe('');
    await runOk('setfattr', ['-n', 'user.dir', '-v', 'yes', d]);
    expect((await get(d, 'user.dir')).stdout).toBe('yes');
  });

  it('removes an attribute; getting or removing a missing one fails with ENODATA', async () => {
    const d = await freshDir('xattr');
    const f = path.join(d, 'f');
    await fs.writeFile(f, 'x');
    await runOk('setfattr', ['-n', 'user.gone', '-v', 'soon', f]);
    await runOk('setfattr', ['-x', 'user.gone', f]);
    const after = await get(f, 'user.gone');
    expect(after.code).not.toBe(0);
    expect(after.stderr).toMatch(/No such attribute|No data available/);
    const removeMissing = await run('setfattr', ['-x', 'user.never', f]);
    expect(removeMissing.code).not.toBe(0);
    expect(removeMissing.stderr).toMatch(/No such attribute|No data available/);
    expect(await list(f)).toEqual([]);
  });

  it('keeps attributes across a rename', async () => {
    const d = await freshDir('xattr');
    await fs.writeFile(path.join(d, 'a'), 'x');
    await runOk('setfattr', ['-n', 'user.k', '-v', 'v', path.join(d, 'a')]);
    await fs.rename(path.join(d, 'a'), path.join(d, 'b'));
    expect((await get(path.join(d, 'b'), 'user.k')).stdout).toBe('v');
  });
});

describe('names', () => {
  it('accepts a 255-byte name in create, stat, readdir, rename and unlink', async () => {
    const d = await freshDir('names');
    const n255 = 'n'.repeat(255);
    const m255 = 'm'.repeat(255);
    await fs.writeFile(path.join(d, n255), 'long name');
    expect((await fs.stat(path.join(d, n255))).size).toBe(9);
    expect(await fs.readdir(d)).toEqual([n255]);
    await fs.rename(path.join(d, n255), path.join(d, m255));
    await fs.mkdir(path.join(d, n255));
    await fs.rmdir(path.join(d, n255));
    await fs.unlink(path.join(d, m255));
  });

  it('fails with ENAMETOOLONG for a 256-byte name in create, mkdir, rename, link and symlink', async () => {
    const d = await freshDir('names');
    const n256 = 'n'.repeat(256);
    await fs.writeFile(path.join(d, 'ok'), 'x');
    await expectErrno(fs.writeFile(path.join(d, n256), 'x'), 'ENAMETOOLONG');
    await expectErrno(fs.mkdir(path.join(d, n256)), 'ENAMETOOLONG');
    await expectErrno(fs.rename(path.join(d, 'ok'), path.join(d, n256)), 'ENAMETOOLONG');
    await expectErrno(fs.link(path.join(d, 'ok'), path.join(d, n256)), 'ENAMETOOLONG');
    await expectErrno(fs.symlink('ok', path.join(d, n256)), 'ENAMETOOLONG');
    await expectErrno(fs.stat(path.join(d, n256)), 'ENAMETOOLONG', 'ENOENT');
    expect(await fs.readdir(d)).toEqual(['ok']);
  });

  it('counts bytes, not characters: 85 × "€" (255 bytes) is fine, 86 (258 bytes) is too long', async () => {
    const d = await freshDir('names');
    await fs.writeFile(path.join(d, '€'.repeat(85)), 'x');
    expect(await fs.readdir(d)).toEqual(['€'.repeat(85)]);
    await expectErrno(fs.writeFile(path.join(d, '€'.repeat(86)), 'x'), 'ENAMETOOLONG');
  });

  it('round-trips names with spaces, newlines, unicode and shell metacharacters', async () => {
    const d = await freshDir('names');
    const names = ['with space', 'new\nline', 'tab\there', 'ünïcødé', '日本語', '🙂 emoji', '-dash', '..dots', 'a:b*c?d', "quote'\"", 'back\\slash', ' '];
    for (const n of names) await fs.writeFile(path.join(d, n), n);
    expect((await fs.readdir(d)).sort()).toEqual([...names].sort());
    for (const n of names) expect(await fs.readFile(path.join(d, n), 'utf8')).toBe(n);
  });
});

describe('sparse files', () => {
  it('stores one byte at 5 GiB: size is right, the hole reads as zeros, blocks stay small', async () => {
    const d = await freshDir('sparse');
    const f = path.join(d, 'sparse');
    const off = 5 * GiB;
    const fh = await fs.open(f, 'w+');
    try {
      await writeAt(fh, off, Buffer.from('Z'));
      await fh.sync();
    } finally {
      await fh.close();
    }
    const st = await fs.stat(f);
    expect(st.size).toBe(off + 1);
    expect(st.blocks * 512).toBeLessThan(64 * MiB);
    const r = await fs.open(f, 'r');
    try {
      expect(isAllZero(await readAt(r, 0, 64 * 1024))).toBe(true);
      const around4G = await readAt(r, 4 * GiB - 32 * 1024, 64 * 1024);
      expect(around4G.length).toBe(64 * 1024);
      expect(isAllZero(around4G)).toBe(true);
      const mid = await readAt(r, 2.5 * GiB, MiB);
      expect(mid.length).toBe(MiB);
      expect(isAllZero(mid)).toBe(true);
      const end = await readAt(r, off - 10, 100);
      expect(end.length).toBe(11);
      expect(isAllZero(end.subarray(0, 10))).toBe(true);
      expect(end.subarray(10).toString()).toBe('Z');
    } finally {
      await r.close();
    }
    const du = await runOk('du', ['-k', f]);
    expect(Number(du.split('\t')[0])).toBeLessThan(64 * 1024);
    await fs.unlink(f);
  });
});

describe('large files', () => {
  it('writes a file of several 1 MiB chunks and reads it back with an equal sha256, here and on a fresh mount', async () => {
    const d = await freshDir('large');
    const f = path.join(d, 'big');
    const data = new Prng(2024).bytes(5 * MiB + 12345);
    const fh = await fs.open(f, 'w');
    try {
      // Odd-sized writes so that writes straddle chunk boundaries.
      const rng = new Prng(99);
      for (let off = 0; off < data.length; ) {
        const n = Math.min(rng.int(1, 200_000), data.length - off);
        await writeAt(fh, off, data.subarray(off, off + n));
        off += n;
      }
    } finally {
      await fh.close();
    }
    expect((await fs.stat(f)).size).toBe(data.length);
    expect(await sha256File(f)).toBe(sha256(data));
    const B = await mountHost({ volume, label: 'B-fresh' });
    try {
      const onB = B.p(path.relative(A.mountpoint, f));
      expect((await fs.stat(onB)).size).toBe(data.length);
      expect(await sha256File(onB)).toBe(sha256(data));
    } finally {
      await B.stop();
    }
  });
});
