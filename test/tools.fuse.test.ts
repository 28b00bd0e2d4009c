// Real tools on the mount: what people actually run must work and round-trip exactly.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LIBFUSE2_HIGH_LEVEL,
  dumpLogsOnFailure,
  expectErrno,
  makeTempDir,
  mountHost,
  Prng,
  run,
  runOk,
  sha256,
  sha256File,
  uniqueVolume,
  type Host,
} from './support/index.js';

const MiB = 1024 * 1024;
const volume = uniqueVolume('tools');
let A: Host;
let local: string; // a local (non-FUSE) scratch directory
let source: string; // a tree on local disk that the tools copy into the mount
let serial = 0;

const OLD = new Date('2019-05-06T07:08:09.123Z');

/** Builds a small but varied tree: nested dirs, odd names, modes, symlinks, a multi-chunk file. */
async function makeSourceTree(root: string): Promise<void> {
  const rng = new Prng(1234);
  await fs.mkdir(path.join(root, 'bin'), { recursive: true });
  await fs.mkdir(path.join(root, 'data'));
  await fs.mkdir(path.join(root, 'deep', 'a', 'b', 'c', 'd', 'e'), { recursive: true });
  await fs.mkdir(path.join(root, 'links'));
  await fs.mkdir(path.join(root, 'many'));
  await fs.mkdir(path.join(root, 'modes'));
  await fs.writeFile(path.join(root, 'README.md'), '# source tree\n\nUsed by tools.fuse.test.ts.\n');
  await fs.writeFile(path.join(root, 'bin', 'run.sh'), '#!/bin/sh\necho ran\n', { mode: 0o755 });
  await fs.chmod(path.join(root, 'bin', 'run.sh'), 0o755);
  await fs.writeFile(path.join(root, 'data', 'random.bin'), rng.bytes(3 * MiB + 1));
  await fs.writeFile(path.join(root, 'data', 'empty'), '');
  await fs.writeFile(path.join(root, 'data', 'zeros'), Buffer.alloc(200_000));
  await fs.writeFile(path.join(root, 'deep', 'a', 'b', 'c', 'd', 'e', 'leaf.txt'), 'leaf\n');
  await fs.writeFile(path.join(root, 'name with spaces.txt'), 'spaces\n');
  await fs.writeFile(path.join(root, 'ünïcødé.txt'), 'unicode\n');
  await fs.symlink('../README.md', path.join(root, 'links', 'readme'));
  await fs.symlink('nowhere', path.join(root, 'links', 'dangling'));
  await fs.symlink('../deep/a', path.join(root, 'links', 'dir'));
  for (let i = 0; i < 200; i++) await fs.writeFile(path.join(root, 'many', `f${i}`), rng.bytes(rng.int(0, 3000)));
  await fs.writeFile(path.join(root, 'modes', 'readonly'), 'ro\n');
  await fs.chmod(path.join(root, 'modes', 'readonly'), 0o444);
  await fs.writeFile(path.join(root, 'modes', 'private'), 'private\n');
  await fs.chmod(path.join(root, 'modes', 'private'), 0o600);
  await fs.utimes(path.join(root, 'README.md'), OLD, OLD);
  await fs.utimes(path.join(root, 'data', 'random.bin'), OLD, OLD);
  await fs.utimes(path.join(root, 'deep', 'a'), OLD, OLD);
}

interface SnapshotOptions {
  /**
   * Compare mtimes of files and directories: 's' to the second (what tar keeps), 'ms' to the
   * millisecond (redisfs keeps ms; ±1 ms allowed for truncation vs rounding of the source's ns).
   */
  mtime: 'ms' | 's' | 'none';
}

interface Snapshot {
  /** One line per entry: path, type, permission bits, size (files), link target (symlinks). */
  readonly lines: string[];
  /** mtime (ms) of files and directories by path. */
  readonly mtimes: Map<string, number>;
}

