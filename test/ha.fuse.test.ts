// High availability on Redis itself: a Sentinel-managed master with two replicas and three
// sentinels, all on loopback. Kill the master: the mounts follow the new master by themselves,
// nothing acknowledged (with --wait-replicas 1) is lost, and we print how long serving stopped.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  dumpLogsOnFailure,
  freePort,
  makeTempDir,
  mountHost,
  RestartableRedis,
  sha256,
  sha256File,
  uniqueVolume,
  waitFor,
  type Host,
} from './support/index.js';

const servers: RestartableRedis[] = [];
const hosts: Host[] = [];
dumpLogsOnFailure(() => hosts);
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  await Promise.all(servers.map((s) => s.kill('SIGKILL')));
});

async function server(extra: string[]): Promise<RestartableRedis> {
  const r = new RestartableRedis(await freePort(), await makeTempDir('ha-redis'), extra);
  await r.start();
  servers.push(r);
  return r;
}

async function sentinel(masterPort: number): Promise<RestartableRedis> {
  const port = await freePort();
  const dir = await makeTempDir('ha-sentinel');
  const conf = path.join(dir, 'sentinel.conf');
  await fs.writeFile(conf, [
    `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
    `sentinel monitor mym 127.0.0.1 ${masterPort} 2`,
    'sentinel down-after-milliseconds mym 1000',
    'sentinel failover-timeout mym 5000',
    '',
  ].join('\n'));
  const s = new RestartableRedis(port, dir, [conf], 'sentinel');
  await s.start();
  servers.push(s);
  return s;
}

describe('Sentinel', () => {
  it('follows a failover by itself: the mounts serve again within seconds and no acknowledged file is lost', async () => {
    const master = await server([]);
    // Two replicas: after a failover one is promoted and the other still acknowledges commits.
    await server(['--replicaof', '127.0.0.1', String(master.port)]);
    await server(['--replicaof', '127.0.0.1', String(master.port)]);
    await waitFor(async () => expect(await master.command('WAIT 2 200')).toBe(':2'), { timeoutMs: 15_000 });
    const sentinels = await Promise.all([1, 2, 3].map(() => sentinel(master.port)));
    const url = `redis-sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/mym`;
    const volume = uniqueVolume('sentinel');
    const extraArgs = ['--wait-replicas', '1', '--io-timeout', '2000'];
    const A = await mountHost({ volume, redisUrl: url, label: 'A', extraArgs });
    const B = await mountHost({ volume, redisUrl: url, label: 'B', extraArgs });
    hosts.push(A, B);

    const acked = new Map<string, string>();
    for (let i = 0; i < 20; i++) {
      const body = `acknowledged ${i} `.repeat(100 * i);
      await fs.writeFile(A.p(`f${i}`), body);
      acked.set(`f${i}`, body);
    }
    const big = Buffer.alloc(3 * 1024 * 1024, 9);
    await fs.writeFile(A.p('big'), big);

    await master.kill('SIGKILL');
    const t0 = performance.now();
    await waitFor(async () => fs.writeFile(A.p('after-failover'), 'new master'), { timeoutMs: 30_000, intervalMs: 100 });
    const outageMs = performance.now() - t0;
    console.log(`sentinel failover: mount A served writes again ${outageMs.toFixed(0)} ms after the master was killed`);

    await waitFor(async () => expect(await fs.readFile(B.p('after-failover'), 'utf8')).toBe('new master'), { timeoutMs: 30_000 });
    for (const [name, body] of acked) expect(await fs.readFile(B.p(name), 'utf8'), name).toBe(body);
    expect(await sha256File(B.p('big'))).toBe(sha256(big));
    expect(outageMs).toBeLessThan(30_000);
  });
});
