// Whole-stream compression cut into blocks that a CodecPool compresses in parallel,
// written back in input order with a bounded number of blocks in flight.
import type { CodecJob, CodecPool } from './pool.ts';

/**
 * Cuts the input into blocks of exactly `size` bytes (the last one shorter), each at the start of
 * its own buffer of `capacity` bytes: room for a codec to write its output in place.
 */
export async function* cutBlocks(input: AsyncIterable<Uint8Array>, size: number, capacity = size): AsyncGenerator<Uint8Array> {
  const parts: Uint8Array[] = [];
  let have = 0;
  const take = (n: number): Uint8Array => {
    const block = new Uint8Array(new ArrayBuffer(Math.max(n, capacity)), 0, n);
    let at = 0;
    while (at < n) {
      const p = parts[0]!;
      const k = Math.min(p.length, n - at);
      block.set(p.subarray(0, k), at);
      at += k;
      if (k === p.length) parts.shift();
      else parts[0] = p.subarray(k);
    }
    have -= n;
    return block;
  };
  for await (const chunk of input) {
    if (chunk.length === 0) continue;
    parts.push(chunk);
    have += chunk.length;
    while (have >= size) yield take(size);
  }
  if (have > 0) yield take(have);
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
