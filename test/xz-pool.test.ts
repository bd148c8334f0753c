import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { unzlibSync } from 'fflate';
import { createNodeCodecPool } from '../node/codec-pool.ts';
import { CodecPoolClosedError, CodecWorkerError, poolOfWorkers } from '../core/codec/worker-pool.ts';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { nodeCodecs } from '../node/codec-wasm.ts';

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

test('the pool keeps no result alive once its caller drops it (a worker that never fails must not pin them)', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const never = new Promise<never>(() => {});
  const api = { init: async () => {}, compress: async (_job: unknown, data: Uint8Array) => new Uint8Array(data.length) };
  const pool = poolOfWorkers([{ api: api as never, terminate: () => {}, failed: never }], nodeCodecs);
  const outputs: WeakRef<Uint8Array>[] = [];
  for (let i = 0; i < 20; i++) outputs.push(new WeakRef(await pool.compress({ codec: 'zlib', level: 1 }, new Uint8Array(1 << 20))));
  await new Promise((r) => setImmediate(r));
  gc();
  assert.equal(outputs.filter((o) => o.deref() !== undefined).length, 0);
  await pool.close();
});

test("a worker's death rejects the jobs it was running and every later one", async () => {
  let die!: (e: unknown) => void;
  const failed = new Promise<never>((_, reject) => (die = reject));
  const api = { init: async () => {}, compress: () => new Promise<Uint8Array>(() => {}) };
  const pool = poolOfWorkers([{ api: api as never, terminate: () => {}, failed }], nodeCodecs);
  const running = pool.compress({ codec: 'zlib', level: 1 }, new Uint8Array(8));
  die(new CodecWorkerError('gone'));
  await assert.rejects(running, /gone/);
  await assert.rejects(pool.compress({ codec: 'zlib', level: 1 }, new Uint8Array(8)), /gone/);
});
