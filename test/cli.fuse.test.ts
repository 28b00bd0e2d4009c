// The command line: bad input fails fast with one line and leaves nothing mounted; mount in
// the background returns once usable; umount undoes it; --foreground stops cleanly on signals.
import fs from 'node:fs/promises';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dumpLogsOnFailure,
  findProcesses,
  forceUnmount,
  freePort,
  makeTempDir,
  mountCount,
  mountHost,
  procMounts,
  redisUrl,
  runCli,
  startPrivateRedis,
  uniqueVolume,
  waitFor,
  type CliResult,
  type Host,
  type RedisInstance,
} from './support/index.js';

const runCommand = promisify(execFile);

/** "Within a few seconds": a failing mount must give up by then. */
const FAIL_FAST_MS = 10_000;
const PASSWORD = 'correct horse battery staple';

const volume = uniqueVolume('cli');
let dirs: string;
let secured: RedisInstance;
let serial = 0;
const hosts: Host[] = [];

beforeAll(async () => {
  dirs = await makeTempDir('cli');
  secured = await startPrivateRedis({ password: PASSWORD });
});
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  // Whatever a failed test left mounted below our directory.
  for (const m of await procMounts()) if (m.mountpoint.startsWith(dirs + '/')) await forceUnmount(m.mountpoint);
  await secured?.stop();
});
dumpLogsOnFailure(() => hosts);

async function freshMountpoint(): Promise<string> {
  const mp = path.join(dirs, `mp-${serial++}`);
  await fs.mkdir(mp);
  return mp;
}

/** Live processes (other than us) that carry this mountpoint in their command line. */
async function daemonsOf(mp: string): Promise<number[]> {
  return await findProcesses([mp]);
}

function describeResult(r: CliResult): string {
  return `exit ${r.code} signal ${r.signal} after ${Math.round(r.elapsedMs)} ms; stdout ${JSON.stringify(r.stdout)}; stderr ${JSON.stringify(r.stderr)}`;
}

/** Exit non-zero within FAIL_FAST_MS, exactly one stderr line starting "redisfs: ", nothing mounted or running. */
async function expectCleanFailure(r: CliResult, mp: string | undefined, match?: RegExp): Promise<void> {
  const info = describeResult(r);
  expect(r.timedOut, `did not exit in time: ${info}`).toBe(false);
  expect(r.code, info).not.toBe(0);
  expect(r.code, info).not.toBeNull();
  expect(r.elapsedMs, info).toBeLessThan(FAIL_FAST_MS);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, `stderr should be one line: ${info}`).toHaveLength(1);
  expect(lines[0], info).toMatch(/^redisfs: \S/);
  if (match) expect(lines[0], info).toMatch(match);
  if (mp !== undefined) {
    expect(await mountCount(mp), `${mp} is mounted after a failed mount`).toBe(0);
    await waitFor(async () => expect(await daemonsOf(mp)).toEqual([]), {
      timeoutMs: 3000,
      message: `a daemon for ${mp} is still running after a failed mount`,
    });
  }
}

const modes = [
  ['in the background', [] as string[]],
  ['with --foreground', ['--foreground']],
] as const;