async function snapshot(root: string): Promise<Snapshot> {
  const lines: string[] = [];
  const mtimes = new Map<string, number>();
  const walk = async (rel: string): Promise<void> => {
    const abs = path.join(root, rel);
    const st = await fs.lstat(abs);
    const perm = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) lines.push(`${rel} link -> ${await fs.readlink(abs)}`);
    else if (st.isDirectory()) {
      if (rel !== '') {
        lines.push(`${rel}/ dir ${perm}`);
        mtimes.set(rel, st.mtimeMs);
      }
      for (const name of (await fs.readdir(abs)).sort()) await walk(path.join(rel, name));
    } else if (st.isFile()) {
      lines.push(`${rel} file ${perm} ${st.size}`);
      mtimes.set(rel, st.mtimeMs);
    } else lines.push(`${rel} other ${perm}`);
  };
  await walk('');
  return { lines, mtimes };
}

/** Asserts that `copy` equals `orig`: contents by diff -r, then types, modes, sizes, links and mtimes. */
async function expectSameTree(orig: string, copy: string, opts: SnapshotOptions): Promise<void> {
  const diff = await run('diff', ['-r', '--no-dereference', orig, copy], { timeoutMs: 120_000 });
  expect(diff.code, `diff -r found differences:\n${diff.stdout.slice(0, 3000)}${diff.stderr.slice(0, 2000)}`).toBe(0);
  const a = await snapshot(orig);
  const b = await snapshot(copy);
  expect(b.lines, 'types, permission bits, sizes or link targets differ').toEqual(a.lines);
  if (opts.mtime === 'none') return;
  const wrong: string[] = [];
  for (const [rel, want] of a.mtimes) {
    const got = b.mtimes.get(rel) ?? NaN;
    const ok = opts.mtime === 's' ? Math.floor(got / 1000) === Math.floor(want / 1000) : Math.abs(got - want) <= 1;
    if (!ok) wrong.push(`${rel}: mtime ${new Date(got).toISOString()} (${got}), expected ${new Date(want).toISOString()} (${want})`);
  }
  expect(wrong, `mtimes not preserved (precision ${opts.mtime})`).toEqual([]);
}

/** A fresh directory on the mount for one test. */
async function freshDir(label: string): Promise<string> {
  const d = A.p(`${label}-${serial++}`);
  await fs.mkdir(d);
  return d;
}

const gitEnv: NodeJS.ProcessEnv = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_TERMINAL_PROMPT: '0',
};

beforeAll(async () => {
  local = await makeTempDir('tools-local');
  source = path.join(local, 'source');
  await fs.mkdir(source);
  await makeSourceTree(source);
  gitEnv.HOME = local;
  A = await mountHost({ volume, label: 'A' });
});
afterAll(async () => {
  await A?.stop();
  if (local) await fs.rm(local, { recursive: true, force: true });
});
dumpLogsOnFailure(() => [A]);

describe('tar', () => {
  it('extracts an archive into the mount (tar x) equal to the source, and archives it back (tar c) equal again', async () => {
    const d = await freshDir('tar');
    const archive = path.join(local, 'src.tar');
    await runOk('tar', ['-C', source, '-cf', archive, '.']);
    await runOk('tar', ['-C', d, '-xpf', archive]);
    // tar x sets mtime with atime UTIME_OMIT, which libfuse2's high-level API drops.
    const mtime = LIBFUSE2_HIGH_LEVEL ? 'none' : 's';
    await expectSameTree(source, d, { mtime });
    // And back out: tar c reading from the mount.
    const back = path.join(local, 'tar-back');
    await fs.mkdir(back);
    const archive2 = path.join(local, 'back.tar');
    await runOk('tar', ['-C', d, '-cf', archive2, '.']);
    await runOk('tar', ['-C', back, '-xpf', archive2]);
    await expectSameTree(source, back, { mtime });
    // A compressed stream straight into the mount.
    const tgz = path.join(d, 'src.tar.gz');
    await runOk('tar', ['-C', source, '-czf', tgz, '.']);
    await runOk('tar', ['-tzf', tgz]);
    await fs.rm(back, { recursive: true });
  });
});

