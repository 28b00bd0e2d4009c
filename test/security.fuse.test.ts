// Security: the Redis password never shows in a daemon's argv or log; volumes sharing one
// Redis cannot see each other; other users reach a mount only with --allow-other, and then
// the kernel checks mode bits (default_permissions).
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  dumpLogsOnFailure,
  findProcesses,
  freePort,
  makeTempDir,
  mountHost,
  processCmdline,
  Prng,
  RestartableRedis,
  runCli,
  sha256,
  startPrivateRedis,
  tmpRoot,
  uniqueVolume,
  waitFor,
  type Host,
  type RedisInstance,
} from './support/index.js';

const run = promisify(execFile);
const PASSWORD = 'pa55-word-never-in-argv';
const hosts: Host[] = [];
const servers: RedisInstance[] = [];
const tlsServers: RestartableRedis[] = [];
dumpLogsOnFailure(() => hosts);
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all(tlsServers.map((s) => s.kill('SIGKILL')));
  await Promise.all(publicDirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});

/** A mountpoint user nobody can reach (the run's temp root is private to root). */
const publicDirs: string[] = [];
async function publicMountpoint(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'redisfs-public-'));
  await fs.chmod(dir, 0o755);
  publicDirs.push(dir);
  return dir;
}

/** Runs a command as user nobody; resolves with its exit code and stderr. */
async function asNobody(cmd: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...cmd]);
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? 1, stderr: e.stderr ?? '' };
  }
}

describe('the Redis password', () => {
  it('is not in the background daemon\'s argv nor in its log', async () => {
    const redis = await startPrivateRedis({ password: PASSWORD });
    servers.push(redis);
    const mp = await makeTempDir('secret-mnt');
    const url = `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.port}`;
    const r = await runCli(['mount', mp, '--redis', url, '--volume', uniqueVolume('secret')]);
    expect(r.code, r.stderr).toBe(0);
    try {
      const [pid] = await findProcesses([mp, '--daemon-child']);
      expect(pid).toBeDefined();
      expect((await processCmdline(pid!)).join(' ')).not.toContain(PASSWORD);
      const environ = await fs.readFile(`/proc/${pid}/environ`, 'utf8');
      expect(environ, 'the configuration travels over IPC, not the environment').not.toContain(PASSWORD);
      await fs.writeFile(path.join(mp, 'f'), 'x');
      const logs = path.join(tmpRoot(), 'home', 'logs');
      for (const name of await fs.readdir(logs)) expect(await fs.readFile(path.join(logs, name), 'utf8')).not.toContain(PASSWORD);
    } finally {
      await runCli(['umount', mp]);
    }
  });
});