describe.each(modes)('redisfs mount %s, given bad input', (_label, modeArgs) => {
  const mountArgs = (mp: string, url: string, extra: string[] = []): string[] => [
    'mount',
    mp,
    '--redis',
    url,
    '--volume',
    volume,
    ...modeArgs,
    ...extra,
  ];

  it('fails with one line on an unknown flag', async () => {
    const mp = await freshMountpoint();
    await expectCleanFailure(await runCli(mountArgs(mp, redisUrl(), ['--frobnicate'])), mp, /frobnicate/);
  });

  it('fails with one line on --wait-replicas with a Redis Cluster URL (WAIT would ask some node, not the writer\'s)', async () => {
    const mp = await freshMountpoint();
    await expectCleanFailure(await runCli(mountArgs(mp, 'redis-cluster://127.0.0.1:1,127.0.0.1:2', ['--wait-replicas', '1'])), mp, /wait-replicas.*Cluster/);
  });

  it('fails with one line when the mountpoint argument is missing', async () => {
    await expectCleanFailure(await runCli(['mount', '--redis', redisUrl(), '--volume', volume, ...modeArgs]), undefined);
  });

  it('fails with one line when the mountpoint does not exist', async () => {
    const mp = path.join(dirs, `missing-${serial++}`);
    await expectCleanFailure(await runCli(mountArgs(mp, redisUrl())), mp);
    await expect(fs.stat(mp)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails with one line when the mountpoint is a regular file', async () => {
    const mp = path.join(dirs, `file-${serial++}`);
    await fs.writeFile(mp, 'not a directory');
    await expectCleanFailure(await runCli(mountArgs(mp, redisUrl())), mp);
  });

  it('fails with one line when the mountpoint is already mounted, and the existing mount keeps working', async () => {
    const A = await mountHost({ volume, label: 'already-mounted' });
    hosts.push(A);
    try {
      const r = await runCli(mountArgs(A.mountpoint, redisUrl()));
      const info = describeResult(r);
      expect(r.code, info).not.toBe(0);
      expect(r.timedOut, info).toBe(false);
      expect(r.elapsedMs, info).toBeLessThan(FAIL_FAST_MS);
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
      expect(lines, info).toHaveLength(1);
      expect(lines[0], info).toMatch(/^redisfs: /);
      expect(await mountCount(A.mountpoint)).toBe(1);
      expect(A.exited()).toBeUndefined();
      await fs.writeFile(A.p('still-works'), 'yes');
      expect(await fs.readFile(A.p('still-works'), 'utf8')).toBe('yes');
    } finally {
      await A.stop();
    }
  });

  it('fails with one line, within seconds, when nothing answers at the Redis URL', async () => {
    const mp = await freshMountpoint();
    const closedPort = await freePort();
    await expectCleanFailure(await runCli(mountArgs(mp, `redis://127.0.0.1:${closedPort}`)), mp);
  });

  it.each([['not-a-url'], ['redis://127.0.0.1:notaport'], ['redis://127.0.0.1:99999'], ['ftp://127.0.0.1:6379']])(
    'fails with one line on the malformed Redis URL %s',
    async (url) => {
      const mp = await freshMountpoint();
      await expectCleanFailure(await runCli(mountArgs(mp, url)), mp);
    },
  );

  it('fails with one line on a wrong password, and on a missing one', async () => {
    const mp = await freshMountpoint();
    const wrong = `redis://:wrong-password@127.0.0.1:${secured.port}`;
    await expectCleanFailure(await runCli(mountArgs(mp, wrong)), mp);
    await expectCleanFailure(await runCli(mountArgs(mp, `redis://127.0.0.1:${secured.port}`)), mp);
    const r = await runCli(mountArgs(mp, wrong));
    expect(r.stderr, 'the message must not echo the password').not.toContain('wrong-password');
  });

  it.each([['a/b'], ['x'.repeat(65)], ['has space'], ['']])('fails with one line on the bad volume name %j', async (name) => {
    const mp = await freshMountpoint();
    const args = mountArgs(mp, redisUrl());
    args[args.indexOf('--volume') + 1] = name;
    await expectCleanFailure(await runCli(args), mp);
  });
});

describe('redisfs mount with a password', () => {
  it('mounts with the password in the URL, and with REDISFS_PASSWORD', async () => {
    const A = await mountHost({ volume, label: 'pw-url', redisUrl: secured.url });
    hosts.push(A);
    await fs.writeFile(A.p('secret-file'), 'behind a password');
    const B = await mountHost({
      volume,
      label: 'pw-env',
      redisUrl: `redis://127.0.0.1:${secured.port}`,
      env: { REDISFS_PASSWORD: PASSWORD },
    });
    hosts.push(B);
    expect(await fs.readFile(B.p('secret-file'), 'utf8')).toBe('behind a password');
    expect((await A.stop()).clean).toBe(true);
    expect((await B.stop()).clean).toBe(true);
  });
});

describe('redisfs mount --foreground', () => {
  it('prints exactly one ready line, and on SIGTERM unmounts and exits 0', async () => {
    const A = await mountHost({ volume, label: 'sigterm' });
    hosts.push(A);
    expect(A.stdoutLines().filter((l) => l.startsWith('redisfs:'))).toEqual([`redisfs: mounted ${A.mountpoint}`]);
    const r = await A.stop('SIGTERM');
    expect(r, `stderr: ${r.stderr}`).toMatchObject({ code: 0, clean: true, forced: false });
    expect(await mountCount(A.mountpoint)).toBe(0);
  });

  it('on SIGINT unmounts and exits 0', async () => {
    const A = await mountHost({ volume, label: 'sigint' });
    hosts.push(A);
    const r = await A.stop('SIGINT');
    expect(r, `stderr: ${r.stderr}`).toMatchObject({ code: 0, clean: true, forced: false });
    expect(await mountCount(A.mountpoint)).toBe(0);
  });

  it('mounts with --allow-other', async () => {
    const A = await mountHost({ volume, label: 'allow-other', extraArgs: ['--allow-other'] });
    hosts.push(A);
    const entry = (await procMounts()).find((m) => m.mountpoint === A.mountpoint);
    expect(entry?.options).toContain('allow_other');
    expect((await A.stop()).clean).toBe(true);
  });
});

describe('redisfs mount (background) and redisfs umount', () => {
  it('mount returns 0 once the mount is usable, without holding our stdout open; umount unmounts and stops the daemon', async () => {
    const mp = await freshMountpoint();
    const r = await runCli(['mount', mp, '--redis', redisUrl(), '--volume', volume]);
    try {
      expect(r.code, describeResult(r)).toBe(0);
      expect(r.pipesHeldOpen, 'the daemon kept the stdout/stderr of `redisfs mount` open').toBe(false);
      // Usable on the very next line of a script.
      expect(await mountCount(mp)).toBe(1);
      await fs.writeFile(path.join(mp, 'bg'), 'from the background mount');
      expect(await fs.readFile(path.join(mp, 'bg'), 'utf8')).toBe('from the background mount');
      const daemons = await daemonsOf(mp);
      expect(daemons.length, 'one daemon serves the mount').toBe(1);

      const u = await runCli(['umount', mp]);
      expect(u.code, describeResult(u)).toBe(0);
      expect(u.elapsedMs).toBeLessThan(FAIL_FAST_MS);
      expect(await mountCount(mp)).toBe(0);
      await waitFor(async () => expect(await daemonsOf(mp)).toEqual([]), {
        timeoutMs: 5000,
        message: 'the daemon did not exit after umount',
      });
    } finally {
      if ((await mountCount(mp)) > 0) await forceUnmount(mp);
    }
  });

  it('umount fails with one line on a path that is not mounted', async () => {
    const mp = await freshMountpoint();
    await expectCleanFailure(await runCli(['umount', mp]), mp);
  });

  it('umount of a --foreground mount makes its daemon exit 0', async () => {
    const A = await mountHost({ volume, label: 'umount-fg' });
    hosts.push(A);
    const u = await runCli(['umount', A.mountpoint]);
    expect(u.code, describeResult(u)).toBe(0);
    await waitFor(() => expect(A.exited()).toBeDefined(), { timeoutMs: 5000, message: 'daemon still running after umount' });
    expect(A.exited()?.code).toBe(0);
    expect(await mountCount(A.mountpoint)).toBe(0);
  });
});

describe('a mount unmounted from outside', () => {
  // The lowlevel binding hears the kernel end the session; fuse-native's mount table is watched.
  for (const binding of ['lowlevel', 'fuse-native']) {
    it(`ends its daemon, which exits 0 (${binding})`, async () => {
      const A = await mountHost({ volume, label: `outside-${binding}`, extraArgs: ['--binding', binding] });
      hosts.push(A);
      await fs.writeFile(path.join(A.mountpoint, `outside-${binding}`), 'x');
      await runCommand('umount', [A.mountpoint]);
      await waitFor(() => expect(A.exited()).toBeDefined(), { timeoutMs: 8000, message: 'daemon still running after umount(8)' });
      expect(A.exited()?.code).toBe(0);
      expect(await mountCount(A.mountpoint)).toBe(0);
    });
  }

  it('by a lazy detach (umount -l) with a file still open ends its daemon too, which exits 0', async () => {
    // The kernel keeps such a session until the last close; a daemon nobody can see any more
    // (redisfs umount says "not mounted") must not keep running until then.
    const A = await mountHost({ volume, label: 'outside-lazy' });
    hosts.push(A);
    await fs.writeFile(path.join(A.mountpoint, 'held'), 'held open');
    const held = await fs.open(path.join(A.mountpoint, 'held'), 'r');
    try {
      await runCommand('umount', ['-l', A.mountpoint]);
      await waitFor(() => expect(A.exited()).toBeDefined(), { timeoutMs: 12_000, message: 'daemon still running after umount -l' });
      expect(A.exited()?.code).toBe(0);
    } finally {
      await held.close().catch(() => undefined);
    }
  });
});

describe('redisfs --help', () => {
  it('mount --help lists the mount options and exits 0', async () => {
    const r = await runCli(['mount', '--help']);
    expect(r.code, describeResult(r)).toBe(0);
    for (const opt of ['--redis', '--volume', '--foreground', '--allow-other']) expect(r.stdout).toContain(opt);
  });

  it('--help lists the commands and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toMatch(/mount/);
    expect(r.stdout).toMatch(/umount/);
  });

  it('an unknown command fails with one line', async () => {
    await expectCleanFailure(await runCli(['frobnicate']), undefined);
  });
});
