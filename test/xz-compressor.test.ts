import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xzCompressor, type XzCompressorOptions } from '../core/xz/xz-compressor.ts';
import { createNodeCodecPool } from '../node/codec-pool.ts';
import { nodeCodecs } from '../node/codec-wasm.ts';

const tmp = mkdtempSync(join(tmpdir(), 'xz-compressor-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function xz(args: string[], input?: Uint8Array): Buffer {
  const r = spawnSync('xz', args, { input, maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, `xz ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Feeds `data` in uneven chunks, as a tar writer would. */
async function encode(data: Uint8Array, opts: XzCompressorOptions): Promise<Buffer> {
  async function* chunks() {
    for (let at = 0, n = 1; at < data.length; at += n, n = (n * 7 + 4093) % 300_000) yield data.subarray(at, at + n);
  }
  const out: Uint8Array[] = [];
  for await (const c of xzCompressor({ codecs: nodeCodecs, ...opts })(chunks())) out.push(c.slice()); // chunks are lent
  return Buffer.concat(out);
}

function blockCount(file: string): number {
  const line = xz(['--robot', '-l', file]).toString().split('\n').find((l) => l.startsWith('file\t'))!;
  return Number(line.split('\t')[2]);
}

/** ~4 MB of machine code, text, random and zero bytes (the random part is seeded). */
function variedInput(): Uint8Array {
  const parts: Uint8Array[] = [readFileSync('/usr/bin/bash').subarray(0, 1_200_000)];
  const lines: string[] = [];
  for (let i = 0; lines.join('').length < 1_000_000; i++) lines.push(`line ${i}: ${(i * 2654435761) % 1000003} ${'abc'.repeat(i % 17)}\n`);
  parts.push(new TextEncoder().encode(lines.join('')));
  const random = new Uint8Array(700_000);
  let s = 12345;
  for (let i = 0; i < random.length; i++) random[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  parts.push(random, new Uint8Array(600_000), readFileSync('/usr/bin/xz'));
  return Buffer.concat(parts);
}

const varied = variedInput();
const variedFile = join(tmp, 'varied.bin');
writeFileSync(variedFile, varied);

test('one block is byte-identical to xz -6 -T1', async () => {
  const ours = await encode(varied, {});
  assert.ok(xz(['-6', '-T1', '-c', variedFile]).equals(ours));
});

test('blockSize Infinity streams one block, byte-identical to xz -6 -T1', async () => {
  const ours = await encode(varied, { blockSize: Infinity });
  assert.ok(xz(['-6', '-T1', '-c', variedFile]).equals(ours));
});

test('presets 0 and 9 -e are byte-identical to xz -T1', async () => {
  const small = varied.subarray(0, 300_000);
  const smallFile = join(tmp, 'small.bin');
  writeFileSync(smallFile, small);
  assert.ok(xz(['-0', '-T1', '-c', smallFile]).equals(await encode(small, { preset: 0 })));
  assert.ok(xz(['-9e', '-T1', '-c', smallFile]).equals(await encode(small, { preset: 9, extreme: true })));
});

test('empty input gives the stream of xz -T1', async () => {
  assert.ok(xz(['-6', '-T1', '-c'], new Uint8Array(0)).equals(await encode(new Uint8Array(0), {})));
});

test('blocks on a pool of 2 match xz -T2 --block-size byte for byte; 1 worker gives the same bytes', async () => {
  const pool2 = createNodeCodecPool(2);
  const pool1 = createNodeCodecPool(1);
  try {
    const two = await encode(varied, { preset: 1, blockSize: 1 << 20, pool: pool2 });
    const one = await encode(varied, { preset: 1, blockSize: 1 << 20, pool: pool1 });
    const local = await encode(varied, { preset: 1, blockSize: 1 << 20 });
    assert.ok(two.equals(one), '1 and 2 workers differ');
    assert.ok(two.equals(local), 'pool and in-process differ');
    const file = join(tmp, 'blocks.xz');
    writeFileSync(file, two);
    xz(['-t', file]);
    assert.equal(blockCount(file), Math.ceil(varied.length / (1 << 20)));
    assert.ok(xz(['-dc', file]).equals(Buffer.from(varied)));
    assert.ok(xz(['-1', '-T2', '--block-size=1048576', '-c', variedFile]).equals(two), 'differs from xz -T2');
  } finally {
    await Promise.all([pool1.close(), pool2.close()]);
  }
});

/** ~100 MB of shared libraries from /usr/lib, concatenated once into test-artifacts/. */
function usrLibSample(): string {
  const file = join('test-artifacts', 'xz-usrlib-100M.bin');
  if (existsSync(file)) return file;
  mkdirSync('test-artifacts', { recursive: true });
  const fd = openSync(file + '.part', 'w');
  let total = 0;
  const visit = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (total >= 100e6) return;
      const p = join(dir, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) visit(p);
      else if (st?.isFile() && /\.so(\.|$)/.test(name)) total += writeSync(fd, readFileSync(p));
    }
  };
  visit('/usr/lib/x86_64-linux-gnu');
  closeSync(fd);
  spawnSync('mv', [file + '.part', file]);
  return file;
}

test('~100 MB of /usr/lib binaries: xz -t passes, blocks listed, decodes to the input, same bytes as xz -T2', async () => {
  const input = usrLibSample();
  const data = readFileSync(input);
  assert.ok(data.length >= 100e6);
  const pool = createNodeCodecPool(2);
  let ours: Buffer;
  try {
    ours = await encode(data, { preset: 0, pool });
  } finally {
    await pool.close();
  }
  const file = join(tmp, 'usrlib.xz');
  writeFileSync(file, ours);
  xz(['-t', file]);
  assert.equal(blockCount(file), Math.ceil(data.length / (1 << 20)));
  assert.ok(xz(['-dc', file]).equals(data));
  assert.ok(xz(['-0', '-T2', '-c', input]).equals(ours), 'differs from xz -0 -T2');
});
