// Whole-stream compression cut into blocks that a CodecPool compresses in parallel,
// written back in input order with a bounded number of blocks in flight.
import type { CodecJob, CodecPool } from './pool.ts';

/**
 * Cuts the input into blocks of exactly `size` bytes (the last one shorter), each at the start of
 * its own buffer of `capacity` bytes: room for a codec to write its output in place. Input is
 * copied in as it comes, so no more than the block being filled is held here.
 */
export async function* cutBlocks(input: AsyncIterable<Uint8Array>, size: number, capacity = size): AsyncGenerator<Uint8Array> {
  let block: Uint8Array | undefined;
  let have = 0;
  for await (const chunk of input) {
    for (let at = 0; at < chunk.length; ) {
      block ??= new Uint8Array(Math.max(size, capacity));
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
 * Blocks in flight for a pool: one per worker. The next block is cut while they work, so a worker
 * that finishes finds it ready; more would only hold more blocks in memory.
 */
export function inFlightFor(pool: CodecPool, threads?: number): number {
  return Math.max(1, Math.min(threads ?? pool.size, pool.size));
}

/**
 * Runs `job` over each block on the pool, at most `maxInFlight` at once, and yields
 * each block's input size and output in input order.
 */
export async function* compressInOrder(
  pool: CodecPool, job: CodecJob, blocks: AsyncIterable<Uint8Array>, maxInFlight: number,
): AsyncGenerator<{ size: number; output: Uint8Array }> {
  const pending: { result: Promise<Uint8Array>; size: number }[] = [];
  const oldest = async () => {
    const { result, size } = pending.shift()!;
    return { size, output: await result };
  };
  for await (const block of blocks) {
    while (pending.length >= maxInFlight) yield await oldest();
    const result = pool.compress(job, block, true);
    result.catch(() => undefined); // awaited in order; this only keeps a later failure from going unhandled meanwhile
    pending.push({ result, size: block.length });
  }
  while (pending.length > 0) yield await oldest();
}
