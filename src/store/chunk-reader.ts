// ChunkReader fetches chunks (GET) over a connection of its own and reads each reply straight
// into the buffer that will hold the chunk.
//
// Why not ioredis: it takes a 1 MiB reply as sixteen 64 KiB socket reads, each a new buffer,
// and concatenates them. On the reading host that was 0.76 ms of copying and ~0.5 ms of
// garbage collection per MiB, on the one thread that also answers FUSE: most of a cold
// sequential read's CPU. Here the socket reads (net's `onread`) go into the chunk's own buffer
// while a reply's body is arriving, and into a small scratch buffer for the few header bytes.
//
// Only for one plain server (redis:// or unix://, no TLS): a TLS socket cannot read into
// buffers of ours, and Sentinel and Cluster decide where a key lives; those keep ioredis.
// Failures follow the main connection's rules: every call is answered within the io timeout
// (no reply progress for that long fails everything waiting and drops the connection), a
// connection that went down fails at once, and the next call connects again. After a timeout,
// calls fail at once until Redis answers a PING again (see probe).
import { connect as netConnect, type Socket } from 'node:net';
import { BufferPool } from './buffer-pool.js';
import { countCommand, type RedisCounters } from './redis-metrics.js';

export type ReaderEndpoint = { host: string; port: number } | { path: string };

export interface ChunkReaderOptions {
  endpoint: ReaderEndpoint;
  username?: string | undefined;
  password?: string | undefined;
  db: number;
  ioTimeoutMs: number;
  /** Shown by CLIENT LIST, like the main connection's name. */
  name: string;
  /** Counted like the main connection's commands, for `redisfs stats`. */
  counters?: RedisCounters | undefined;
}

/** Idle chunk buffers kept for the next replies. */
const POOL_BYTES = 16 << 20;

/** A reply: a bulk string (undefined for nil) or a status line (+OK). */
type Reply = Buffer | string | undefined;

interface Waiting {
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  /**
   * For a handshake command: whether its error can be shrugged off. Any other refused
   * handshake command fails everything behind it with its own error.
   */
  handshake: ((err: Error) => boolean) | undefined;
}

const SCRATCH_BYTES = 64 * 1024;
/** AUTH with a password, to a server that has none (Redis 6 and 7 say it differently). */
const NO_PASSWORD_SET = /no password is set|without any password configured/i;
const CR = 13;
const LF = 10;

/** No reply progress within the io timeout: Redis is there but not answering. */
class TimedOut extends Error {
  constructor() { super('Command timed out'); }
}

/** Pause between probes of a Redis that stopped answering or went away. */
const PROBE_RETRY_MS = 500;

export class ChunkReader {
  private conn: Connection | undefined;
  /**
   * Set once a call timed out, until a PING on a new connection is answered: meanwhile calls
   * fail at once. The kernel retries a failed readahead page by page, so without it one read
   * of a stalled Redis would wait one io timeout per retry.
   */
  private probe: { conn: Connection | undefined; timer: NodeJS.Timeout | undefined } | undefined;
  private closed = false;
  /** Where reply buffers come from, and go back to (see recycle). */
  readonly pool = new BufferPool(POOL_BYTES);

  constructor(private readonly opts: ChunkReaderOptions) {}

  /** get returns the value stored at key, or undefined when there is none. */
  get(key: string): Promise<Buffer | undefined> {
    if (this.closed) return Promise.reject(new Error('Connection is closed'));
    if (this.probe) return Promise.reject(new Error('Redis is not answering (a call timed out; waiting for a reply to PING)'));
    if (!this.conn || this.conn.dead) this.conn = new Connection(this.opts, this.pool);
    return (this.conn.send(['GET', key]) as Promise<Buffer | undefined>).catch((err: unknown) => {
      if (err instanceof TimedOut && !this.probe && !this.closed) this.startProbe();
      throw err;
    });
  }

  private startProbe(): void {
    const probe: NonNullable<ChunkReader['probe']> = { conn: undefined, timer: undefined };
    this.probe = probe;
    const attempt = (): void => {
      if (this.probe !== probe || this.closed) return;
      const conn = new Connection(this.opts, this.pool);
      probe.conn = conn;
      conn.send(['PING']).then(() => {
        if (this.probe !== probe) return conn.fail(new Error('Connection is closed'));
        this.probe = undefined;
        this.conn = conn; // answered: calls go through again
      }, () => {
        conn.fail(new Error('Connection is closed'));
        if (this.probe !== probe || this.closed) return;
        probe.timer = setTimeout(attempt, PROBE_RETRY_MS);
        probe.timer.unref();
      });
    };
    attempt();
  }

  /**
   * recycle takes back the bytes of a value get() returned, once nothing will read them after
   * this event-loop turn (see buffer-pool.ts). Other buffers are ignored.
   */
  recycle(data: Buffer): void {
    this.pool.give(data);
  }

  close(): void {
    this.closed = true;
    this.conn?.fail(new Error('Connection is closed'));
    if (this.probe) {
      clearTimeout(this.probe.timer);
      this.probe.conn?.fail(new Error('Connection is closed'));
      this.probe = undefined;
    }
  }
}

