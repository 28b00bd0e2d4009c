// The chunk reader: GET over a connection of its own, replies read straight into the buffers
// that keep them. Against a real redis-server; what matters is that every byte comes back as
// stored, whatever the socket cuts it into, and that a failure is an answer, never a hang.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkReader, type ChunkReaderOptions } from '../src/store/chunk-reader.js';
import { RestartableRedis, freePort, makeTempDir, startPrivateRedis, waitFor, type RedisInstance } from './support/index.js';

let server: RedisInstance;
let client: Redis;
const readers: ChunkReader[] = [];

function reader(over: Partial<ChunkReaderOptions> = {}, port = server.port): ChunkReader {
  const r = new ChunkReader({ endpoint: { host: '127.0.0.1', port }, db: 0, ioTimeoutMs: 2000, name: 'test:chunks', ...over });
  readers.push(r);
  return r;
}

beforeAll(async () => {
  server = await startPrivateRedis();
  client = new Redis(server.url);
});

afterAll(async () => {
  for (const r of readers) r.close();
  client.disconnect();
  await server.stop();
});

describe('the chunk reader', () => {
  it('returns every value byte for byte, many at once, whatever their sizes', async () => {
    const sizes = [0, 1, 2, 13, 4096, 65_535, 65_536, 65_537, (1 << 20) + 4, 3 << 20];
    const values = sizes.map((n) => randomBytes(n));
    // Bytes that look like protocol: a reply body full of CRLF and '$' must not confuse it.
    values.push(Buffer.from('$5\r\nhello\r\n-ERR\r\n+OK\r\n'.repeat(1000)));
    await Promise.all(values.map((v, i) => client.set(`v${i}`, v)));
    const r = reader();
    for (let round = 0; round < 3; round++) {
      const got = await Promise.all(values.map((_, i) => r.get(`v${i}`)));
      got.forEach((g, i) => expect(g!.equals(values[i]!), `value ${i} (${values[i]!.length} bytes)`).toBe(true));
    }
  });

  it('says undefined for a missing key, and fails only the call Redis refused', async () => {
    await client.set('present', 'yes');
    await client.rpush('a-list', 'x');
    const r = reader();
    const [missing, wrongType, present] = await Promise.allSettled([r.get('no-such-key'), r.get('a-list'), r.get('present')]);
    expect(missing).toEqual({ status: 'fulfilled', value: undefined });
    expect(wrongType.status).toBe('rejected');
    expect(String((wrongType as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
    expect(present.status === 'fulfilled' && present.value!.toString()).toBe('yes');
  });

  it('logs in and selects the database before its first GET, and names itself if it may', async () => {
    const locked = await startPrivateRedis({ password: 's3cret' });
    try {
      const admin = new Redis(`redis://:s3cret@127.0.0.1:${locked.port}/3`);
      await admin.set('in-db-3', 'three');
      const r = reader({ password: 's3cret', db: 3 }, locked.port);
      expect((await r.get('in-db-3'))!.toString()).toBe('three');
      expect(await admin.client('LIST')).toMatch(/name=test:chunks/);
      const wrong = reader({ password: 'wrong' }, locked.port);
      await expect(wrong.get('in-db-3')).rejects.toThrow(/WRONGPASS|invalid password/);
      // Where the main connection (ioredis) carries on, so does the reader: a user whose ACL
      // does not allow CLIENT SETNAME, and a password given to a server that has none.
      await admin.call('ACL', 'SETUSER', 'getter', 'on', '>pw', '~*', '+get', '+select', '+auth', '+ping');
      expect((await reader({ username: 'getter', password: 'pw', db: 3 }, locked.port).get('in-db-3'))!.toString()).toBe('three');
      admin.disconnect();
      await client.set('open-server', 'yes');
      expect((await reader({ password: 'not-needed' }).get('open-server'))!.toString()).toBe('yes');
    } finally {
      await locked.stop();
    }
  });

  it('fails what waits within the io timeout when Redis stops answering, fails at once until it answers again, and connects again after', async () => {
    const port = await freePort();
    const redis = new RestartableRedis(port, await makeTempDir('reader'), []);
    await redis.start();
    try {
      const admin = new Redis(port);
      await admin.set('k', 'v');
      const r = reader({ ioTimeoutMs: 500 }, port);
      expect((await r.get('k'))!.toString()).toBe('v');
      redis.pause();
      const t0 = Date.now();
      await expect(r.get('k')).rejects.toThrow(/timed out/);
      expect(Date.now() - t0).toBeLessThan(1500);
      // Known not to answer: the next call fails at once (the kernel retries a failed read).
      const t1 = Date.now();
      await expect(r.get('k')).rejects.toThrow(/not answering/);
      expect(Date.now() - t1).toBeLessThan(100);
      redis.resume();
      await waitFor(async () => expect((await r.get('k'))!.toString()).toBe('v'), { timeoutMs: 3000 });
      await redis.kill('SIGKILL');
      await expect(r.get('k')).rejects.toThrow();
      await redis.start();
      expect((await r.get('k'))!.toString()).toBe('v'); // AOF kept it
      admin.disconnect();
    } finally {
      await redis.kill('SIGKILL');
    }
  });

  it('hands a buffer out again only when it was given back, once, and only from the next turn', async () => {
    await client.set('big', randomBytes(1 << 20));
    const r = reader();
    const first = (await r.get('big'))!;
    r.recycle(first.subarray(0, 10)); // a view of it is enough
    r.recycle(first);                 // given back twice: taken back once
    r.recycle(Buffer.alloc(1 << 20)); // not the reader's: ignored
    expect(r.pool.bytes).toBe(0);     // nothing reusable in the turn it was given back
    await new Promise((resolve) => setImmediate(resolve));
    expect(r.pool.bytes).toBe(1 << 20);
    const [a, b] = await Promise.all([r.get('big'), r.get('big')]);
    expect(a!.buffer === first.buffer || b!.buffer === first.buffer).toBe(true);
    expect(a!.buffer).not.toBe(b!.buffer);
    expect(a!.equals(b!)).toBe(true);
  });
});
