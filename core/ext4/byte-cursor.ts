import { chunkLength as length, isZeros, type SparseChunk } from '../io/sparse.ts';

const ZERO = new Uint8Array(1 << 16);

/** Reads a stream of chunks by byte range, in increasing order, without copying. */
export class ByteCursor {
  private readonly it: AsyncIterator<SparseChunk>;
  private chunk: SparseChunk | undefined;
  /** Offset of `chunk`'s first unread byte, and of `chunk`'s start. */
  private pos = 0;
  private chunkAt = 0;

  constructor(source: AsyncIterable<SparseChunk>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async current(): Promise<SparseChunk | undefined> {
    while (this.chunk === undefined || this.pos >= this.chunkAt + length(this.chunk)) {
      if (this.chunk !== undefined) this.chunkAt += length(this.chunk);
      const r = await this.it.next();
      if (r.done) {
        this.chunk = undefined;
        return undefined;
      }
      this.chunk = r.value;
    }
    return this.chunk;
  }

  /** Hands `put` the bytes [start, end) (start not before what was read); false if the stream ends first. */
  async range(start: number, end: number, put: (bytes: Uint8Array) => void): Promise<boolean> {
    this.pos = Math.max(this.pos, start);
    while (this.pos < end) {
      const c = await this.current();
      if (c === undefined) return false;
      const from = this.pos - this.chunkAt;
      const to = Math.min(length(c), end - this.chunkAt);
      if (isZeros(c)) for (let at = from; at < to; at += ZERO.length) put(ZERO.subarray(0, Math.min(ZERO.length, to - at)));
      else put(c.subarray(from, to));
      this.pos = this.chunkAt + to;
    }
    return true;
  }

  /** Reads to the end; the total length of the stream. */
  async total(): Promise<number> {
    while ((await this.current()) !== undefined) this.pos = this.chunkAt + length(this.chunk!);
    return this.pos;
  }
}
