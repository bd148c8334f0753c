import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { unzlibSync } from 'fflate';
import { createNodeCodecPool } from '../node/codec-pool.ts';
import { CodecPoolClosedError, CodecWorkerError } from '../core/codec/worker-pool.ts';

const tmp = mkdtempSync(join(tmpdir(), 'xz-pool-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const sample = (n: number, seed: number) => new Uint8Array(n).map((_, i) => ((i * seed) >> 7) & 0xff);

test('jobs run on the workers; an owned buffer is handed over, a view of a larger one is copied', async () => {
  const pool = createNodeCodecPool(2);
  try {
    assert.equal(pool.size, 2);
    const inputs = [1, 2, 3, 4, 5].map((k) => sample(200_000 + k, 31 * k));
    const expected = inputs.map((d) => d.slice());
    const outputs = await Promise.all(inputs.map((d) => pool.compress({ codec: 'zlib', level: 9 }, d)));
    outputs.forEach((o, k) => assert.deepEqual(unzlibSync(o), expected[k]));
    assert.equal(inputs[0]!.byteLength, 0, 'an owned buffer is transferred, not copied');

    const big = sample(100_000, 7);
    const view = big.subarray(10, 50_010);
    const out = await pool.compress({ codec: 'zlib', level: 1 }, view);
    assert.equal(big.byteLength, 100_000, 'the larger buffer is left alone');
    assert.deepEqual(unzlibSync(out), view);
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.compress({ codec: 'zlib', level: 1 }, sample(10, 1)), CodecPoolClosedError);
});

test('a worker that fails to load or exits rejects the job with CodecWorkerError instead of hanging', async () => {
  for (const [name, body] of [['throws.mjs', "throw new Error('broken worker');"], ['exits.mjs', 'process.exit(3);']]) {
    const file = join(tmp, name);
    writeFileSync(file, body);
    const pool = createNodeCodecPool(1, pathToFileURL(file));
    try {
      await assert.rejects(pool.compress({ codec: 'zlib', level: 1 }, sample(1000, 3)), CodecWorkerError, name);
    } finally {
      await pool.close();
    }
  }
});
