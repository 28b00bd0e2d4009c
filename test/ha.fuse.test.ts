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
  runCli,
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

describe('Redis Cluster', () => {
  it('keeps a volume\'s metadata in one slot, spreads its chunks over every master, lets fsck, gc, status and import see all of it, and follows a planned failover and a dead master', async () => {
    const nodes: RestartableRedis[] = [];
    for (let i = 0; i < 6; i++) {
      // validity factor 0: a replica may always take over (on one machine, its last contact with the
      // master can look too old to Redis's default rule, and the cluster would stay down).
      nodes.push(await server(['--cluster-enabled', 'yes', '--cluster-node-timeout', '1000', '--cluster-replica-validity-factor', '0',
        '--cluster-config-file', `nodes-${i}.conf`]));
    }
    const { execFile } = await import('node:child_process');
    await new Promise<void>((resolve, reject) => execFile('redis-cli', [
      '--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes',
    ], { timeout: 60_000 }, (err, _out, stderr) => (err ? reject(new Error(`cluster create: ${stderr}`)) : resolve())));
    await waitFor(async () => {
      for (const n of nodes) expect(await clusterState(n.port)).toBe('ok');
    }, { timeoutMs: 30_000, intervalMs: 200 });

    const url = `redis-cluster://${nodes.slice(0, 3).map((n) => `127.0.0.1:${n.port}`).join(',')}`;
    const volume = uniqueVolume('cluster');

    // A mount checks every master, not one: eviction on any of them would delete files.
    const lastMaster = (await Promise.all(nodes.map(async (n) => ((await n.command('ROLE')).startsWith('*3') ? n : undefined)))).filter(Boolean).pop()!;
    await redisCli(lastMaster.port, ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru']);
    const refusedMount = await runCli(['mount', await makeTempDir('cluster-mp'), '--redis', url, '--volume', volume], { timeoutMs: 30_000 });
    await redisCli(lastMaster.port, ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
    expect(refusedMount.code).not.toBe(0);
    expect(refusedMount.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${lastMaster.port}: Redis maxmemory-policy is 'allkeys-lru'`));
    const A = await mountHost({ volume, redisUrl: url, label: 'A', extraArgs: ['--io-timeout', '2000', '--chunk-size', '64K'] });
    const B = await mountHost({ volume, redisUrl: url, label: 'B', extraArgs: ['--io-timeout', '2000'] });
    hosts.push(A, B);
    // Both mounts hear invalidations on the master that publishes them (the metadata slot's):
    // on another node a message comes later than the writer's reply, over the cluster bus. On
    // Redis 7 they are sharded (SSUBSCRIBE): messages stay within the shard.
    const slot = Number((await redisCli(nodes[0]!.port, ['CLUSTER', 'KEYSLOT', `rfs:{${volume}}:vol`])).trim());
    const owner = await slotOwner(nodes, slot);
    expect(await subscribersOn(owner.port, volume)).toBe(2);
    // Format 2: builds that know only classic pub/sub refuse the volume instead of going deaf.
    expect((await redisCli(owner.port, ['HGET', `rfs:{${volume}}:vol`, 'format'])).trim()).toBe('2');

    const data = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    await fs.writeFile(A.p('spread'), data);
    await fs.mkdir(A.p('dir'));
    await fs.rename(A.p('spread'), A.p('dir', 'spread'));
    expect(await sha256File(B.p('dir', 'spread'))).toBe(sha256(data));

    // Chunks (64 KiB each, 64 of them) land on every master; metadata keys share one slot.
    const masters: number[] = [];
    for (const n of nodes) if ((await n.command('ROLE')).startsWith('*3')) masters.push(n.port);
    const perMaster = await Promise.all(masters.map(async (port) => Number((await redisCli(port, ['DBSIZE'])).trim())));
    console.log(`cluster: keys per master ${perMaster.join(', ')}`);
    expect(perMaster.every((k) => k > 0)).toBe(true);

    // fsck and gc see the whole volume: its metadata on its slot's master, its chunks on every
    // master. A third host writes a file and leaves: gc may delete a dead session's chunks,
    // but only those no file refers to (here, one planted).
    const C = await mountHost({ volume, redisUrl: url, label: 'C', extraArgs: ['--io-timeout', '2000'] });
    hosts.push(C);
    const small = data.subarray(0, 1024 * 1024);
    await fs.writeFile(C.p('from-c'), small);
    await C.stop();
    const sessionC = (await redisCli(owner.port, ['HGET', `rfs:{${volume}}:ctr`, 'session'])).trim();
    await redisCli(masters[0]!, ['-c', 'SET', `rfs:${volume}:k:${sessionC}.zzzz`, 'planted']);
    const tool = ['--volume', volume, '--redis', url, '--json'];
    const gc = await runCli(['gc', ...tool], { timeoutMs: 60_000 });
    expect(gc.code, gc.stderr).toBe(0);
    const gcReport = JSON.parse(gc.stdout) as { unreferencedChunks: number; mapsScanned: number; chunksScanned: number };
    expect(gcReport).toMatchObject({ unreferencedChunks: 1, mapsScanned: 2 });
    expect(gcReport.chunksScanned).toBe(64 + 16 + 1);
    const fsck = await runCli(['fsck', ...tool], { timeoutMs: 60_000 });
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);
    expect(JSON.parse(fsck.stdout)).toMatchObject({ chunksChecked: 64 + 16, problems: [] });
    // status counts every chunk, and checks every master: eviction on any of them loses files.
    const evicting = masters.find((p) => p !== owner.port)!;
    await redisCli(evicting, ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru']);
    const status = await runCli(['status', ...tool], { timeoutMs: 60_000 });
    await redisCli(evicting, ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
    const statusReport = JSON.parse(status.stdout) as { usage: { chunks: number }; warnings: string[] };
    expect(statusReport.usage.chunks, status.stderr).toBe(64 + 16);
    expect(statusReport.warnings).toEqual([expect.stringMatching(new RegExp(`^127\\.0\\.0\\.1:${evicting}: maxmemory-policy is allkeys-lru`))]);
    // import loads a local tree into the cluster volume: B serves it.
    const tree = await makeTempDir('cluster-import');
    await fs.mkdir(path.join(tree, 'sub'));
    await fs.writeFile(path.join(tree, 'sub', 'big'), data.subarray(0, 300 * 1024));
    await fs.writeFile(path.join(tree, 'small'), 'imported');
    const imported = await runCli(['import', tree, '--volume', volume, '--redis', url, '--to', '/imported', '--quiet'], { timeoutMs: 60_000 });
    expect(imported.code, imported.stderr).toBe(0);
    await waitFor(async () => expect(await fs.readFile(B.p('imported', 'small'), 'utf8')).toBe('imported'), { timeoutMs: 5000 });
    expect(await sha256File(B.p('imported', 'sub', 'big'))).toBe(sha256(data.subarray(0, 300 * 1024)));

    // gc refuses while the volume's slot is moving: a map moved meanwhile would go unseen.
    const targetPort = masters.find((p) => p !== owner.port)!;
    const [ownerId, targetId] = await Promise.all([owner.port, targetPort].map(async (p) => (await redisCli(p, ['CLUSTER', 'MYID'])).trim()));
    await redisCli(targetPort, ['CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', ownerId!]);
    await redisCli(owner.port, ['CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', targetId!]);
    const refused = await runCli(['gc', ...tool], { timeoutMs: 60_000 });
    for (const p of [owner.port, targetPort]) await redisCli(p, ['CLUSTER', 'SETSLOT', String(slot), 'STABLE']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/slot \d+ is not settled/);
    expect(await sha256File(B.p('from-c'))).toBe(sha256(small));
    expect(await sha256File(B.p('dir', 'spread'))).toBe(sha256(data));

    // A planned failover (CLUSTER FAILOVER on the replica) closes no connection: the old master
    // stays up, now a replica. The mounts see the slot move and subscribe on its new master.
    const planned = await replicaOf(nodes, owner);
    await redisCli(planned.port, ['CLUSTER', 'FAILOVER']);
    await waitFor(async () => expect((await slotOwner(nodes, slot)).port).toBe(planned.port), { timeoutMs: 15_000 });
    await fs.writeFile(A.p('after-planned'), 'moved'); // A's command meets MOVED: its slot map is updated
    await waitFor(async () => expect(await subscribersOn(planned.port, volume)).toBe(2), { timeoutMs: 15_000 });
    await fs.mkdir(A.p('dir2'));
    expect((await fs.stat(B.p('dir2'))).isDirectory()).toBe(true);

    // Kill the master that now holds the volume's metadata slot: its replica (the first owner)
    // takes over. Replication is asynchronous: wait until that replica has every write so far,
    // as an operator would before a planned failover (an unsynced replica would take over empty).
    await waitFor(async () => expect((await redisCli(planned.port, ['WAIT', '1', '1000'])).trim()).toBe('1'), { timeoutMs: 15_000 });
    await planned.kill('SIGKILL');
    const t0 = performance.now();
    await waitFor(async () => fs.writeFile(A.p('after-failover'), 'still here'), { timeoutMs: 30_000, intervalMs: 100 });
    console.log(`cluster failover: mount A served writes again ${(performance.now() - t0).toFixed(0)} ms after the metadata master was killed`);
    await waitFor(async () => expect(await fs.readFile(B.p('after-failover'), 'utf8')).toBe('still here'), { timeoutMs: 30_000 });
    expect(await sha256File(B.p('dir', 'spread'))).toBe(sha256(data));
    // The subscribers followed the slot to its new master.
    expect((await slotOwner(nodes.filter((n) => n !== planned), slot)).port).toBe(owner.port);
    await waitFor(async () => expect(await subscribersOn(owner.port, volume)).toBe(2), { timeoutMs: 15_000 });
  });
});

/** subscribersOn counts the mounts of a volume subscribed to its shard channel on a node. */
async function subscribersOn(port: number, volume: string): Promise<number> {
  const clients = (await redisCli(port, ['CLIENT', 'LIST'])).split('\n');
  return clients.filter((c) => c.includes(` name=redisfs:${volume}:sub `) && / ssub=1 /.test(c)).length;
}

async function redisCli(port: number, args: string[]): Promise<string> {
  const { execFile } = await import('node:child_process');
  return await new Promise((resolve, reject) =>
    execFile('redis-cli', ['-p', String(port), ...args], (e, out) => (e ? reject(e) : resolve(out))));
}

async function clusterState(port: number): Promise<string> {
  return /cluster_state:(\w+)/.exec(await redisCli(port, ['CLUSTER', 'INFO']))?.[1] ?? 'unknown';
}

async function replicaOf(nodes: RestartableRedis[], master: RestartableRedis): Promise<RestartableRedis> {
  const text = await redisCli(master.port, ['CLUSTER', 'NODES']);
  const masterId = text.split('\n').find((l) => l.split(' ')[2]?.includes('myself'))?.split(' ')[0];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (!f[2]?.includes('slave') || f[3] !== masterId) continue;
    const n = nodes.find((x) => x.port === Number(/:(\d+)@/.exec(f[1] ?? '')?.[1]));
    if (n) return n;
  }
  throw new Error(`no replica of ${master.port}`);
}

async function slotOwner(nodes: RestartableRedis[], slot: number): Promise<RestartableRedis> {
  const text = await redisCli(nodes[0]!.port, ['CLUSTER', 'NODES']);
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (!f[2]?.includes('master')) continue;
    const port = Number(/:(\d+)@/.exec(f[1] ?? '')?.[1]);
    for (const range of f.slice(8)) {
      const [lo, hi] = range.split('-').map(Number);
      if (lo !== undefined && slot >= lo && slot <= (hi ?? lo)) {
        const n = nodes.find((x) => x.port === port);
        if (n) return n;
      }
    }
  }
  throw new Error(`no master owns slot ${slot}`);
}
