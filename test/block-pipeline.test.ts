import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cutBlocks } from '../core/codec/block-pipeline.ts';
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
        for await (const b of cutBlocks(chunks(parts), size, capacity)) blocks.push(b);
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
