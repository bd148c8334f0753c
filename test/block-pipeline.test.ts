import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BlockBuffers, compressInOrder, cutBlocks } from '../core/codec/block-pipeline.ts';
import type { CodecPool } from '../core/codec/pool.ts';
import { concatBytes } from '../core/io/bytes.ts';

async function* chunks(parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* parts;
}

test('property: cutBlocks gives back the input in blocks of exactly `size` (the last shorter), each at the start of its own buffer of `capacity`', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 30 }),
      fc.integer({ min: 1, max: 200 }),
      fc.integer({ min: 0, max: 50 }),
      async (parts, size, extra) => {
        const capacity = size + extra;
        const blocks: Uint8Array[] = [];
        for await (const b of cutBlocks(chunks(parts), size, new BlockBuffers(capacity))) blocks.push(b);
        const input = concatBytes(parts);
        assert.deepEqual(concatBytes(blocks), input);
        assert.equal(blocks.length, Math.ceil(input.length / size));
        blocks.forEach((b, i) => {
          if (i < blocks.length - 1) assert.equal(b.length, size);
          assert.ok(b.length > 0);
          assert.equal(b.byteOffset, 0);
          assert.ok(b.buffer.byteLength >= capacity);
        });
        assert.equal(new Set(blocks.map((b) => b.buffer)).size, blocks.length, 'every block has its own buffer');
      },
    ),
    { numRuns: 300 },
  );
});

/** A pool of `size` that "compresses" by inverting the bytes in place, finishing in random order. */
function invertingPool(size: number, delays: () => number): CodecPool {
  return {
    size,
    async compress(_job, data) {
      await new Promise((r) => setTimeout(r, delays()));
      for (let i = 0; i < data.length; i++) data[i] = ~data[i]! & 0xff;
      return data;
    },
    async close() {},
  };
}

test('property: compressInOrder yields outputs in input order and, with BlockBuffers, reuses a written block\'s buffer (no more buffers than blocks in flight)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 20 }),
      async (parts, size, inFlight, delays) => {
        let d = 0;
        const pool = invertingPool(inFlight, () => delays[d++ % delays.length]!);
        const buffers = new BlockBuffers(size + 8);
        const seen = new Set<ArrayBufferLike>();
        const outputs: Uint8Array[] = [];
        for await (const { size: n, output } of compressInOrder(pool, { codec: 'zlib', level: 1 }, cutBlocks(chunks(parts), size, buffers), inFlight, buffers)) {
          assert.equal(output.length, n);
          seen.add(output.buffer);
          outputs.push(output.slice()); // lent: a later block may be written into it
        }
        const input = concatBytes(parts);
        assert.deepEqual(concatBytes(outputs), input.map((b) => ~b & 0xff));
        assert.ok(seen.size <= Math.min(inFlight, Math.ceil(input.length / size)), `${seen.size} buffers for ${inFlight} in flight`);
      },
    ),
    { numRuns: 200 },
  );
});
