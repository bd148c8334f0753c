import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { open, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, sh } from './helpers/cli.ts';
import { expectedBytes, randInt, randomRuns, randomSparse } from './helpers/sparse.ts';
import { rng } from './helpers/synthetic-cache.ts';
import { writeSparseChunks } from '../node/sparse-file.ts';
import { efiDisk, efiGeometry, DEFAULT_BOOT_SIZE } from '../core/disk/efi-layout.ts';
import { partitionedDisk, type DiskPartition } from '../core/disk/partitioned-disk.ts';
import { rootPartitionType } from '../core/disk/partition-types.ts';
import { guidBytes, guidText } from '../core/primitives/guid.ts';
import { GptError, PARTITION_TYPE } from '../core/primitives/gpt.ts';
import type { ByteRange } from '../core/io/sparse.ts';

const MIB = 1 << 20;
let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'disk-gpt-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function readAt(path: string, offset: number, length: number): Promise<Uint8Array> {
  const f = await open(path);
  try {
    const b = new Uint8Array(length);
    await f.read(b, 0, length, offset);
    return b;
  } finally {
    await f.close();
  }
}

/** make-disk-image.nix's efi partitioning, run for real: parted, then sgdisk with nixpkgs' GUIDs. */
async function nixpkgsReference(path: string, size: number, bootSize: string): Promise<void> {
  await sh('truncate', ['-s', String(size), path]);
  await sh('parted', ['--script', path, '--', 'mklabel', 'gpt', 'mkpart', 'ESP', 'fat32', '8MiB', bootSize, 'set', '1', 'boot', 'on', 'mkpart', 'primary', 'ext4', bootSize, '-1']);
  await sh('sgdisk', ['--disk-guid=97FD5997-D90B-4AA3-8D16-C1723AEA73C', '--partition-guid=1:1C06F03B-704E-4657-B9CD-681A087A2FDC', '--partition-guid=2:F222513B-DED1-49FA-B591-20CE86A2FE7F', path]);
}

