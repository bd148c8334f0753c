import { Batcher } from '../io/batcher.ts';
import type { SparseChunk } from '../io/sparse.ts';

/** Output chunks: bytes batched into fresh chunks, zero runs as `Zeros`, in order. */
export class SparseOut {
  private readonly batch = new Batcher();
  private ready: SparseChunk[] = [];
  private zeroRun = 0;

  put(bytes: Uint8Array): void {
    this.endZeros();
    this.batch.put(bytes);
  }

  /** Zero bytes inside allocated blocks (a file's last block). */
  fill(n: number): void {
    this.endZeros();
    this.batch.zeros(n);
  }

  /** Unallocated bytes: a zero run. */
  zeros(n: number): void {
    if (n <= 0) return;
    this.batch.flush();
    this.ready.push(...this.batch.take());
    this.zeroRun += n;
  }

  private endZeros(): void {
    if (this.zeroRun === 0) return;
    this.ready.push({ zeros: this.zeroRun });
    this.zeroRun = 0;
  }

  get pending(): boolean {
    return this.ready.length > 0 || this.batch.pending;
  }

  take(end = false): SparseChunk[] {
    if (end) {
      this.batch.flush();
      this.ready.push(...this.batch.take());
      this.endZeros();
    }
    this.ready.push(...this.batch.take());
    const out = this.ready;
    this.ready = [];
    return out;
  }
}
