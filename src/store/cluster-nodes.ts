// Which node of a Redis Cluster holds what, as the client's slot map says. Commands that name
// no key (SCAN, DBSIZE, INFO, CONFIG, TIME, SUBSCRIBE) go to whichever node ioredis picks, so
// the code that needs a particular node asks here.
import type { Cluster, Redis } from 'ioredis';

const CLUSTER_SLOTS = 16384;

/** nodeAddress is a node's host:port, as the slot map names it. */
export function nodeAddress(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}

// A key's slot never changes: asked of Redis once per key (our keys are a volume's few).
const slots = new Map<string, number>();

/** slotOf is the slot a key hashes to. */
export async function slotOf(cluster: Cluster, key: string): Promise<number> {
  let slot = slots.get(key);
  if (slot === undefined) slots.set(key, (slot = Number(await cluster.cluster('KEYSLOT', key))));
  return slot;
}

/** slotOwner is the connection to the master that owns a slot. */
export function slotOwner(cluster: Cluster, slot: number): Redis {
  const key = cluster.slots[slot]?.[0];
  const node = cluster.nodes('master').find((n) => nodeAddress(n) === key);
  if (!key || !node) throw new Error(`no known master owns slot ${slot}`);
  return node;
}

/** keyOwner is the connection to the master that owns a key's slot. */
export async function keyOwner(cluster: Cluster, key: string): Promise<Redis> {
  return slotOwner(cluster, await slotOf(cluster, key));
}

/** slotOwners is every master that owns a slot, each once; throws if a slot has no known owner. */
export function slotOwners(cluster: Cluster): Redis[] {
  const owners = new Map<string, Redis>();
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    const key = cluster.slots[slot]?.[0];
    if (key === undefined || !owners.has(key)) owners.set(key ?? '', slotOwner(cluster, slot));
  }
  return [...owners.values()];
}
