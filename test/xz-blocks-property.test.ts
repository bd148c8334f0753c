import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { xzCompressor } from '../core/xz/xz-compressor.ts';
import { XzError } from '../core/xz/xz-error.ts';
import { nodeCodecs } from '../node/codec-wasm.ts';


function xz(args: string[], input: Uint8Array): Buffer {
  const r = spawnSync('xz', args, { input, maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, `xz ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function encode(data: Uint8Array, chunk: number, preset: number, blockSize: number): Promise<Buffer> {
  async function* chunks() {
    for (let at = 0; at < data.length; at += chunk) yield data.subarray(at, at + chunk);
  }
  const out: Uint8Array[] = [];
  for await (const c of xzCompressor({ preset, blockSize, codecs: nodeCodecs })(chunks())) out.push(c.slice()); // chunks are lent
  return Buffer.concat(out);
}

/** Inputs mixing runs, repeated words and noise, so blocks range from very to not compressible. */
const input = fc
  .array(
    fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 3000 }),
      fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 5000 })).map(([b, n]) => new Uint8Array(n).fill(b)),
      fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 400 })).map(([w, n]) => new TextEncoder().encode(w.repeat(n))),
    ),
    { maxLength: 12 },
  )
  .map((parts) => Buffer.concat(parts));

test('any input, block size and chunking: same bytes as xz -T1 (one block) or xz -T2 --block-size (more)', async () => {
  await fc.assert(
    fc.asyncProperty(input, fc.integer({ min: 2000, max: 40_000 }), fc.integer({ min: 1, max: 9000 }), fc.constantFrom(0, 1, 6), async (data, blockSize, chunk, preset) => {
      const ours = await encode(data, chunk, preset, blockSize);
      const args = data.length <= blockSize ? [`-${preset}`, '-T1', '-c'] : [`-${preset}`, '-T2', `--block-size=${blockSize}`, '-c'];
      assert.ok(xz(args, data).equals(ours), `xz ${args.join(' ')} on ${data.length} bytes`);
    }),
    { numRuns: 40 },
  );
});

test('bad options are XzErrors', () => {
  for (const opts of [{ preset: 10 }, { preset: -1 }, { preset: 2.5 }, { blockSize: 0 }, { blockSize: 1.5 }, { blockSize: -3 }])
    assert.throws(() => xzCompressor(opts), XzError, JSON.stringify(opts));
});
