// core/fat judged by dosfstools and mtools: fsck.fat -n -V finds nothing to say, mcopy -s gives
// back every file byte for byte under every name (Unicode, long, 8.3 collisions, case variants,
// empty, deep, large, 1000+ entries), mdir and fsck.fat -l list the same tree, for FAT12/16/32.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addPath, newDir, type ImageDir } from '../core/image/tree.ts';
import { textToBinary } from '../core/io/binary-string.ts';
import { bytesSource, type DataSource } from '../core/io/data-source.ts';
import { chunkLength, isZeros } from '../core/io/sparse.ts';
import { FatError } from '../core/fat/fat-error.ts';
import { fatAutoSize, fatImage, fatStream, type FatContents, type FatFile, type FatOptions } from '../core/fat/fat-writer.ts';
import { assertFsckClean, bootSectorFields, judgeFat, mdirListing } from './helpers/fat-tools.ts';
import { writeSparseFile } from '../node/sparse-file.ts';

const tmp = mkdtempSync(join(tmpdir(), 'nix-imager-fat-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => {
  const d = join(tmp, `${name}-${n++}`);
  mkdirSync(d);
  return d;
};

const EPOCH = 1700000000;
const MiB = 1024 * 1024;

/** Bytes that differ file to file (a counter mixed in), so a misplaced cluster shows. */
function pattern(size: number, seed: number): Uint8Array {
  const b = new Uint8Array(size);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function add(root: ImageDir, path: string, data: Uint8Array | DataSource): void {
  const source = data instanceof Uint8Array ? bytesSource(data) : data;
  addPath(root, textToBinary(path), { kind: 'file', mode: 0o444, data: source });
}

/** A tree with every kind of name and size the writer must get right. */
function hardTree(): ImageDir {
  const root = newDir();
  let seed = 0;
  const put = (path: string, size = 7 + (seed % 50)) => add(root, path, pattern(size, ++seed));
  put('EFI/BOOT/BOOTX64.EFI', 70000);
  put('loader/loader.conf');
  put('loader/entries/nixos-generation-1.conf');
  for (const name of ['Ünïcödé.txt', '中文名字.conf', 'emoji 🎉 party.txt', 'ñ', 'Ωmega.BIN']) put(`unicode/${name}`);
  put(`long/${'a very long name '.repeat(14).trim()}.txt`); // 237 characters
  put(`long/${'x'.repeat(255)}`);
  put(`long/${'y'.repeat(26)}`); // exactly two long entries, no terminator
  for (let i = 1; i <= 25; i++) put(`collide/long file name number ${i}.txt`);
  for (const name of ['ReadMe.md', 'readme.txt', 'README', 'Makefile', 'MAKEFILE.AM', 'a.b.c.tar.gz', '.hidden', 'x+y=z[1].txt', 'foo bar', 'AB~1.CDE', 'ab.cdef']) put(`case/${name}`);
  put('empty/file-of-nothing', 0);
  addPath(root, textToBinary('empty/dir-of-nothing'), newDir());
  put(`${Array.from({ length: 24 }, (_, i) => `level${i}`).join('/')}/bottom.txt`);
  put('large/three-megabytes.bin', 3 * MiB + 12345);
  for (let i = 0; i < 1100; i++) put(`many/entry-${String(i).padStart(4, '0')}.dat`, i % 5 === 0 ? 0 : 1 + (i % 700));
  return root;
}

for (const [fatType, size] of [
  [12, 16 * MiB],
  [16, 32 * MiB],
  [32, 64 * MiB],
] as const) {
  test(`FAT${fatType}: every name and size survives fsck.fat and mtools`, async () => {
    const root = hardTree();
    const { image } = await judgeFat(root, { mtime: EPOCH, size, fatType, label: 'NIXTEST' }, fresh('judge'));
    const boot = bootSectorFields(readFileSync(image).subarray(0, 512));
    assert.equal(boot.type, `FAT${fatType}`);
  });
}

test('FAT32 chosen by size (600 MiB) is clean and sparse: only the used clusters are allocated', async () => {
  const root = hardTree();
  const source = fatImage(root, { mtime: EPOCH, size: 600 * MiB, label: 'ESP' });
  const allocated = source.allocated().reduce((s, r) => s + r.length, 0);
  assert.ok(allocated < 12 * MiB, `allocated ${allocated} bytes of ${source.size}`);
  const { image } = await judgeFat(root, { mtime: EPOCH, size: 600 * MiB, label: 'ESP' }, fresh('judge'));
  assert.equal(bootSectorFields(readFileSync(image).subarray(0, 512)).type, 'FAT32');
});

test('a 64 GiB FAT32 volume with a 100 MB file streams in bounded memory (FATs in pieces, free space as zero runs) and is clean', async () => {
  const root = newDir();
  const big: DataSource = {
    size: 100 * 1e6,
    async *stream() {
      const chunk = pattern(MiB, 7);
      for (let left = this.size; left > 0; left -= MiB) yield left >= MiB ? chunk : chunk.subarray(0, left);
    },
  };
  add(root, 'nix/store/big.bin', big);
  const source = fatImage(root, { mtime: EPOCH, size: 64 * 1024 * MiB, label: 'BIG' });
  const before = process.memoryUsage().rss;
  let peak = before;
  let total = 0;
  let largest = 0;
  for await (const c of source.chunks()) {
    total += chunkLength(c);
    if (!isZeros(c)) largest = Math.max(largest, c.length);
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  assert.equal(total, source.size);
  assert.ok(largest <= MiB, `largest chunk ${largest} bytes`);
  assert.ok(peak - before < 128 * MiB, `rss grew by ${((peak - before) / MiB).toFixed(0)} MiB`);
  const allocated = source.allocated().reduce((n, r) => n + r.length, 0);
  assert.ok(allocated < 101 * 1e6, `${allocated} bytes allocated`);
  await judgeFat(root, { mtime: EPOCH, size: 64 * 1024 * MiB, label: 'BIG' }, fresh('judge'));
});

test('FAT32 with 512-byte clusters and a 40 MB file: a chain of 80 000 clusters, its FAT streamed in several pieces', async () => {
  const root = newDir();
  add(root, 'EFI/nixos/initrd.efi', pattern(40 * 1e6, 9));
  add(root, 'EFI/nixos/after.txt', pattern(1000, 10));
  const { image, summary } = await judgeFat(root, { mtime: EPOCH, size: 64 * MiB, fatType: 32, label: 'ESP' }, fresh('judge'));
  assert.equal(bootSectorFields(readFileSync(image).subarray(0, 512)).sectorsPerCluster, 1);
  assert.match(summary, / (7813[0-9]|781[4-9][0-9])\/\d+ clusters$/);
});

test('automatic size: contents plus slack as iso-image.nix sizes efi.img, grown until the tree fits', async () => {
  const root = newDir();
  add(root, 'EFI/BOOT/BOOTX64.EFI', pattern(5 * MiB + 3, 1));
  add(root, 'boot/initrd', pattern(2 * MiB, 2));
  // 8 MiB of apparent size (7 MiB of data and 4 directories) → ×1.1 = 8.8 → 8 + 1 = 9 MiB.
  assert.equal(fatAutoSize(root, { label: 'EFIBOOT' }), 9 * MiB);
  await judgeFat(root, { mtime: EPOCH, label: 'EFIBOOT' }, fresh('judge'));
  // 3000 tiny files need more clusters than their bytes suggest.
  const small = newDir();
  for (let i = 0; i < 3000; i++) add(small, `d${i % 3}/f${i}`, pattern(100, i));
  const size = fatAutoSize(small);
  assert.ok(size > 1 * MiB && size % MiB === 0, `${size}`);
  await judgeFat(small, { mtime: EPOCH }, fresh('judge'));
});

test('the sparse form and the byte stream agree: chunks add up to size, and every byte outside allocated() is zero', async () => {
  const root = hardTree();
  const source = fatImage(root, { mtime: EPOCH, size: 40 * MiB, label: 'X' });
  const dense: Uint8Array[] = [];
  for await (const c of fatStream(root, { mtime: EPOCH, size: 40 * MiB, label: 'X' })) dense.push(c.slice());
  const bytes = Buffer.concat(dense);
  assert.equal(bytes.length, source.size);
  let total = 0;
  let at = 0;
  for await (const c of source.chunks()) {
    if (isZeros(c)) assert.ok(bytes.subarray(at, at + c.zeros).every((b) => b === 0), `zero run at ${at}`);
    at += chunkLength(c);
    total += chunkLength(c);
  }
  assert.equal(total, source.size);
  const ranges = source.allocated();
  let end = 0;
  for (const r of ranges) {
    assert.ok(r.offset >= end, 'sorted and disjoint');
    assert.ok(bytes.subarray(end, r.offset).every((b) => b === 0), `non-zero byte between ${end} and ${r.offset}`);
    end = r.offset + r.length;
  }
  assert.ok(bytes.subarray(end).every((b) => b === 0));
});

test('deterministic: the same tree and options give the same bytes, and the volume ID follows the inputs', async () => {
  const digest = async (opts: FatOptions, root = hardTree()) => {
    const h = createHash('sha256');
    for await (const c of fatStream(root, opts)) h.update(c);
    return h.digest('hex');
  };
  const opts = { mtime: EPOCH, size: 32 * MiB, label: 'A' };
  assert.equal(await digest(opts), await digest(opts));
  const id = async (o: FatOptions) => {
    const image = join(fresh('id'), 'id.img');
    await writeSparseFile(fatImage(hardTree(), o), image);
    return readFileSync(image).subarray(39, 43).toString('hex');
  };
  assert.notEqual(await id(opts), await id({ ...opts, label: 'B' }));
  assert.equal(await id({ ...opts, volumeId: 0x12345678 }), '78563412');
  // A partition's first LBA goes into the boot sector's hidden-sectors field, as mkfs.fat does on a partition.
  const esp = join(fresh('hidden'), 'esp.img');
  await writeSparseFile(fatImage(hardTree(), { ...opts, hiddenSectors: 2048 }), esp);
  assert.equal(readFileSync(esp).readUInt32LE(28), 2048);
  assertFsckClean(esp);
});

test('timestamps: every entry carries mtime (UTC, 2-second steps); times before 1980 are pinned to 1980-01-01', async () => {
  const root = newDir();
  add(root, 'a/b.txt', pattern(10, 1));
  const image = join(fresh('time'), 'time.img');
  await writeSparseFile(fatImage(root, { mtime: Date.UTC(2024, 1, 29, 13, 45, 31) / 1000, size: 4 * MiB }), image);
  const listing = mdirListing(image, '::/a');
  assert.match(listing, /B\s+TXT\s+10 2024-02-29\s+13:45/);
  const old = join(fresh('old'), 'old.img');
  await writeSparseFile(fatImage(root, { mtime: 0, size: 4 * MiB }), old);
  assert.match(mdirListing(old, '::/a'), /10 1980-01-01\s+0:00/);
  assertFsckClean(old);
});

test('a FAT16 root with 1200 entries grows past 512 slots, as mkfs.fat -r makes it', async () => {
  const root = newDir();
  for (let i = 0; i < 600; i++) add(root, `root-file-${i}`, pattern(i % 3, i));
  const { image } = await judgeFat(root, { mtime: EPOCH, size: 32 * MiB }, fresh('judge'));
  assert.equal(bootSectorFields(readFileSync(image).subarray(0, 512)).rootEntries, 1216);
});

test('a list of files makes the same volume as the tree holding them; a path listed twice is refused', async () => {
  const files: FatFile[] = [
    { path: 'EFI/BOOT/BOOTX64.EFI', data: bytesSource(pattern(5000, 1)) },
    { path: 'loader/entries/nixos-generation-1.conf', data: bytesSource(pattern(300, 2)) },
    { path: 'loader/loader.conf', data: bytesSource(pattern(40, 3)) },
  ];
  const root = newDir();
  for (const f of files) add(root, f.path, f.data);
  const bytes = async (contents: FatContents) => {
    const parts: Uint8Array[] = [];
    for await (const c of fatStream(contents, { mtime: EPOCH, label: 'EFIBOOT' })) parts.push(c.slice());
    return Buffer.concat(parts);
  };
  assert.ok((await bytes(files)).equals(await bytes(root)));
  await judgeFat(files.reduce((r, f) => (add(r, f.path, f.data), r), newDir()), { mtime: EPOCH, label: 'EFIBOOT' }, fresh('judge'));
  assert.throws(() => fatImage([...files, files[2]!], { mtime: EPOCH }), (e: unknown) => e instanceof FatError && /"loader\/loader.conf" is claimed twice/.test(e.message));
});

test('what FAT cannot hold is refused before any byte, naming the path', () => {
  const refuse = (setup: (root: ImageDir) => void, message: RegExp, opts: Partial<FatOptions> = {}) => {
    const root = newDir();
    setup(root);
    assert.throws(() => fatImage(root, { mtime: EPOCH, ...opts }), (e: unknown) => e instanceof FatError && message.test(e.message));
  };
  refuse((r) => addPath(r, textToBinary('boot/kernel'), { kind: 'symlink', target: textToBinary('/nix/store/x-linux/bzImage') }), /"\/boot\/kernel" is a symbolic link/);
  refuse((r) => add(r, 'EFI/a:b', pattern(1, 1)), /"\/EFI\/a:b": VFAT names cannot hold ":"/);
  refuse((r) => add(r, 'dir/trailing.', pattern(1, 1)), /cannot end with a dot/);
  refuse((r) => add(r, `d/${'z'.repeat(256)}`, pattern(1, 1)), /256 UTF-16 units/);
  refuse((r) => addPath(r, 'bad\xff', { kind: 'file', mode: 0o444, data: bytesSource(pattern(1, 1)) }), /not UTF-8/);
  refuse((r) => (add(r, 'x/README', pattern(1, 1)), add(r, 'x/readme', pattern(1, 1))), /"\/x": "README" and "readme" differ only in case/);
  refuse((r) => add(r, 'big.bin', pattern(5 * MiB, 1)), /needs \d+ clusters .* 4194304-byte FAT12 volume has \d+/, { size: 4 * MiB });
  refuse(() => {}, /volume label "toolongforfat" must be 1 to 11/, { label: 'toolongforfat' });
  refuse(() => {}, /volume label "A.B" cannot hold "\."/, { label: 'A.B' });
  refuse(() => {}, /too small/, { size: 20 * 1024 });
  refuse((r) => { for (let i = 0; i < 32761; i++) add(r, `f${i}`, pattern(0, i)); }, /root directory needs 65522 entries; a FAT16 root holds at most 65520/, { size: 256 * MiB, fatType: 16 });
});

test('a data source that lies about its size fails the stream, naming the file', async () => {
  const root = newDir();
  const liar: DataSource = { size: 100, async *stream() { yield pattern(60, 1); } };
  add(root, 'EFI/liar.bin', liar);
  await assert.rejects(async () => {
    for await (const _ of fatStream(root, { mtime: EPOCH, size: 4 * MiB })) void _;
  }, /file "\/EFI\/liar.bin": its data source yielded 60 bytes, but its size is 100/);
});
