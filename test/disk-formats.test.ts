import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, sh } from './helpers/cli.ts';
import { randInt, randomRuns, randomSparse } from './helpers/sparse.ts';
import { rng } from './helpers/synthetic-cache.ts';
import { writeSparseChunks } from '../node/sparse-file.ts';
import { chunkLength, type ByteRange, type SparseSource } from '../core/io/sparse.ts';
import type { ContainerImage } from '../core/io/sparse-blocks.ts';
import { qcow2Image } from '../core/qcow2/qcow2-writer.ts';
import { vhdDynamicImage, vhdFixedImage } from '../core/vhd/vhd-writer.ts';
import { vmdkImage } from '../core/vmdk/vmdk-writer.ts';
import { zlibSync } from 'fflate';
import { vdiImage } from '../core/vdi/vdi-writer.ts';

const MIB = 1 << 20;
const GIB = 1 << 30;
let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'disk-formats-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface Format {
  /** qemu-img's name for it. */
  readonly qemu: string;
  readonly write: (s: SparseSource) => ContainerImage;
  /** Whether qemu-img check supports the format. */
  readonly checks: boolean;
  /** Sizes the format cannot hold (tested apart). */
  readonly refuses?: (size: number) => boolean;
}

const uniqueId = Uint8Array.from({ length: 16 }, (_, i) => i * 17);

const FORMATS: Record<string, Format> = {
  qcow2: { qemu: 'qcow2', write: qcow2Image, checks: true },
  vhd: { qemu: 'vpc', write: (s) => vhdFixedImage(s, { uniqueId }), checks: false, refuses: (size) => size % MIB !== 0 },
  'vhd-dynamic': { qemu: 'vpc', write: (s) => vhdDynamicImage(s, { uniqueId }), checks: false },
  vdi: { qemu: 'vdi', write: (s) => vdiImage(s, { uuid: uniqueId }), checks: true },
  vmdk: { qemu: 'vmdk', write: (s) => vmdkImage(s, { cid: 0x1234abcd, fileName: 'nixos.vmdk' }), checks: true },
  // Grains compressed out of order (later ones first) must still land in order behind their markers.
  'vmdk-in-flight': {
    qemu: 'vmdk',
    write: (s) => vmdkImage(s, { cid: 1, fileName: 'x.vmdk', inFlight: 5, compress: (g) => { const z = zlibSync(g); return new Promise((r) => setTimeout(() => r(z), Math.random() * 3)); } }),
    checks: true,
  },
};

/** Sizes and layouts at the edges: empty, one byte, runs across cluster/block/table boundaries, a mostly empty disk over 4 GiB. */
function layouts(): { name: string; size: number; runs: ByteRange[] }[] {
  const r = rng(42);
  return [
    { name: 'empty 1 MiB', size: MIB, runs: [] },
    { name: 'one byte at the end', size: 3 * MIB, runs: [{ offset: 3 * MIB - 1, length: 1 }] },
    { name: 'odd size, data in the short last cluster', size: 7 * MIB + 1536, runs: [{ offset: 7 * MIB - 100, length: 1636 }] },
    { name: 'whole disk allocated', size: 5 * MIB, runs: [{ offset: 0, length: 5 * MIB }] },
    { name: 'boundaries of 64 KiB, 1 MiB, 2 MiB and 32 MiB blocks', size: 96 * MIB, runs: [
      { offset: 65535, length: 2 }, { offset: MIB - 1, length: 2 }, { offset: 2 * MIB - 3, length: 65536 + 6 }, { offset: 32 * MIB - 512, length: 1024 }, { offset: 64 * MIB, length: 65536 },
    ] },
    { name: 'random runs at odd offsets', size: 300 * MIB, runs: randomRuns(r, 300 * MIB, 40, 3 * MIB) },
    { name: 'over 4 GiB, mostly empty, data past 4 GiB and 512 MiB L2 span', size: 6 * GIB, runs: [
      { offset: 12345, length: 100_000 }, { offset: 512 * MIB - 10, length: 20 }, { offset: 4 * GIB + 777, length: 3 * MIB }, { offset: 6 * GIB - 4096, length: 4096 },
    ] },
    { name: 'random over 4 GiB', size: 5 * GIB + 3 * MIB, runs: randomRuns(r, 5 * GIB + 3 * MIB, randInt(r, 10, 30), 2 * MIB) },
  ];
}

for (const [name, f] of Object.entries(FORMATS)) {
  for (const [i, l] of layouts().entries()) {
    if (f.refuses?.(l.size)) continue;
    test(`${name}: ${l.name} — qemu-img info, check and compare against the raw image`, async () => {
      const source = randomSparse(l.size, l.runs, 1000 + i);
      const raw = join(tmp, `${name}-${i}.raw`);
      const out = join(tmp, `${name}-${i}.${name}`);
      await writeSparseChunks(raw, source.chunks());
      const image = f.write(source);
      let streamed = 0;
      await writeSparseChunks(out, (async function* () {
        for await (const c of image.chunks()) {
          streamed += chunkLength(c);
          yield c;
        }
      })());
      if (image.size !== undefined) assert.equal(streamed, image.size);
      assert.equal((await stat(out)).size, streamed);
      const info = JSON.parse(await sh('qemu-img', ['info', '--output=json', '-f', f.qemu, out])) as { format: string; 'virtual-size': number; 'format-specific'?: { data?: Record<string, unknown> } };
      assert.equal(info.format, f.qemu);
      assert.equal(info['virtual-size'], l.size);
      if (f.qemu === 'vmdk') assert.equal(info['format-specific']?.data?.['create-type'], 'streamOptimized');
      if (f.checks) await sh('qemu-img', ['check', '-f', f.qemu, out]);
      const cmp = await run('qemu-img', ['compare', '-f', 'raw', raw, '-F', f.qemu, out]);
      assert.equal(cmp.code, 0, cmp.stdout + cmp.stderr);
      assert.match(cmp.stdout, /Images are identical/);
      await rm(raw);
      await rm(out);
    });
  }
}

test('a fixed VHD refuses a size that is not a whole number of MiB, naming the size', () => {
  assert.throws(() => vhdFixedImage(randomSparse(MIB + 512, [], 1), { uniqueId }), /whole number of MiB.*1049088 bytes/);
  assert.throws(() => vhdDynamicImage(randomSparse(MIB + 1, [], 1), { uniqueId }), /512-byte sectors; 1048577/);
  assert.throws(() => vhdDynamicImage(randomSparse(2041 * GIB, [], 1), { uniqueId }), /2040 GiB/);
});

test('a source with data outside its allocated ranges is refused, not silently dropped', async () => {
  const { blocksOf, SparseSourceError } = await import('../core/io/sparse-blocks.ts');
  const liar: SparseSource = { size: 3 * MIB, allocated: () => [{ offset: 0, length: 10 }], async *chunks() { yield new Uint8Array(3 * MIB).fill(1); } };
  await assert.rejects(async () => {
    for await (const _ of blocksOf(liar, MIB, [0]));
  }, (e: Error) => e instanceof SparseSourceError && /data at byte 1048576 outside its allocated ranges/.test(e.message));
  const short: SparseSource = { size: 3 * MIB, allocated: () => [], async *chunks() { yield { zeros: MIB }; } };
  await assert.rejects(async () => {
    for await (const _ of blocksOf(short, MIB, []));
  }, /gave 1048576 bytes; its size is 3145728/);
});