describe('volumes sharing one Redis', () => {
  it('cannot see or touch each other\'s files', async () => {
    const A = await mountHost({ volume: uniqueVolume('tenant-a'), label: 'A' });
    const B = await mountHost({ volume: uniqueVolume('tenant-b'), label: 'B' });
    hosts.push(A, B);
    await fs.writeFile(A.p('only-a'), 'a');
    await fs.mkdir(B.p('only-b'));
    expect(await fs.readdir(A.p(''))).toEqual(['only-a']);
    expect(await fs.readdir(B.p(''))).toEqual(['only-b']);
    await expect(fs.stat(B.p('only-a'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('other users', () => {
  it('are kept out without --allow-other', async () => {
    const A = await mountHost({ volume: uniqueVolume('private'), label: 'A', mountpoint: await publicMountpoint() });
    hosts.push(A);
    await fs.chmod(A.p(''), 0o777);
    const r = await asNobody(['ls', A.mountpoint]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Permission denied/);
  });

  it('get in with --allow-other, and the kernel enforces mode bits (default_permissions)', async () => {
    const A = await mountHost({ volume: uniqueVolume('shared'), label: 'A', extraArgs: ['--allow-other'], mountpoint: await publicMountpoint() });
    hosts.push(A);
    await fs.chmod(A.p(''), 0o755);
    await fs.writeFile(A.p('public'), 'everyone may read');
    await fs.chmod(A.p('public'), 0o644);
    await fs.writeFile(A.p('private'), 'root only');
    await fs.chmod(A.p('private'), 0o600);
    expect((await asNobody(['cat', A.p('public')])).code).toBe(0);
    const denied = await asNobody(['cat', A.p('private')]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/Permission denied/);
    const write = await asNobody(['touch', A.p('new-by-nobody')]);
    expect(write.stderr).toMatch(/Permission denied/);
    await waitFor(async () => expect(await fs.readdir(A.p(''))).not.toContain('new-by-nobody'));
  });
});

describe('TLS (rediss://)', () => {
  it('mounts over TLS with --tls-ca, carries chunked files, and says why when the server\'s certificate is not trusted', async () => {
    const dir = await makeTempDir('tls');
    const ssl = (args: string[]): Promise<unknown> => run('openssl', args, { cwd: dir });
    await ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=redisfs-test-ca']);
    await ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
    await fs.writeFile(path.join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1\n');
    await ssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext']);
    const port = await freePort();
    const redis = new RestartableRedis(port, dir, [
      '--port', '0', '--tls-port', String(port), '--tls-cert-file', path.join(dir, 'server.crt'),
      '--tls-key-file', path.join(dir, 'server.key'), '--tls-ca-cert-file', path.join(dir, 'ca.crt'), '--tls-auth-clients', 'no',
    ], 'tls');
    await redis.start();
    tlsServers.push(redis);
    const url = `rediss://127.0.0.1:${port}`;
    const volume = uniqueVolume('tls');
    const A = await mountHost({ volume, redisUrl: url, label: 'A', extraArgs: ['--tls-ca', path.join(dir, 'ca.crt')] });
    hosts.push(A);
    await fs.writeFile(A.p('over-tls'), 'encrypted in transit');
    expect(await fs.readFile(A.p('over-tls'), 'utf8')).toBe('encrypted in transit');
    // Chunks go out as a header and the chunk's own bytes corked into one write: over TLS too.
    const big = new Prng(11).bytes(2 * 1024 * 1024 + 5);
    await fs.writeFile(A.p('chunked-over-tls'), big);
    const B = await mountHost({ volume, redisUrl: url, label: 'B', extraArgs: ['--tls-ca', path.join(dir, 'ca.crt')] });
    hosts.push(B);
    expect(sha256(await fs.readFile(B.p('chunked-over-tls')))).toBe(sha256(big));
    const mp = await makeTempDir('tls-mnt');
    const r = await runCli(['mount', mp, '--redis', url, '--volume', volume]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^redisfs: TLS with Redis at rediss:\/\/127\.0\.0\.1:\d+\/? failed: .*--tls-ca/);
  });
});

describe('Redis ACL users', () => {
  it('mounts as a named ACL user from the URL, and names a refused one', async () => {
    const redis = await startPrivateRedis();
    servers.push(redis);
    const port = redis.port;
    const { execFile: ef } = await import('node:child_process');
    await new Promise<void>((resolve, reject) => ef('redis-cli', ['-p', String(port), 'ACL', 'SETUSER', 'fsuser', 'on', '>fs-secret', '~*', '&*', '+@all'],
      (e) => (e ? reject(e) : resolve())));
    const A = await mountHost({ volume: uniqueVolume('acl'), label: 'A', redisUrl: `redis://fsuser:fs-secret@127.0.0.1:${port}` });
    hosts.push(A);
    await fs.writeFile(A.p('as-fsuser'), 'ok');
    expect(await fs.readFile(A.p('as-fsuser'), 'utf8')).toBe('ok');
    const mp = await makeTempDir('acl-mnt');
    const r = await runCli(['mount', mp, '--redis', `redis://fsuser:not-it@127.0.0.1:${port}`, '--volume', uniqueVolume('acl')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^redisfs: Redis at redis:\/\/fsuser:\*\*\*@127\.0\.0\.1:\d+\/? refused the credentials/);
    expect(r.stderr).not.toContain('not-it');
  });
});
