// The lowlevel addon over a long run, under AddressSanitizer: thousands of mixed requests,
// kernel notifications, interrupts, requests left pending at unmount and a second session
// unmounted from outside, served by the ASan build of native/redisfs_fuse.c
// (scripts/build-fuse-lowlevel-asan.sh) in a node started with libasan preloaded, running
// test/support/memfs-lowlevel.mjs (no Redis: only the addon's own code paths matter here). After the unmount and a natural exit, ASan must have reported no
// memory error, and LeakSanitizer no leak allocated by the addon, directly or through libfuse.
// Node 20 leaks a little of its own at exit (40 bytes of bookkeeping per napi_create_external,
// whose finalizer did run): leaks allocated by node's code are printed, not failed.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BINDING, HAVE_PYTHON3, interruptedCall, isMounted, killedWhileWaiting, makeTempDir, REPO_ROOT, forceUnmount, runOk, sleep, tmpRoot, waitExit, waitFor,
} from './support/index.js';

const LIBASAN = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout?.trim() ?? '';
const HAVE_ASAN = path.isAbsolute(LIBASAN) && existsSync(LIBASAN);
const SKIP = BINDING !== 'lowlevel' ? 'the lowlevel binding is not under test'
  : !HAVE_ASAN ? 'gcc has no libasan (Debian: libasan8, pulled in by g++)' : '';
if (SKIP) console.warn(`addon-leaks: skipped: ${SKIP}`);

const ADDON = path.join(REPO_ROOT, 'native', 'build-asan', 'redisfs_fuse.node');
const MEMFS = path.join(REPO_ROOT, 'test', 'support', 'memfs-lowlevel.mjs');
/** Directories of mixed work on 20 files each: about 10,000 FUSE requests in all. */
const ROUNDS = 12;
const SLOW_KILLED = 8;
const HUNG = 3;

interface Counts {
  requests: number; notices: number; interrupted: number; refusedLate: number; hung: number; exitedOutside: number;
  pendingAtUnmount: number; pendingAfterUnmount: number;
}

let dir: string;
let mnt: string;
/** The same tree, a second session: unmounted from outside during the run. */
let mnt2: string;
let server: ChildProcess | undefined;
let pidFile: string | undefined;
let stdout = '';
let stderr = '';

function build(): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('sh', [path.join(REPO_ROOT, 'scripts', 'build-fuse-lowlevel-asan.sh')], (err, _o, e) => (err ? reject(new Error(`ASan build failed: ${e}`)) : resolve())));
}

beforeAll(async () => {
  if (SKIP) return;
  await build();
  dir = await makeTempDir('asan');
  mnt = path.join(dir, 'mnt');
  mnt2 = path.join(dir, 'mnt2');
  await fs.mkdir(mnt);
  await fs.mkdir(mnt2);
  // Slow unwinding: libfuse has no frame pointers, and a leak made inside it must still show
  // the addon frame that called it.
  const asanOptions = [`log_path=${path.join(dir, 'asan')}`, 'detect_leaks=1', 'fast_unwind_on_malloc=0', 'malloc_context_size=20'];
  server = spawn(process.execPath, [MEMFS, ADDON, mnt, mnt2], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LD_PRELOAD: LIBASAN, ASAN_OPTIONS: asanOptions.join(':') },
  });
  server.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  server.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // Recorded like a daemon's: the run's teardown kills it if this worker dies first.
  pidFile = path.join(tmpRoot(), 'pids', `daemon-${server.pid}`);
  await fs.mkdir(path.dirname(pidFile), { recursive: true });
  await fs.writeFile(pidFile, '');
  await waitFor(() => {
    if (server!.exitCode !== null) throw new Error(`memfs exited ${server!.exitCode}: ${stderr}`);
    expect(stdout.match(/^ready$/gm)).toHaveLength(2);
  }, { timeoutMs: 30_000, intervalMs: 50 });
}, 90_000);

afterAll(async () => {
  if (server && server.exitCode === null && server.signalCode === null) {
    server.kill('SIGKILL');
    await waitExit(server, 5000);
  }
  for (const m of [mnt, mnt2]) if (m && (await isMounted(m))) await forceUnmount(m);
  if (pidFile) await fs.rm(pidFile, { force: true });
});

/** Creates, writes, reads, appends, truncates, chmods, renames, links, lists and removes. */
async function fileWork(root: string, round: number): Promise<void> {
  const d = path.join(root, `d${round}`);
  await fs.mkdir(d);
  await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    const f = path.join(d, `f${i}`);
    // Every fifth file large enough for a WRITE into one of the addon's reused blocks.
    const body = Buffer.alloc(i % 5 === 0 ? 300_000 + i : 1000 + i * 997, i);
    await fs.writeFile(f, body);
    expect((await fs.readFile(f)).equals(body)).toBe(true);
    await fs.appendFile(f, 'tail');
    await fs.truncate(f, 10);
    await fs.chmod(f, 0o600);
    await fs.rename(f, `${f}.moved`);
    expect((await fs.stat(`${f}.moved`)).size).toBe(10);
    if (i % 4 === 0) {
      await fs.symlink(`f${i}.moved`, `${f}.sym`);
      expect(await fs.readlink(`${f}.sym`)).toBe(`f${i}.moved`);
      await fs.link(`${f}.moved`, `${f}.hard`);
    }
  }));
  expect((await fs.readdir(d, { withFileTypes: true })).length).toBe(20 + 5 * 2);
  await fs.statfs(d);
  await fs.rm(d, { recursive: true });
}