class Connection {
  dead = false;
  private readonly socket: Socket;
  private readonly waiting: Waiting[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  // Parser state: reading a line (type byte and text up to CRLF), a body, or a body's CRLF.
  private state: 'line' | 'body' | 'crlf' = 'line';
  private line = '';
  private lineCr = false;
  private body: Buffer = this.scratch;
  private bodyAt = 0;
  private crlfLeft = 0;

  constructor(private readonly opts: ChunkReaderOptions, private readonly pool: BufferPool) {
    // Armed by each send to an idle connection and pushed back by every read: it fires only when
    // something waited a whole io timeout with no byte arriving.
    this.timer = setTimeout(() => { if (this.waiting.length > 0) this.fail(new TimedOut()); }, opts.ioTimeoutMs);
    this.timer.unref();
    const onread = { buffer: () => this.nextBuffer(), callback: (n: number, buf: Uint8Array): boolean => { this.received(n, buf as Buffer); return true; } };
    this.socket = 'path' in opts.endpoint
      ? netConnect({ path: opts.endpoint.path, onread })
      : netConnect({ host: opts.endpoint.host, port: opts.endpoint.port, onread, noDelay: true });
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('Connection is closed')));
    // The handshake travels ahead of the first GET, in the same write; a refusal fails it all,
    // except where ioredis (the main connection) carries on too: a password given to a server
    // that has none, and a name the user may not set (an ACL without CLIENT).
    const { username, password } = opts;
    const auth = username !== undefined ? ['AUTH', username, password ?? ''] : ['AUTH', password ?? ''];
    if (password !== undefined) this.handshake(auth, (err) => NO_PASSWORD_SET.test(err.message));
    if (opts.db !== 0) this.handshake(['SELECT', String(opts.db)], () => false);
    this.handshake(['CLIENT', 'SETNAME', opts.name], () => true);
  }

  send(args: string[], handshake?: (err: Error) => boolean): Promise<Reply> {
    if (this.dead) return Promise.reject(new Error('Connection is closed'));
    const p = new Promise<Reply>((resolve, reject) => {
      if (this.waiting.length === 0) this.timer.refresh();
      this.waiting.push({ resolve, reject, handshake });
    });
    if (this.opts.counters) countCommand(this.opts.counters, p);
    this.socket.write(encode(args));
    return p;
  }

  /** fail answers everything waiting with err and drops the connection for good. */
  fail(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.timer);
    this.socket.destroy();
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  private handshake(args: string[], tolerable: (err: Error) => boolean): void {
    this.send(args, tolerable).catch(() => undefined); // answered in answer()
  }

  // A body being read goes straight into its buffer, never further than its end, so the
  // bytes after it (its CRLF, the next reply) land in scratch.
  private nextBuffer(): Buffer {
    return this.state === 'body' ? this.body.subarray(this.bodyAt) : this.scratch;
  }

  private received(n: number, buf: Buffer): void {
    if (this.dead) return;
    if (this.waiting.length > 0) this.timer.refresh(); // progress
    if (buf !== this.scratch) {
      this.bodyAt += n;
      if (this.bodyAt === this.body.length) this.bodyDone();
      return;
    }
    let at = 0;
    while (at < n && !this.dead) {
      if (this.state === 'line') {
        at = this.readLine(buf, at, n);
      } else if (this.state === 'body') {
        const take = Math.min(n - at, this.body.length - this.bodyAt);
        buf.copy(this.body, this.bodyAt, at, at + take);
        this.bodyAt += take;
        at += take;
        if (this.bodyAt === this.body.length) this.bodyDone();
      } else {
        const take = Math.min(n - at, this.crlfLeft);
        this.crlfLeft -= take;
        at += take;
        if (this.crlfLeft === 0) this.answer(this.body);
      }
    }
  }

  private bodyDone(): void {
    this.state = 'crlf';
    this.crlfLeft = 2;
  }

  /** readLine consumes bytes of a reply's first line; a whole line is handled at once. */
  private readLine(buf: Buffer, from: number, n: number): number {
    let at = from;
    while (at < n) {
      const b = buf[at++]!;
      if (b === LF && this.lineCr) {
        const line = this.line;
        this.line = '';
        this.lineCr = false;
        this.lineDone(line);
        return at;
      }
      if (this.lineCr) this.line += '\r';
      this.lineCr = b === CR;
      if (!this.lineCr) this.line += String.fromCharCode(b);
    }
    return at;
  }

  private lineDone(line: string): void {
    const type = line[0];
    const text = line.slice(1);
    if (type === '$') {
      const len = Number(text);
      if (len === -1) return this.answer(undefined);
      if (!Number.isInteger(len) || len < 0) return this.fail(new Error(`Protocol error: bad bulk length '${text}'`));
      this.body = this.pool.take(len);
      this.bodyAt = 0;
      if (len === 0) this.bodyDone();
      else this.state = 'body';
    } else if (type === '+') {
      this.answer(text);
    } else if (type === '-') {
      this.answer(new Error(text));
    } else {
      this.fail(new Error(`Protocol error: unexpected reply '${line.slice(0, 40)}'`));
    }
  }

  private answer(reply: Reply | Error): void {
    this.state = 'line';
    this.body = this.scratch; // the chunk belongs to its caller now
    const w = this.waiting.shift();
    if (!w) return this.fail(new Error('Protocol error: a reply nobody asked for'));
    if (reply instanceof Error && w.handshake && !w.handshake(reply)) {
      w.reject(reply);
      return this.fail(reply);
    }
    if (reply instanceof Error) w.reject(reply);
    else w.resolve(reply);
  }
}

/** encode writes a command in RESP: an array of bulk strings. */
function encode(args: string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return s;
}