describe('rsync', () => {
  /** A private local copy of the source tree that a test may change. */
  async function privateSource(label: string): Promise<string> {
    const dir = path.join(local, `${label}-${serial++}`);
    await runOk('cp', ['-a', source, dir]);
    return dir;
  }

  it('copies a tree into the mount with rsync -a (diff -r equal), and a second run has nothing to do', async () => {
    const source = await privateSource('rsync-src');
    const d = await freshDir('rsync');
    await runOk('rsync', ['-a', `${source}/`, `${d}/`]);
    await expectSameTree(source, d, { mtime: 's' });
    // Sizes and mtimes were stored exactly: nothing is transferred again.
    const again = await runOk('rsync', ['-ai', `${source}/`, `${d}/`]);
    expect(again.trim(), 'rsync -ai itemized changes on an unchanged tree').toBe('');
    // A changed file is picked up (via a temp file and a rename on the mount).
    await fs.writeFile(path.join(source, 'many', 'f7'), 'changed for rsync\n');
    const t = new Date(Date.now() - 60_000);
    await fs.utimes(path.join(source, 'many', 'f7'), t, t);
    const third = await runOk('rsync', ['-ai', `${source}/`, `${d}/`]);
    expect(third).toContain('many/f7');
    expect(await fs.readFile(path.join(d, 'many', 'f7'), 'utf8')).toBe('changed for rsync\n');
    await expectSameTree(source, d, { mtime: 's' });
  });

  it('copies a tree out of the mount with rsync -a, and in place with --inplace', async () => {
    const source = await privateSource('rsync-src');
    const d = await freshDir('rsync-out');
    await runOk('rsync', ['-a', `${source}/`, `${d}/`]);
    const out = path.join(local, 'rsync-out');
    await runOk('rsync', ['-a', `${d}/`, `${out}/`]);
    await expectSameTree(source, out, { mtime: 's' });
    await fs.rm(out, { recursive: true });
    await fs.writeFile(path.join(source, 'data', 'zeros'), Buffer.alloc(200_000, 1));
    await runOk('rsync', ['-a', '--inplace', '--no-whole-file', `${source}/`, `${d}/`]);
    await expectSameTree(source, d, { mtime: 's' });
  });
});

describe('git', () => {
  it('clones a local repository into the mount; git fsck passes and the work tree is clean', async () => {
    const repo = path.join(local, 'repo');
    await fs.mkdir(repo);
    const git = (args: string[], cwd: string) => runOk('git', args, { cwd, env: gitEnv, timeoutMs: 120_000 });
    await git(['init', '-q', '-b', 'main'], repo);
    for (let i = 0; i < 3; i++) {
      await fs.writeFile(path.join(repo, `file${i}.txt`), `content ${i}\n`.repeat(100 * (i + 1)));
      await fs.writeFile(path.join(repo, 'blob.bin'), new Prng(i).bytes(300_000));
      await git(['add', '-A'], repo);
      await git(['commit', '-q', '-m', `commit ${i}`], repo);
    }
    await git(['tag', 'v1'], repo);
    const d = await freshDir('git');
    // --no-local makes git transfer a pack instead of copying/hard-linking object files.
    await git(['clone', '-q', '--no-local', repo, 'clone'], d);
    const clone = path.join(d, 'clone');
    await git(['fsck', '--full', '--strict'], clone);
    expect((await git(['status', '--porcelain'], clone)).trim()).toBe('');
    expect((await git(['log', '--oneline'], clone)).trim().split('\n')).toHaveLength(3);
    expect((await git(['rev-parse', 'HEAD'], clone)).trim()).toBe((await git(['rev-parse', 'HEAD'], repo)).trim());
    // Work on the mount: commit, repack (renames, fsync, mmap of packs), check again.
    await fs.writeFile(path.join(clone, 'new.txt'), 'made on the mount\n');
    await git(['add', 'new.txt'], clone);
    await git(['commit', '-q', '-m', 'on the mount'], clone);
    await git(['gc', '-q', '--aggressive', '--prune=now'], clone);
    await git(['fsck', '--full', '--strict'], clone);
    expect((await git(['status', '--porcelain'], clone)).trim()).toBe('');
    // A plain local clone (hard links or copies of object files) works too.
    await git(['clone', '-q', clone, 'clone2'], d);
    await git(['fsck', '--full'], path.join(d, 'clone2'));
  });
});

