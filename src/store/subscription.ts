// Hearing a volume's invalidation channel, on the Redis node whose scripts publish it.
//
// Coherence across hosts rests on one ordering: the script that makes a change publishes it
// before it replies, so every other mount has the message in its socket before the writer's
// close returns (docs/ARCHITECTURE.md, "Consistency across hosts"). On one Redis (or a
// Sentinel-managed master) that holds by itself. On Redis Cluster a PUBLISH reaches the
// publishing node's own subscribers at once but every other node only later, over the cluster
// bus; ioredis subscribes on any node, so a mount there could answer from its cache ("no such
// name") after the writer was told "done". So on a cluster we subscribe on the master that
// owns the channel's slot (the volume's hash tag: its metadata's slot), and follow it there
// after a failover or a slot migration. A volume made on a cluster (format 2) uses sharded
// pub/sub (SPUBLISH, SSUBSCRIBE): its messages then stay within that slot's shard instead of
// crossing the bus to every node.
import { Cluster, type Redis } from 'ioredis';
import { log } from '../core/log.js';
import { connect, type RedisClient, type RedisTarget } from './connect.js';
import { nodeAddress, slotOf, slotOwner } from './cluster-nodes.js';

export interface ChannelListener {
  message(message: Buffer): void;
  /** The subscription is up, or down: while it is down, changes may go unheard. */
  state(up: boolean): void;
}

export interface Subscription {
  close(): void;
}

/**
 * subscribeChannel hears `channel` where it is published first; `client` is the mount's
 * command connection (on a cluster it says which node owns the channel). Resolves once the
 * subscription is up; later losses and recoveries are told to the listener.
 */
export async function subscribeChannel(client: RedisClient, target: RedisTarget, name: string, channel: string,
  sharded: boolean, listener: ChannelListener): Promise<Subscription> {
  const kind = sharded ? SHARDED : CLASSIC;
  if (client instanceof Cluster) {
    const slot = await slotOf(client, channel);
    const sub = new SlotOwnerSubscriber(client, slot, channel, kind, name, listener, target.ioTimeoutMs);
    await sub.start();
    return sub;
  }
  const sub = await connect(target, name);
  sub.on(kind.event, (_ch: Buffer, message: Buffer) => listener.message(message));
  sub.on('close', () => listener.state(false));
  sub.on('ready', () => {
    kind.subscribe(sub, channel).then(() => listener.state(true), (err: unknown) => log.warn({ err: String(err) }, 'resubscribe failed'));
  });
  await kind.subscribe(sub, channel);
  return { close: () => sub.disconnect() };
}

/** Classic pub/sub (PUBLISH) or sharded (SPUBLISH, Redis 7): how to subscribe, what arrives. */
interface ChannelKind {
  subscribe(conn: RedisClient, channel: string): Promise<unknown>;
  event: 'messageBuffer' | 'smessageBuffer';
}
const CLASSIC: ChannelKind = { subscribe: (conn, channel) => conn.subscribe(channel), event: 'messageBuffer' };
const SHARDED: ChannelKind = { subscribe: (conn, channel) => conn.ssubscribe(channel), event: 'smessageBuffer' };

/**
 * One plain connection to the master owning a slot, subscribed there. It does not reconnect
 * by itself: when it drops (the master died) or the slot's owner changes, the cluster's slot
 * map is read again and a new connection made to the owner it names, retrying until one is.
 */
class SlotOwnerSubscriber implements Subscription {
  private conn: Redis | undefined;
  private following = false;
  private closed = false;
  private check: NodeJS.Timeout | undefined;
  // A failover or a migration that leaves the old master up closes nothing: the slot map says
  // it, after a refresh or a MOVED reply to this mount's own commands (which rewrites it
  // without a 'refresh' when the refresh then fails). Hence a look at the map every second
  // too: a local read, no Redis traffic.
  private readonly recheck = (): void => {
    if (this.conn && !this.following && this.ownerKey() !== nodeAddress(this.conn)) this.conn.disconnect();
  };

  constructor(private readonly cluster: Cluster, private readonly slot: number, private readonly channel: string,
    private readonly kind: ChannelKind, private readonly name: string, private readonly listener: ChannelListener, private readonly ioTimeoutMs: number) {}

  async start(): Promise<void> {
    this.cluster.on('refresh', this.recheck);
    this.check = setInterval(this.recheck, 1000);
    this.check.unref();
    try {
      await this.attach();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.check);
    this.cluster.off('refresh', this.recheck);
    this.conn?.disconnect();
    this.conn = undefined;
  }

  private ownerKey(): string | undefined {
    return this.cluster.slots[this.slot]?.[0];
  }

  private async attach(): Promise<void> {
    const node = slotOwner(this.cluster, this.slot);
    const key = nodeAddress(node);
    const conn = node.duplicate({
      connectionName: this.name, lazyConnect: true, enableOfflineQueue: false, autoResubscribe: false,
      retryStrategy: () => null, connectTimeout: this.ioTimeoutMs, commandTimeout: this.ioTimeoutMs,
    });
    conn.on('error', (err: Error) => {
      log.debug({ err: err.message, node: key }, 'invalidation subscriber');
      // A node that gives a sharded channel's slot away unsubscribes its listeners by itself
      // (ioredis, not expecting that, reports an error): follow the slot from here.
      if (conn === this.conn && !conn.condition?.subscriber) conn.disconnect();
    });
    conn.on(this.kind.event, (_ch: Buffer, message: Buffer) => { if (conn === this.conn) this.listener.message(message); });
    conn.once('end', () => this.lost(conn));
    try {
      await conn.connect();
      await this.kind.subscribe(conn, this.channel);
      // The owner may have changed while this connection was being made.
      if (this.ownerKey() !== key) throw new Error(`slot ${this.slot} moved while subscribing`);
    } catch (err) {
      conn.disconnect();
      throw err;
    }
    if (this.closed) { conn.disconnect(); return; }
    this.conn = conn;
    // The slot may have been given away in the very read that confirmed the subscription.
    if (!conn.condition?.subscriber) conn.disconnect();
  }

  private lost(conn: Redis): void {
    if (conn !== this.conn || this.closed) return;
    this.conn = undefined;
    this.listener.state(false);
    this.follow().catch((err: unknown) => log.warn({ err: String(err) }, 'invalidation subscriber: cannot follow the slot'));
  }

  // A failover takes the cluster a second or two: ask again every 100 ms, then up to every second.
  private async follow(): Promise<void> {
    if (this.following) return;
    this.following = true;
    try {
      for (let attempt = 0; !this.closed; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 1000)));
        await new Promise<void>((resolve) => this.cluster.refreshSlotsCache(() => resolve()));
        try {
          await this.attach();
        } catch (err) {
          log.debug({ err: String(err) }, 'invalidation subscriber: owner not reachable yet');
          continue;
        }
        if (!this.closed) this.listener.state(true);
        return;
      }
    } finally {
      this.following = false;
    }
  }
}