// setxattr/getxattr/listxattr/removexattr: node has no xattr calls.
const XATTRS = `
import os, sys
f = sys.argv[1]
open(f, 'w').close()
for i in range(int(sys.argv[2])):
    os.setxattr(f, 'user.k%d' % (i % 7), b'v' * (i % 300))
    assert os.getxattr(f, 'user.k%d' % (i % 7)) == b'v' * (i % 300)
    os.listxattr(f)
    if i % 3 == 0: os.removexattr(f, 'user.k%d' % (i % 7))
`;

describe.skipIf(SKIP !== '')('lowlevel addon under AddressSanitizer', () => {
  it('serves thousands of mixed requests, notifications and interrupts, then unmounts, with no memory error and no leak of its own', async () => {
    const hung = await workload().catch(async (err: unknown) => {
      // ASan ends the process at its first error, which fails whatever call was under way.
      await waitExit(server!, 2000);
      const report = await asanReport(dir);
      throw new Error(`${String(err)}\nmemfs: exit ${server!.exitCode} ${server!.signalCode}\n${report.errors.join('\n')}\n${stderr.slice(-3000)}`);
    });

    server!.kill('SIGTERM');
    expect(await waitExit(server!, 20_000), 'memfs did not exit after the unmount').toBe(true);
    await Promise.all(hung.map((c) => waitExit(c, 5000)));
    expect(hung.every((c) => c.exitCode !== null && c.exitCode !== 0), 'the pending stats failed at the unmount').toBe(true);
    expect(await isMounted(mnt)).toBe(false);
    expect(await isMounted(mnt2)).toBe(false);

    const counts = JSON.parse(stdout.trim().split('\n').at(-1)!) as Counts;
    console.log(`addon under ASan: ${JSON.stringify(counts)}`);
    expect(counts.requests).toBeGreaterThan(5000);
    expect(counts.notices).toBeGreaterThan(500);
    const interrupts = SLOW_KILLED + (HAVE_PYTHON3 ? 1 : 0);
    expect(counts).toMatchObject({
      interrupted: interrupts, refusedLate: interrupts, hung: HUNG, exitedOutside: 1, pendingAtUnmount: HUNG, pendingAfterUnmount: 0,
    });

    const report = await asanReport(dir);
    expect(report.errors, report.errors.join('\n')).toEqual([]);
    if (report.foreignLeaks.length > 0) console.log(`leaks node made itself (not failed):\n${report.foreignLeaks.join('\n')}`);
    expect(report.ourLeaks, report.ourLeaks.join('\n\n')).toEqual([]);
  });
});

/**
 * The run: file work (on both sessions, then the second is unmounted from outside), xattrs,
 * interrupted lookups; returns the processes whose lookups hang.
 */
async function workload(): Promise<ChildProcess[]> {
  for (let r = 0; r < ROUNDS; r++) await fileWork(r % 4 === 3 ? mnt2 : mnt, r);
  await runOk('umount', [mnt2]);
  await waitFor(() => expect(stdout).toMatch(/^exited$/m), { timeoutMs: 10_000 });
  if (HAVE_PYTHON3) {
    const py = spawnSync('python3', ['-c', XATTRS, path.join(mnt, 'xattrs'), '300'], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
  }
  // Interrupted lookups (answered EINTR, the late answer refused) and lookups nobody answers.
  for (let i = 0; i < SLOW_KILLED; i++) expect(await killedWhileWaiting('stat', [path.join(mnt, `slow-${i}`)], 150)).toBeLessThan(2000);
  if (HAVE_PYTHON3) expect((await interruptedCall('open', path.join(mnt, 'slow-caught'), 150)).result).toBe('EINTR');
  // One directory each: libfuse before 3.17 does not pass FUSE_PARALLEL_DIROPS on, so the
  // kernel sends one lookup at a time per directory.
  const hung = await Promise.all(Array.from({ length: HUNG }, async (_, i) => {
    await fs.mkdir(path.join(mnt, `h${i}`));
    return spawn('stat', [path.join(mnt, `h${i}`, 'hang-')], { stdio: 'ignore' });
  }));
  await sleep(300); // their lookups reach memfs
  return hung;
}

interface AsanReport { errors: string[]; ourLeaks: string[]; foreignLeaks: string[] }

// LeakSanitizer prints one block per leak: a "Direct/Indirect leak of N byte(s)" line, then the
// allocating stack (#0 the allocator itself). A leak is the addon's if the first frame past
// the allocator, libfuse and libc (which allocate on its behalf) is in redisfs_fuse.c.
async function asanReport(logDir: string): Promise<AsanReport> {
  const out: AsanReport = { errors: [], ourLeaks: [], foreignLeaks: [] };
  for (const f of (await fs.readdir(logDir)).filter((n) => n.startsWith('asan.'))) {
    const text = await fs.readFile(path.join(logDir, f), 'utf8');
    for (const m of text.matchAll(/ERROR: AddressSanitizer: [^\n]*/g)) out.errors.push(`${f}: ${text.slice(m.index, m.index + 3000)}`);
    for (const block of text.split(/\n(?=(?:Direct|Indirect) leak of )/).slice(1)) {
      const frames = block.split('\n').filter((l) => /^\s+#\d+ /.test(l)).slice(1);
      const caller = frames.find((l) => !/libfuse3\.so|libc\.so|\/libc-|in (?:__)?strn?dup /.test(l)) ?? '';
      (/redisfs_fuse\.c/.test(caller) ? out.ourLeaks : out.foreignLeaks).push(block.split('\n').slice(0, 6).join('\n'));
    }
  }
  return out;
}
