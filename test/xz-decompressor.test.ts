import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { xzDecompressor } from '../core/xz/xz-decompressor.ts';
import { XzError } from '../core/xz/xz-error.ts';
import { nodeCodecs } from '../node/codec-wasm.ts';


function xz(args: string[], input: Uint8Array): Buffer {
  const r = spawnSync('xz', args, { input, maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, `xz ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function decode(data: Uint8Array, chunk = 65_536): Promise<Buffer> {
  async function* chunks() {
    for (let at = 0; at < data.length; at += chunk) yield data.subarray(at, at + chunk);
  }
  const out: Uint8Array[] = [];
  for await (const c of xzDecompressor(nodeCodecs)(chunks())) out.push(c);
  return Buffer.concat(out);
}

/** Decoding must reject with XzError (and finish: a hang fails the test by its timeout). */
async function assertRejects(data: Uint8Array, what: string): Promise<void> {
  await assert.rejects(decode(data, 4096), (e: unknown) => e instanceof XzError, what);
}

const plain = Buffer.concat([readFileSync('/usr/bin/bash').subarray(0, 900_000), Buffer.from('hello '.repeat(50_000))]);

test('decodes xz output of several presets, checks and block layouts like xz -dc', async () => {
  for (const args of [['-6'], ['-0', '--check=crc32'], ['-1', '--check=sha256'], ['-1', '--check=none'], ['-3', '-T2', '--block-size=100000']]) {
    const compressed = xz([...args, '-c'], plain);
    const ours = await decode(compressed);
    assert.ok(ours.equals(xz(['-dc'], compressed)), `xz ${args.join(' ')}`);
    assert.ok(ours.equals(plain));
  }
});

test('decodes concatenated streams with stream padding, and an empty stream', async () => {
  const a = xz(['-1', '-c'], plain.subarray(0, 300_000));
  const b = xz(['-6', '-c'], plain.subarray(300_000));
  const joined = Buffer.concat([a, Buffer.alloc(8), b]);
  const ours = await decode(joined, 1000);
  assert.ok(ours.equals(xz(['-dc'], joined)));
  assert.ok(ours.equals(plain));
  assert.equal((await decode(xz(['-c'], new Uint8Array(0)))).length, 0);
});

test('truncation at many offsets is an XzError', async () => {
  const compressed = xz(['-1', '-T2', '--block-size=200000', '-c'], plain);
  const offsets = [0, 1, 5, 12, 13, 100, 5000];
  for (let at = 0; at < compressed.length; at += Math.floor(compressed.length / 23)) offsets.push(at);
  offsets.push(compressed.length - 12, compressed.length - 1);
  for (const n of offsets) await assertRejects(compressed.subarray(0, n), `truncated at ${n} of ${compressed.length}`);
});

test('corrupt bytes, trailing garbage and non-xz input are XzErrors', async () => {
  const compressed = xz(['-1', '-c'], plain);
  for (const at of [0, 7, 11, 12, 20, 1000, Math.floor(compressed.length / 2), compressed.length - 30, compressed.length - 5]) {
    const bad = Buffer.from(compressed);
    bad[at]! ^= 0x55;
    await assertRejects(bad, `byte ${at} flipped`);
  }
  await assertRejects(Buffer.concat([compressed, Buffer.from('garbage!')]), 'trailing garbage');
  await assertRejects(Buffer.from('this is not xz at all'), 'text');
  await assertRejects(new Uint8Array(0), 'empty input');
  const random = new Uint8Array(100_000).map((_, i) => (i * 2654435761) >>> 24);
  await assertRejects(random, 'random bytes');
});
