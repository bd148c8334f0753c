// Blocks compressed in parallel and written back in input order with a bounded number in flight:
// the whole-stream compressors (xz, zstd) and the squashfs writer's data blocks go through InOrder.
import type { CodecJob, CodecPool } from './pool.ts';

/**
 * Work started in order and finished in that order, with a bounded number started and unfinished:
 * a pool may run ahead while what is written stays in order (deterministic output).
 */
export class InOrder<T, R> {
  private readonly queue: { item: T; result: Promise<R> | null }[] = [];

  get length(): number {
    return this.queue.length;
  }

  /** Queues `item` with its running `result` (null: nothing to wait for, only its place in the order). */
  add(item: T, result: Promise<R> | null): void {
    // Awaited in its turn; until then a failure must not count as unhandled.
    result?.catch(() => undefined);
    this.queue.push({ item, result });
  }

  /** The oldest item, its result awaited (null for an item queued without one). */
  async next(): Promise<{ item: T; result: R | null }> {
    const { item, result } = this.queue.shift()!;
    return { item, result: result === null ? null : await result };
  }
}

/**
 * Block buffers of one capacity. A block's buffer comes back with its output and is given back
 * once that output is written, so a stream of any length allocates only as many as are in use
 * (dropping them instead leaves the freeing to the garbage collector, which lets dozens pile up).
 */
export class BlockBuffers {
  private readonly free: ArrayBuffer[] = [];
  constructor(readonly capacity: number) {}

  take(): Uint8Array {
    const spare = this.free.pop();
    return spare ? new Uint8Array(spare) : new Uint8Array(this.capacity);
  }

  /** Takes back the buffer under `used` (nothing may read it any more), if it is one of this capacity. */
  give(used: Uint8Array): void {
    if (used.buffer instanceof ArrayBuffer && used.buffer.byteLength === this.capacity) this.free.push(used.buffer);
  }
}

/**
 * Cuts the input into blocks of exactly `size` bytes (the last one shorter), each at the start of
 * a buffer from `buffers` (at least `size` bytes): room for a codec to write its output in place.
 * Input is copied in as it comes, so no more than the block being filled is held here.
 */
export async function* cutBlocks(input: AsyncIterable<Uint8Array>, size: number, buffers = new BlockBuffers(size)): AsyncGenerator<Uint8Array> {
  if (buffers.capacity < size) throw new RangeError(`block buffers of ${buffers.capacity} bytes cannot hold blocks of ${size}`);
  let block: Uint8Array | undefined;
  let have = 0;
  for await (const chunk of input) {
    for (let at = 0; at < chunk.length; ) {
      block ??= buffers.take();
      const n = Math.min(size - have, chunk.length - at);
      block.set(chunk.subarray(at, at + n), have);
      have += n;
      at += n;
      if (have === size) {
        yield block.subarray(0, size);
        block = undefined;
        have = 0;
      }
    }
  }
  if (block !== undefined) yield block.subarray(0, have);
}

/**
 * Blocks in flight for a pool: one per worker. The next block is cut when a worker is free (cutting
 * takes a fraction of a second, compressing a block several), so no more blocks are held than run.
 */
export function inFlightFor(pool: CodecPool, threads?: number): number {
  return Math.max(1, Math.min(threads ?? pool.size, pool.size));
}

/**
 * Runs `job` over each block on the pool, at most `maxInFlight` at once, and yields each block's
 * input size and output in input order. A block is taken from `blocks` only when it can start.
 * Each output is lent: once the next one is asked for, its buffer goes back to `buffers` (when
 * given) for a later block.
 */
export async function* compressInOrder(
  pool: CodecPool, job: CodecJob, blocks: AsyncIterable<Uint8Array>, maxInFlight: number, buffers?: BlockBuffers,
): AsyncGenerator<{ size: number; output: Uint8Array }> {
  const pending = new InOrder<number, Uint8Array>();
  async function* drainTo(left: number) {
    while (pending.length > left) {
      const { item: size, result: output } = await pending.next();
      yield { size, output: output! };
      buffers?.give(output!);
    }
  }
  const input = blocks[Symbol.asyncIterator]();
  for (;;) {
    yield* drainTo(maxInFlight - 1);
    const next = await input.next();
    if (next.done) break;
    pending.add(next.value.length, pool.compress(job, next.value, true));
  }
  yield* drainTo(0);
}
