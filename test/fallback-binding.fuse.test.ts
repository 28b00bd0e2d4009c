// The fuse-native binding (libfuse2, path-based) stays as a fallback (`--binding fuse-native`):
// a smoke suite keeps it working while the default is our libfuse3 low-level binding.
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpLogsOnFailure, mountHost, sha256, sha256File, uniqueVolume, waitFor, type Host } from './support/index.js';

const volume = uniqueVolume('fallback');
let A: Host;
let B: Host;

beforeAll(async () => {
  const extraArgs = ['--binding', 'fuse-native'];
  [A, B] = await Promise.all([mountHost({ volume, label: 'A', extraArgs }), mountHost({ volume, label: 'B', extraArgs })]);
});
afterAll(async () => {
  await Promise.all([A?.stop(), B?.stop()]);
});
dumpLogsOnFailure(() => [A, B]);

describe('--binding fuse-native (fallback)', () => {
  it('creates, writes, reads, renames and deletes, seen by the other host', async () => {
    await fs.mkdir(A.p('d'));
    const data = Buffer.alloc(2 * 1024 * 1024 + 11, 3);
    await fs.writeFile(A.p('d', 'f'), data);
    await waitFor(async () => expect(await sha256File(B.p('d', 'f'))).toBe(sha256(data)));
    await fs.rename(A.p('d', 'f'), A.p('d', 'g'));
    await waitFor(async () => expect(await fs.readdir(B.p('d'))).toEqual(['g']));
    await fs.chmod(A.p('d', 'g'), 0o600);
    await waitFor(async () => expect((await fs.stat(B.p('d', 'g'))).mode & 0o777).toBe(0o600));
    await fs.unlink(B.p('d', 'g'));
    await waitFor(async () => expect(await fs.readdir(A.p('d'))).toEqual([]));
  });

  it('keeps symlinks, hard links, xattr-free files and truncation right', async () => {
    await fs.writeFile(A.p('t'), 'hello world');
    await fs.symlink('t', A.p('s'));
    await fs.link(A.p('t'), A.p('h'));
    expect(await fs.readlink(A.p('s'))).toBe('t');
    expect((await fs.stat(A.p('h'))).ino).toBe((await fs.stat(A.p('t'))).ino);
    await fs.truncate(A.p('t'), 5);
    expect(await fs.readFile(A.p('h'), 'utf8')).toBe('hello');
  });
});
