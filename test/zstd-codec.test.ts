import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZstdError, zstdCompressor, zstdDecompressor, zstdEncodeBuffer } from '../core/zstd/zstd.ts';
import type { StreamCompressor } from '../core/codec/stream-compressor.ts';
import { createNodeCodecPool } from '../node/codec-pool.ts';
import { nodeCodecs } from '../node/codec-wasm.ts';

const tmp = mkdtempSync(join(tmpdir(), 'zstd-codec-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function run(cmd: string, args: string[], input?: Uint8Array): Buffer {
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function pipe(codec: StreamCompressor, data: Uint8Array, chunk = 100_003): Promise<Buffer> {
  async function* chunks() {
    for (let at = 0; at < data.length; at += chunk) yield data.subarray(at, at + chunk);
  }
  const out: Uint8Array[] = [];
  for await (const c of codec(chunks())) out.push(c.slice()); // chunks are lent
  return Buffer.concat(out);
}

const text = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `row ${i} value ${(i * 7919) % 10007}\n`).join(''));
const varied = Buffer.concat([readFileSync('/usr/bin/bash').subarray(0, 1_500_000), text, Buffer.alloc(300_000)]);

test('zstdCompressor output is byte-identical to zstd --single-thread reading a pipe, and zstd -t / -dc accept it', async () => {
  for (const level of [3, 19]) {
    const data = level === 19 ? varied.subarray(0, 700_000) : varied;
    const ours = await pipe(zstdCompressor(level, { codecs: nodeCodecs }), data);
    assert.ok(run('zstd', [`-${level}`, '--single-thread', '-q', '-c'], data).equals(ours), `level ${level}`);
    const file = join(tmp, `out-${level}.zst`);
    writeFileSync(file, ours);
    run('zstd', ['-q', '-t', file]);
    assert.ok(run('zstd', ['-q', '-dc', file]).equals(data));
  }
});

/** The zstd frame mksquashfs wrote for the single data block of a one-file image. */
function mksquashfsBlock(data: Uint8Array, block: number): Buffer {
  const dir = join(tmp, 'tree');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'f'), data);
  const img = join(tmp, 'img.squashfs');
  run('mksquashfs', [dir, img, '-comp', 'zstd', '-Xcompression-level', '19', '-b', String(block), '-noappend', '-no-progress', '-quiet']);
  const bytes = readFileSync(img);
  const at = bytes.indexOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
  assert.ok(at > 0, 'no zstd frame in the image');
  return bytes.subarray(at);
}

test('zstdEncodeBuffer at 19 is byte-identical to the block mksquashfs -comp zstd -Xcompression-level 19 writes', async () => {
  const block = 131_072;
  const data = varied.subarray(400_000, 400_000 + block);
  const ours = await zstdEncodeBuffer(data, 19, nodeCodecs);
  assert.ok(mksquashfsBlock(data, block).subarray(0, ours.length).equals(ours));
  assert.ok(run('zstd', ['-q', '-dc'], ours).equals(data));
  const pool = createNodeCodecPool(1);
  try {
    assert.deepEqual(await pool.compress({ codec: 'zstd', level: 19 }, new Uint8Array(data)), ours);
  } finally {
    await pool.close();
  }
});

test('zstdDecompressor decodes several frames like zstd -dc', async () => {
  const a = run('zstd', ['-1', '-q', '-c'], varied.subarray(0, 800_000));
  const b = run('zstd', ['-19', '--no-check', '-q', '-c'], varied.subarray(800_000));
  const joined = Buffer.concat([a, b]);
  const ours = await pipe(zstdDecompressor(nodeCodecs), joined, 4099);
  assert.ok(ours.equals(run('zstd', ['-q', '-dc'], joined)));
  assert.ok(ours.equals(varied));
});

test('with a pool: one frame per block, each as zstd --single-thread writes the block as a file; same bytes for 1 and 2 workers', async () => {
  const blockSize = 600_000;
  const expected: Buffer[] = [];
  for (let at = 0; at < varied.length; at += blockSize) {
    const file = join(tmp, 'block.bin');
    writeFileSync(file, varied.subarray(at, at + blockSize));
    expected.push(run('zstd', ['-5', '--single-thread', '-q', '-c', file]));
  }
  const pool2 = createNodeCodecPool(2);
  const pool1 = createNodeCodecPool(1);
  try {
    const two = await pipe(zstdCompressor(5, { pool: pool2, blockSize }), varied);
    const one = await pipe(zstdCompressor(5, { pool: pool1, blockSize }), varied);
    assert.ok(two.equals(Buffer.concat(expected)), 'differs from zstd --single-thread per block');
    assert.ok(two.equals(one), '1 and 2 workers differ');
    const file = join(tmp, 'frames.zst');
    writeFileSync(file, two);
    run('zstd', ['-q', '-t', file]);
    assert.ok(run('zstd', ['-q', '-dc', file]).equals(varied));
  } finally {
    await Promise.all([pool1.close(), pool2.close()]);
  }
});

test('corrupt, truncated and garbage input are ZstdErrors', async () => {
  const compressed = run('zstd', ['-3', '-q', '-c'], varied);
  const bad: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['text', Buffer.from('not zstd data at all')],
    ['trailing garbage', Buffer.concat([compressed, Buffer.from('garbage!')])],
  ];
  for (let n = 0; n < compressed.length; n += Math.floor(compressed.length / 17)) bad.push([`truncated at ${n}`, compressed.subarray(0, n)]);
  bad.push(['truncated before checksum end', compressed.subarray(0, compressed.length - 1)]);
  for (const at of [0, 5, Math.floor(compressed.length / 3), compressed.length - 2]) {
    const flipped = Buffer.from(compressed);
    flipped[at]! ^= 0x5a;
    bad.push([`byte ${at} flipped`, flipped]);
  }
  for (const [what, data] of bad) await assert.rejects(pipe(zstdDecompressor(nodeCodecs), data, 8191), (e: unknown) => e instanceof ZstdError, what);
});
