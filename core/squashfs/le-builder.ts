/** A growable little-endian byte buffer for the tables squashfs keeps in memory. */
export class LeBuilder {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): number {
    const at = this.length;
    if (at + n > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < at + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.length = at + n;
    return at;
  }

  u8(v: number): this {
    const at = this.room(1);
    this.buf[at] = v;
    return this;
  }
  u16(v: number): this {
    const at = this.room(2);
    this.view.setUint16(at, v, true);
    return this;
  }
  i16(v: number): this {
    const at = this.room(2);
    this.view.setInt16(at, v, true);
    return this;
  }
  u32(v: number): this {
    const at = this.room(4);
    this.view.setUint32(at, v, true);
    return this;
  }
  /** Values up to 2^53: positions and sizes in this writer never exceed that. */
  u64(v: number | bigint): this {
    const at = this.room(8);
    this.view.setBigUint64(at, BigInt(v), true);
    return this;
  }
  bytes(b: Uint8Array): this {
    const at = this.room(b.length);
    this.buf.set(b, at);
    return this;
  }
  /** A binary string (one char per byte) as its bytes. */
  binary(s: string): this {
    const at = this.room(s.length);
    for (let i = 0; i < s.length; i++) this.buf[at + i] = s.charCodeAt(i);
    return this;
  }
  // (`room` may replace buf and view, so it runs before they are read.)

  /** The bytes so far (a view: valid until the next write). */
  contents(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
  /** Drops the first `n` bytes. */
  shift(n: number): void {
    this.buf.copyWithin(0, n, this.length);
    this.length -= n;
  }
}
