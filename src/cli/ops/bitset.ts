// A growable bit set over small non-negative integers: marks of inodes or chunk counters in
// one bit each, so passes over millions of keys keep their memory bounded.
export class BitSet {
  private bits = new Uint8Array(1024);

  add(n: number): void {
    const byte = n >>> 3;
    if (byte >= this.bits.length) {
      let size = this.bits.length;
      while (size <= byte) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[byte]! |= 1 << (n & 7);
  }

  has(n: number): boolean {
    const byte = n >>> 3;
    return byte < this.bits.length && (this.bits[byte]! & (1 << (n & 7))) !== 0;
  }
}

/** A byte per integer, saturating at 255 (link counts). */
export class ByteCounts {
  private counts = new Uint8Array(1024);

  get(n: number): number { return n < this.counts.length ? this.counts[n]! : 0; }

  set(n: number, v: number): void {
    if (n >= this.counts.length) {
      let size = this.counts.length;
      while (size <= n) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.counts);
      this.counts = grown;
    }
    this.counts[n] = Math.min(v, 255);
  }

  inc(n: number): number {
    const v = this.get(n) + 1;
    this.set(n, v);
    return v;
  }
}
