// Walking a volume's keys on one server or on Redis Cluster. SCAN and DBSIZE name no key, so
// a cluster client sends them to one node, any node: a walk of a volume's metadata must go to
// the master owning its hash tag's slot, and a walk of its chunks (no tag) to every master.
// Commands on keys found that way may span nodes too: a cluster pipeline must not.
import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './connect.js';
import { nodeAddress, slotOf, slotOwner, slotOwners } from './cluster-nodes.js';

/** Where keys live: with `key` (same slot), or on every master (chunks). */
export type KeyScope = { sameSlotAs: string } | 'everywhere';

/**
 * scanKeys yields the keys matching `pattern` in pages (SCAN COUNT `count`), node by node. On
 * a cluster, a walk of one slot checks, before and after, that the node it walked owned the
 * slot throughout with no migration under way, and throws otherwise: gc deletes chunks no map
 * names, so a map it did not see (moved to another node meanwhile) would cost committed data.
 */
export async function* scanKeys(redis: RedisClient, pattern: string, count: number, scope: KeyScope): AsyncGenerator<string[]> {
  const slot = redis instanceof Cluster && scope !== 'everywhere' ? await slotOf(redis, scope.sameSlotAs) : -1;
  for (const node of await nodesOf(redis, scope)) {
    if (slot >= 0) await assertOwnsSlot(node as Redis, slot);
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      yield keys;
    } while (cursor !== '0');
    if (slot >= 0) await assertOwnsSlot(node as Redis, slot);
  }
}

// What the node itself says (CLUSTER NODES, its "myself" line): a master, owning the slot, not
// migrating it out ([slot->-id]) nor in ([slot-<-id]).
async function assertOwnsSlot(node: Redis, slot: number): Promise<void> {
  const me = String(await node.cluster('NODES')).split('\n').find((l) => l.split(' ')[2]?.includes('myself'));
  const f = me?.split(' ') ?? [];
  const owns = f.slice(8).some((r) => {
    if (r.startsWith('[')) return false;
    const [lo, hi] = r.split('-').map(Number);
    return lo !== undefined && slot >= lo && slot <= (hi ?? lo);
  });
  const moving = f.slice(8).some((r) => r.startsWith(`[${slot}-`));
  if (!f[2]?.includes('master') || !owns || moving) {
    throw new Error(`slot ${slot} is not settled on ${nodeAddress(node)} (a failover or migration under way?): try again once the cluster is stable`);
  }
}

/** keyCount is the number of keys where `scope` lives (for progress: not the volume's alone). */
export async function keyCount(redis: RedisClient, scope: KeyScope): Promise<number> {
  let n = 0;
  for (const node of await nodesOf(redis, scope)) n += await node.dbsize();
  return n;
}

/**
 * eachKey runs one command with no further arguments on every key and returns the replies in
 * order: one pipeline on one server; on a cluster, every command routed to its key's node,
 * all in flight at once (keys of many slots cannot share a cluster pipeline).
 */
export async function eachKey(redis: RedisClient, command: 'exists' | 'strlen' | 'unlink', keys: readonly string[]): Promise<number[]> {
  if (keys.length === 0) return [];
  if (redis instanceof Cluster) return Promise.all(keys.map(async (key) => Number(await redis.call(command, key))));
  const p = redis.pipeline();
  for (const key of keys) p.call(command, key);
  return ((await p.exec()) ?? []).map(([err, n]) => {
    if (err) throw err;
    return Number(n);
  });
}

async function nodesOf(redis: RedisClient, scope: KeyScope): Promise<Array<Redis | Cluster>> {
  if (!(redis instanceof Cluster)) return [redis];
  // A slot nobody is known to own would leave keys unseen: slotOwner(s) throw then.
  return scope === 'everywhere' ? slotOwners(redis) : [slotOwner(redis, await slotOf(redis, scope.sameSlotAs))];
}
