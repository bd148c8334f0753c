/** Headers and small pieces are gathered into chunks of this size; larger pieces pass through as they come. */
const CHUNK = 256 * 1024;
const PASS_THROUGH = 64 * 1024;

/**
 * Batches small pieces into fresh chunks (never reused once taken) and lets big ones through.
 * Plain methods, not generators: delegating to a generator from an async generator costs
 * promise ticks per member even when nothing is ready.
 */
export class Batcher {
  private chunk = new Uint8Array(CHUNK);
  private used = 0;
  private ready: Uint8Array[] = [];

  put(bytes: Uint8Array): void {
    if (bytes.length >= PASS_THROUGH) {
      this.flush();
      this.ready.push(bytes);
      return;
    }
    let at = 0;
    while (at < bytes.length) {
      const n = Math.min(bytes.length - at, CHUNK - this.used);
      this.chunk.set(bytes.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
      if (this.used === CHUNK) this.flush();
    }
  }

  /**
   * Room for `n` bytes, zeroed and contiguous: in the current chunk, or a new one when it lacks room.
   * Fill it before the next take(): a chunk that the reservation filled is already queued.
   */
  reserve(n: number): { buffer: Uint8Array; at: number } {
    if (n > CHUNK - this.used) {
      this.flush();
      if (n > CHUNK) this.chunk = new Uint8Array(n);
    }
    const at = this.used;
    this.used += n;
    if (this.used >= CHUNK) {
      const buffer = this.chunk;
      this.flush();
      return { buffer, at };
    }
    return { buffer: this.chunk, at };
  }

  /** Appends `n` zero bytes (the chunk is fresh, so they are already zero). */
  zeros(n: number): void {
    while (n > 0) {
      const k = Math.min(n, CHUNK - this.used);
      this.used += k;
      n -= k;
      if (this.used === CHUNK) this.flush();
    }
  }

  flush(): void {
    if (this.used === 0) return;
    this.ready.push(this.chunk.subarray(0, this.used));
    this.chunk = new Uint8Array(CHUNK);
    this.used = 0;
  }

  /** The chunks completed so far, handed over. */
  take(): Uint8Array[] {
    const ready = this.ready;
    this.ready = [];
    return ready;
  }

  get pending(): boolean {
    return this.ready.length > 0;
  }
}
