// BufferPool hands out chunk-sized buffers again once the chunk cache is done with them.
//
// Why: every fresh 1 MiB buffer is new memory (the daemon's malloc settings map each one on
// its own, so that freed chunks go back to the system), and on the machines we measured the
// kernel spent more time faulting in and zeroing those pages than the daemon spent on
// everything else in a cold sequential read (clear_page was ~40 % of the reading daemon's CPU).
//
// The rule that makes reuse safe: whoever gets chunk bytes from the cache copies them before
// the current event-loop turn ends (readRange copies at once; a view given to a FUSE reply is
// copied into the kernel in the same turn). So a returned buffer is only handed out again from
// the next turn on, and only if the pool made it: a buffer returned twice is taken back once.
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private freeBytes = 0;
  /** Buffers the pool made and that are out (not free, not yet returned). */
  private readonly out = new WeakSet<ArrayBufferLike>();
  private returning: Buffer[] = [];
  private scheduled = false;

  /** maxBytes bounds what the pool keeps while nobody uses it; minBytes: smaller ones are not pooled. */
  constructor(private readonly maxBytes: number, private readonly minBytes = 64 * 1024) {}

  /** take returns a buffer of exactly len bytes, with whatever it held before. */
  take(len: number): Buffer {
    const b = this.free.get(len)?.pop();
    if (b) this.freeBytes -= len;
    const buf = b ?? Buffer.allocUnsafeSlow(len);
    if (len >= this.minBytes) this.out.add(buf.buffer);
    return buf;
  }

  /** give returns a buffer (or any view of one) that take made; others are ignored. */
  give(view: Buffer): void {
    const memory = view.buffer;
    if (!this.out.delete(memory)) return;
    this.returning.push(Buffer.from(memory, 0, memory.byteLength));
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.settle());
  }

  private settle(): void {
    this.scheduled = false;
    for (const b of this.returning) {
      if (this.freeBytes + b.length > this.maxBytes) continue; // left to the garbage collector
      let list = this.free.get(b.length);
      if (!list) this.free.set(b.length, (list = []));
      list.push(b);
      this.freeBytes += b.length;
    }
    this.returning = [];
  }

  get bytes(): number { return this.freeBytes; }
}
