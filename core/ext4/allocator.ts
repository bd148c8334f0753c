import type { Run } from './extents.ts';

/**
 * Hands out blocks in increasing order, stepping over the fixed metadata ranges, so that what is
 * allocated first is written first. It keeps counting past the end of the file system: the
 * final position says how many blocks the contents need.
 */
export class BlockAllocator {
  private range = 0;
  next: number;

  constructor(private readonly fixed: readonly [number, number][]) {
    this.next = 0;
    this.skipFixed();
  }

  private skipFixed(): void {
    while (this.range < this.fixed.length && this.fixed[this.range]![0] <= this.next) {
      this.next = Math.max(this.next, this.fixed[this.range]![1]);
      this.range++;
    }
  }

  /** `count` blocks as runs broken only where fixed metadata lies. */
  take(count: number): Run[] {
    const runs: Run[] = [];
    while (count > 0) {
      const limit = this.range < this.fixed.length ? this.fixed[this.range]![0] : Infinity;
      const n = Math.min(count, limit - this.next);
      runs.push({ start: this.next, length: n });
      this.next += n;
      count -= n;
      this.skipFixed();
    }
    return runs;
  }

  /** Block numbers of `count` single blocks. */
  takeBlocks(count: number): number[] {
    return this.take(count).flatMap((r) => Array.from({ length: r.length }, (_, i) => r.start + i));
  }
}
