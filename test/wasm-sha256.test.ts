import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { wasmSha256 } from '../worker/wasm-sha256.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('the WebAssembly SHA-256 equals node:crypto on random inputs cut at random chunk boundaries, several hashes interleaved', async () => {
  const sha256 = await wasmSha256();
  const inputs = [0, 1, 55, 56, 63, 64, 65, 1000, 65_536, 65_537, 3_000_001].map((n) => randomBytes(n));
  const hashes = inputs.map(() => sha256());
  const pos = inputs.map(() => 0);
  // Feed all of them in turns, each in random-sized pieces, as FileHash and NarHash are fed together.
  for (let left = true; left; ) {
    left = false;
    inputs.forEach((input, i) => {
      if (pos[i]! >= input.length) return;
      const n = Math.min(input.length - pos[i]!, 1 + Math.floor(Math.random() * 200_000));
      hashes[i]!.update(input.subarray(pos[i]!, pos[i]! + n));
      pos[i]! += n;
      left = true;
    });
  }
  inputs.forEach((input, i) => assert.equal(hex(hashes[i]!.digest()), createHash('sha256').update(input).digest('hex'), `input of ${input.length} bytes`));
});

test('the WebAssembly SHA-256 differs on a flipped byte', async () => {
  const sha256 = await wasmSha256();
  const input = randomBytes(100_000);
  const want = createHash('sha256').update(input).digest('hex');
  input[54_321]! ^= 1;
  const h = sha256();
  h.update(input);
  assert.notEqual(hex(h.digest()), want);
});