describe('coreutils and findutils', () => {
  it('cp -a copies a tree into the mount with contents, modes, times and symlinks', async () => {
    const d = await freshDir('cp');
    await runOk('cp', ['-a', source, path.join(d, 'copy')]);
    await expectSameTree(source, path.join(d, 'copy'), { mtime: 'ms' });
    // And a copy within the mount.
    await runOk('cp', ['-a', path.join(d, 'copy'), path.join(d, 'copy2')]);
    await expectSameTree(source, path.join(d, 'copy2'), { mtime: 'ms' });
  });

  it('mv renames within the mount and moves in from another filesystem', async () => {
    const d = await freshDir('mv');
    await runOk('cp', ['-a', source, path.join(d, 'tree')]);
    await runOk('mv', [path.join(d, 'tree'), path.join(d, 'moved')]);
    await expectErrno(fs.stat(path.join(d, 'tree')), 'ENOENT');
    await expectSameTree(source, path.join(d, 'moved'), { mtime: 'ms' });
    const outside = path.join(local, 'mv-src');
    await runOk('cp', ['-a', source, outside]);
    await runOk('mv', [outside, path.join(d, 'from-outside')]);
    await expectErrno(fs.stat(outside), 'ENOENT');
    await expectSameTree(source, path.join(d, 'from-outside'), { mtime: 's' });
  });

  it('rm -r removes a whole tree', async () => {
    const d = await freshDir('rm');
    await runOk('cp', ['-a', source, path.join(d, 'tree')]);
    await runOk('rm', ['-r', path.join(d, 'tree')]);
    await expectErrno(fs.stat(path.join(d, 'tree')), 'ENOENT');
    expect(await fs.readdir(d)).toEqual([]);
  });

  it('find lists every entry and filters by type, name and size', async () => {
    const d = await freshDir('find');
    await runOk('cp', ['-a', source, path.join(d, 'tree')]);
    const list = async (root: string, ...args: string[]): Promise<string[]> =>
      (await runOk('find', ['.', ...args], { cwd: root })).split('\n').filter(Boolean).sort();
    const tree = path.join(d, 'tree');
    expect(await list(tree)).toEqual(await list(source));
    expect(await list(tree, '-type', 'f')).toEqual(await list(source, '-type', 'f'));
    expect(await list(tree, '-type', 'l')).toEqual(await list(source, '-type', 'l'));
    expect(await list(tree, '-name', '*.txt')).toEqual(await list(source, '-name', '*.txt'));
    expect(await list(tree, '-size', '+1M')).toEqual(['./data/random.bin']);
    expect(await list(tree, '-empty', '-type', 'f')).toEqual(['./data/empty']);
  });

  it('du reports apparent sizes exactly and disk usage close to the data', async () => {
    const d = await freshDir('du');
    const f = path.join(d, 'data.bin');
    const size = 3 * MiB + 5;
    await fs.writeFile(f, new Prng(3).bytes(size));
    expect(Number((await runOk('du', ['-b', f])).split('\t')[0])).toBe(size);
    const kib = Number((await runOk('du', ['-k', f])).split('\t')[0]);
    expect(kib).toBeGreaterThanOrEqual(Math.floor(size / 1024));
    expect(kib).toBeLessThanOrEqual(Math.ceil(size / 1024) + 1024);
    await runOk('cp', ['-a', source, path.join(d, 'tree')]);
    const total = Number((await runOk('du', ['-sk', path.join(d, 'tree')])).split('\t')[0]);
    expect(total).toBeGreaterThanOrEqual(3 * 1024);
  });

  it('sha256sum, cat and sort read files on the mount', async () => {
    const d = await freshDir('coreutils');
    await runOk('cp', ['-a', path.join(source, 'data', 'random.bin'), d]);
    const sum = (await runOk('sha256sum', [path.join(d, 'random.bin')])).split(' ')[0];
    expect(sum).toBe(await sha256File(path.join(source, 'data', 'random.bin')));
    await fs.writeFile(path.join(d, 'lines'), 'c\na\nb\n');
    await runOk('sh', ['-c', 'sort "$1" > "$2" && cat "$2" "$2" > "$3"', 'sh', path.join(d, 'lines'), path.join(d, 'sorted'), path.join(d, 'twice')]);
    expect(await fs.readFile(path.join(d, 'twice'), 'utf8')).toBe('a\nb\nc\na\nb\nc\n');
    expect((await runOk(path.join(source, 'bin', 'run.sh'), [])).trim()).toBe('ran');
    await runOk('cp', ['-a', path.join(source, 'bin', 'run.sh'), d]);
    expect((await runOk(path.join(d, 'run.sh'), [])).trim()).toBe('ran');
  });
});

