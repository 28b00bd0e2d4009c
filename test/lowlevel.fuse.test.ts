// What only the lowlevel binding does: kernel caches kept long and invalidated by other hosts'
// changes, files owned by the caller, the addon's request bookkeeping. Skipped on fuse-native.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINDING, dumpLogsOnFailure, mountHost, uniqueVolume, waitFor, type Host } from './support/index.js';

const LOWLEVEL = BINDING === 'lowlevel';
/** Another host's change must show well before the kernel's own timeout would expire it. */
const DEADLINE_MS = 2000;

const volume = uniqueVolume('lowlevel');
let A: Host;
let B: Host;
let serial = 0;

beforeAll(async () => {
  if (!LOWLEVEL) return;
  // Kernel caches of an hour: only invalidations can make B see A's changes in time.
  // --allow-other: another user creates files in one test.
  const extraArgs = ['--kernel-cache', '3600', '--allow-other'];
  [A, B] = await Promise.all([mountHost({ volume, label: 'A', extraArgs }), mountHost({ volume, label: 'B', extraArgs })]);
});
afterAll(async () => {
  await Promise.all([A?.stop(), B?.stop()]);
});
dumpLogsOnFailure(() => [A, B]);

async function freshDir(label: string): Promise<[string, string]> {
  const rel = `${label}-${serial++}`;
  await fs.mkdir(A.p(rel));
  await waitFor(async () => expect((await fs.stat(B.p(rel))).isDirectory()).toBe(true), { timeoutMs: DEADLINE_MS });
  return [A.p(rel), B.p(rel)];
}

// Runs in `cwd` as `uid` (libuv changes directory before dropping privileges, so the run's
// private temp root above need not be searchable by that user).
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
});
