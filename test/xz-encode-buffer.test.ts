import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xzEncodeBuffer } from '../core/xz/encode-buffer.ts';
import { createNodeCodecPool } from '../node/codec-pool.ts';
import { nodeCodecs } from '../node/codec-wasm.ts';

const tmp = mkdtempSync(join(tmpdir(), 'xz-encode-buffer-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function run(cmd: string, args: string[], input?: Uint8Array): Buffer {
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

const BLOCK = 131_072;
const code = readFileSync('/usr/bin/bash').subarray(200_000, 200_000 + BLOCK);

test('CRC32 + x86 BCJ stream decodes with xz -dc and xz -l shows CRC32', async () => {
  const ours = await xzEncodeBuffer(code, { check: 'crc32', dictSize: BLOCK, bcj: 'x86' }, nodeCodecs);
  const file = join(tmp, 'block.xz');
  writeFileSync(file, ours);
  assert.ok(run('xz', ['-dc', file]).equals(code));
  const list = run('xz', ['--robot', '-lvv', file]).toString();
  assert.match(list, /\tCRC32\t/);
  assert.match(list, /\t--x86 --lzma2=dict=128KiB\n/);
});

/** The xz stream mksquashfs wrote for the single data block of a one-file image. */
function mksquashfsBlock(extra: string[]): Buffer {
  const dir = join(tmp, 'tree');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'f'), code);
  const img = join(tmp, 'img.squashfs');
  run('mksquashfs', [dir, img, '-comp', 'xz', ...extra, '-b', String(BLOCK), '-noappend', '-no-progress', '-quiet']);
  const bytes = readFileSync(img);
  const at = bytes.indexOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  assert.ok(at > 0, 'no xz stream in the image');
  return bytes.subarray(at);
}

test('byte-identical to the block mksquashfs -comp xz writes (dictionary = block size, CRC32)', async () => {
  const ours = await xzEncodeBuffer(code, { check: 'crc32', dictSize: BLOCK }, nodeCodecs);
  assert.ok(mksquashfsBlock([]).subarray(0, ours.length).equals(ours));
});

test('with -Xbcj x86 mksquashfs keeps the smaller of plain and x86; both are ours byte for byte', async () => {
  const plain = await xzEncodeBuffer(code, { check: 'crc32', dictSize: BLOCK }, nodeCodecs);
  const x86 = await xzEncodeBuffer(code, { check: 'crc32', dictSize: BLOCK, bcj: 'x86' }, nodeCodecs);
  assert.notDeepEqual(plain, x86);
  const smaller = x86.length < plain.length ? x86 : plain;
  assert.ok(mksquashfsBlock(['-Xbcj', 'x86']).subarray(0, smaller.length).equals(smaller));
});

test("the pool's 'xz' job gives the same bytes as xzEncodeBuffer", async () => {
  const pool = createNodeCodecPool(1);
  try {
    const pooled = await pool.compress({ codec: 'xz', preset: 6, extreme: false, check: 'crc32', dictSize: BLOCK, bcj: 'x86' }, code.slice());
    assert.deepEqual(pooled, await xzEncodeBuffer(code, { check: 'crc32', dictSize: BLOCK, bcj: 'x86' }, nodeCodecs));
  } finally {
    await pool.close();
  }
});