for (const [size, bootSize, partedBoot] of [
  [1100 * MIB, DEFAULT_BOOT_SIZE, '256M'],
  [600 * MIB + 17 * 512, 300 * MIB, '300MiB'],
  [5 * 1024 * MIB, 512 * MIB, '512MiB'],
] as const) {
  test(`efi layout is byte-identical to parted + sgdisk as make-disk-image runs them (${size} bytes, bootSize ${partedBoot})`, async () => {
    const ref = join(tmp, `ref-${size}.img`);
    const ours = join(tmp, `ours-${size}.img`);
    await nixpkgsReference(ref, size, partedBoot);
    await writeSparseChunks(ours, efiDisk(efiGeometry(size, bootSize)).chunks());
    const r = await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', ref, ours]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
}

const sfdiskTable = async (path: string) =>
  (JSON.parse(await sh('sfdisk', ['--json', path])) as { partitiontable: { label: string; id: string; firstlba: number; lastlba: number; partitions: { start: number; size: number; type: string; uuid: string; name?: string }[] } }).partitiontable;

async function judge(path: string, blocks: number, parts: readonly DiskPartition[], diskGuid: Uint8Array): Promise<void> {
  assert.match(await sh('sgdisk', ['-v', path]), /No problems found/);
  const t = await sfdiskTable(path);
  assert.equal(t.label, 'gpt');
  assert.equal(t.id, guidText(diskGuid));
  assert.equal(t.lastlba, blocks - 34);
  assert.deepEqual(
    t.partitions.map((p) => [p.start, p.size, p.type, p.uuid, p.name ?? '']),
    parts.map((p) => [p.first, p.last - p.first + 1, guidText(p.type), guidText(p.guid), p.name]),
  );
  const parted = await sh('parted', ['-s', path, 'unit', 's', 'print']);
  for (const [i, p] of parts.entries()) assert.match(parted, new RegExp(`^ ?${i + 1}\\s+${p.first}s\\s+${p.last}s`, 'm'), parted);
  const fdisk = await sh('fdisk', ['-l', path]);
  for (const p of parts) assert.match(fdisk, new RegExp(`\\s${p.first}\\s+${p.last}\\s`), fdisk);
}

/** Random partitions with gaps, each holding random runs at odd offsets. */
function randomLayout(seed: number, blocks: number) {
  const r = rng(seed);
  const count = randInt(r, 1, 6);
  const usable = blocks - 34 - 34;
  const cuts = Array.from({ length: count * 2 }, () => 34 + randInt(r, 0, usable - 1)).sort((a, b) => a - b);
  const parts: (DiskPartition & { runs: ByteRange[]; seed: number })[] = [];
  for (let i = 0; i < count; i++) {
    const first = cuts[2 * i]!;
    const last = Math.max(first, cuts[2 * i + 1]! - 1);
    if (parts.length > 0 && first <= parts[parts.length - 1]!.last) continue;
    const bytes = (last - first + 1) * 512;
    const contentSize = randInt(r, 1, bytes);
    const runs = randomRuns(r, contentSize, randInt(r, 0, 8), 200_000);
    const type = [PARTITION_TYPE.esp, PARTITION_TYPE.linuxFilesystem, PARTITION_TYPE.rootX86_64, PARTITION_TYPE.basicData][randInt(r, 0, 3)]!;
    const guid = guidBytes(`${(seed * 16 + i).toString(16).padStart(8, '0')}-1111-4222-8333-444455556666`);
    parts.push({ first, last, type: guidBytes(type), guid, name: `part ${i}`, content: randomSparse(contentSize, runs, seed * 100 + i), runs, seed: seed * 100 + i });
  }
  return parts;
}

for (const [seed, blocks] of [
  [1, 4096 * 3 + 7],
  [2, 200_001],
  [3, 65_536],
  [4, (6 * 1024 * MIB) / 512 + 123],
] as const) {
  test(`random layout ${seed} (${blocks} blocks): sgdisk, sfdisk, parted and fdisk read back what was written, contents in place`, async () => {
    const parts = randomLayout(seed, blocks);
    const diskGuid = guidBytes('01234567-89AB-4CDE-8F01-23456789ABCD');
    const img = join(tmp, `random-${seed}.img`);
    await writeSparseChunks(img, partitionedDisk({ blocks, diskGuid, partitions: parts }).chunks());
    await judge(img, blocks, parts, diskGuid);
    for (const p of parts) {
      for (const run of p.runs) {
        const lo = Math.max(0, run.offset - 100);
        const hi = Math.min(p.content!.size, run.offset + run.length + 100);
        assert.deepEqual(await readAt(img, p.first * 512 + lo, hi - lo), expectedBytes(p.runs, p.seed, lo, hi - lo));
      }
    }
  });
}

test('a discoverable root partition type by architecture, which sgdisk names', async () => {
  const g = efiGeometry(64 * MIB, 32 * MIB);
  const img = join(tmp, 'discoverable.img');
  const { efiDiskLayout } = await import('../core/disk/efi-layout.ts');
  await writeSparseChunks(img, partitionedDisk(efiDiskLayout(g, { rootType: rootPartitionType('x86_64-linux') })).chunks());
  assert.match(await sh('sgdisk', ['-i', '2', img]), /4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709 \(Linux x86-64 root/);
  assert.equal(guidText(rootPartitionType('aarch64-linux')), PARTITION_TYPE.rootAarch64);
  assert.throws(() => rootPartitionType('mips-linux'), /mips-linux/);
});

test('bad layouts are refused with the partition named', () => {
  const diskGuid = new Uint8Array(16);
  const p = (name: string, first: number, last: number, size = 0): DiskPartition => ({ name, first, last, type: guidBytes(PARTITION_TYPE.esp), guid: diskGuid, content: size ? randomSparse(size, [], 1) : undefined });
  assert.throws(() => partitionedDisk({ blocks: 1000, diskGuid, partitions: [p('a', 34, 100), p('b', 100, 200)] }), (e: Error) => e instanceof GptError && /"a" and "b" overlap/.test(e.message));
  assert.throws(() => partitionedDisk({ blocks: 1000, diskGuid, partitions: [p('low', 33, 100)] }), /"low".*outside the usable blocks 34-966/);
  assert.throws(() => partitionedDisk({ blocks: 1000, diskGuid, partitions: [p('high', 900, 967)] }), /"high"/);
  assert.throws(() => partitionedDisk({ blocks: 1000, diskGuid, partitions: [p('full', 34, 35, 1025)] }), /"full" holds 1025 bytes but has room for 1024/);
  assert.throws(() => efiGeometry(20 * MIB, 8 * MIB), /bootSize/);
  assert.throws(() => efiGeometry(9 * MIB, 9 * MIB), /no room for a root/);
  assert.throws(() => efiGeometry(9 * MIB + 1), /512-byte sectors/);
  assert.throws(() => guidBytes('97FD5997-D90B-4AA3-8D16-C1723AEA73C'), /not a GUID/);
});

test('partition content that does not give its stated size stops the disk with the partition named', async () => {
  const lying = (size: number, gives: number) => ({ size, allocated: () => [], async *chunks() { yield { zeros: gives }; } });
  const disk = (content: ReturnType<typeof lying>) =>
    partitionedDisk({ blocks: 1000, diskGuid: new Uint8Array(16), partitions: [{ name: 'root', first: 34, last: 100, type: guidBytes(PARTITION_TYPE.linuxFilesystem), guid: new Uint8Array(16), content }] });
  const drain = async (d: ReturnType<typeof disk>) => {
    for await (const _ of d.chunks());
  };
  await assert.rejects(drain(disk(lying(4096, 4000))), /"root" content ended after 4000 of its 4096 bytes/);
  await assert.rejects(drain(disk(lying(4096, 5000))), /"root" content runs past its size of 4096 bytes/);
});