describe('editor-style save', () => {
  it('writes a temp file, fsyncs it and renames it over the original, keeping a backup', async () => {
    const d = await freshDir('editor');
    const f = path.join(d, 'notes.txt');
    await fs.writeFile(f, 'original text\n');
    await fs.chmod(f, 0o640);
    const oldIno = (await fs.stat(f)).ino;
    // What vim (backupcopy=no) and most editors do.
    await fs.copyFile(f, `${f}~`);
    const tmp = path.join(d, '.notes.txt.swp');
    const fh = await fs.open(tmp, 'wx', 0o600);
    await fh.write('edited text\nwith a second line\n');
    await fh.chmod(0o640);
    await fh.sync();
    await fh.close();
    await fs.rename(tmp, f);
    const st = await fs.stat(f);
    expect(await fs.readFile(f, 'utf8')).toBe('edited text\nwith a second line\n');
    expect(st.ino).not.toBe(oldIno);
    expect(st.mode & 0o777).toBe(0o640);
    expect(await fs.readFile(`${f}~`, 'utf8')).toBe('original text\n');
    expect((await fs.readdir(d)).sort()).toEqual(['notes.txt', 'notes.txt~']);
  });
});

describe('a Node script', () => {
  it('reads and writes files on the mount in a separate process', async () => {
    const d = await freshDir('node');
    const script = `
      const fs = require('node:fs');
      const path = require('node:path');
      const crypto = require('node:crypto');
      const dir = process.argv[1];
      const data = { hello: 'world', n: [1, 2, 3] };
      fs.writeFileSync(path.join(dir, 'data.json'), JSON.stringify(data));
      const back = JSON.parse(fs.readFileSync(path.join(dir, 'data.json'), 'utf8'));
      for (let i = 0; i < 100; i++) fs.appendFileSync(path.join(dir, 'log.txt'), 'line ' + i + '\\n');
      const big = crypto.createHash('sha256');
      const ws = fs.createWriteStream(path.join(dir, 'stream.bin'));
      let i = 0;
      const write = () => {
        while (i < 64) {
          const chunk = Buffer.alloc(65536, i);
          big.update(chunk);
          i++;
          if (!ws.write(chunk)) return ws.once('drain', write);
        }
        ws.end(() => {
          const h = crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, 'stream.bin'))).digest('hex');
          console.log(JSON.stringify({ back, lines: fs.readFileSync(path.join(dir, 'log.txt'), 'utf8').split('\\n').length - 1, same: h === big.digest('hex') }));
        });
      };
      write();
    `;
    const out = await runOk(process.execPath, ['-e', script, d]);
    expect(JSON.parse(out)).toEqual({ back: { hello: 'world', n: [1, 2, 3] }, lines: 100, same: true });
    expect(sha256(await fs.readFile(path.join(d, 'stream.bin')))).toBe(
      sha256(Buffer.concat(Array.from({ length: 64 }, (_, i) => Buffer.alloc(65536, i)))),
    );
  });
});
