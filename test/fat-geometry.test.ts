// The FAT type, cluster size and table sizes core/fat picks for a size, against the boot sector
// mkfs.fat 4.2 writes into an image file of that size (with the same -F and -r); and an empty
// volume against `mkfs.fat --invariant`, byte for byte outside the boot code.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseGeometry, clusterBytes, dataStartSector, SECTOR, type FatType } from '../core/fat/geometry.ts';
import { fatImage } from '../core/fat/fat-writer.ts';
import { newDir } from '../core/image/tree.ts';
import { assertFsckClean, bootSectorFields } from './helpers/fat-tools.ts';
import { writeSparseFile } from '../node/sparse-file.ts';

const tmp = mkdtempSync(join(tmpdir(), 'nix-imager-fatgeo-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const KiB = 1024;
const MiB = 1024 * KiB;

interface Case {
  bytes: number;
  fatType?: FatType;
  rootEntries?: number;
}

/** mkfs.fat on a sparse file of exactly `bytes` bytes; its first `length` bytes. */
function mkfs(c: Case, extra: string[] = [], length = 512): Uint8Array {
  const image = join(tmp, 'mkfs.img');
  writeFileSync(image, '');
  truncateSync(image, c.bytes);
  const args = [...(c.fatType ? ['-F', String(c.fatType)] : []), ...(c.rootEntries ? ['-r', String(c.rootEntries)] : []), ...extra, image];
  execFileSync('mkfs.fat', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return head(image, length);
}

function head(path: string, length: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const b = new Uint8Array(length);
    readSync(fd, b, 0, length, 0);
    return b;
  } finally {
    closeSync(fd);
  }
}

function ours(c: Case): Record<string, number | string> {
  const g = chooseGeometry(c.bytes, { fatType: c.fatType, rootEntries: c.rootEntries });
  return {
    type: `FAT${g.fatType}`,
    sectorsPerCluster: g.sectorsPerCluster,
    reservedSectors: g.reservedSectors,
    fatCount: g.fatCount,
    rootEntries: g.rootEntries,
    totalSectors: g.totalSectors,
    media: g.media,
    fatSectors: g.fatSectors,
    sectorsPerTrack: g.sectorsPerTrack,
    heads: g.heads,
  };
}

const sizes: number[] = [
  // floppies, tiny volumes (no alignment up to 4 MiB), and the FAT12/FAT16 border
  100 * KiB, 360 * KiB, 720 * KiB, 1200 * KiB, 1440 * KiB, 2880 * KiB, 3 * MiB, 4 * MiB, 4 * MiB + 512, 5 * MiB,
  7 * MiB + 3 * 512, 8 * MiB, 9 * MiB, 15 * MiB, 16 * MiB, 17 * MiB,
  // efi.img-sized volumes, the FAT16 cluster-size steps, 256 MiB ESPs and the 512 MiB FAT32 switch
  33 * MiB, 64 * MiB, 100 * MiB, 127 * MiB + 512, 128 * MiB, 129 * MiB, 255 * MiB, 256 * MiB, 257 * MiB, 300 * MiB, 511 * MiB, 512 * MiB,
  // FAT32 cluster-size steps: 260 MiB, 8, 16, 32 GiB
  600 * MiB, 1024 * MiB, 8 * 1024 * MiB, 8 * 1024 * MiB + MiB, 16 * 1024 * MiB + MiB, 33 * 1024 * MiB,
];
for (let s = 1; s <= 40; s++) sizes.push(Math.round(s * s * 0.37 * MiB / 512) * 512); // a sweep of odd sizes

test('mkfs.fat picks the same FAT type, cluster size and table sizes for every size', () => {
  for (const bytes of sizes) assert.deepEqual(ours({ bytes }), bootSectorFields(mkfs({ bytes })), `${bytes} bytes`);
});

test('… and the same with -F 12/16/32 and with -r (a root of more than 512 slots)', () => {
  const cases: Case[] = [
    { bytes: 8 * MiB, fatType: 12 },
    { bytes: 16 * MiB, fatType: 12 },
    { bytes: 32 * MiB, fatType: 12 },
    { bytes: 16 * MiB, fatType: 16 },
    { bytes: 600 * MiB, fatType: 16 },
    { bytes: 33 * MiB, fatType: 32 },
    { bytes: 64 * MiB, fatType: 32 },
    { bytes: 256 * MiB, fatType: 32 },
    { bytes: 300 * MiB, fatType: 32 },
    { bytes: 32 * MiB, rootEntries: 1200 },
    { bytes: 2 * MiB, rootEntries: 700 },
    { bytes: 1440 * KiB, rootEntries: 300 },
  ];
  for (const c of cases) assert.deepEqual(ours(c), bootSectorFields(mkfs(c)), JSON.stringify(c));
});

test('an empty volume is byte-identical to mkfs.fat --invariant outside the boot code and OEM name', async () => {
  // --invariant: volume ID 1234abcd, time 1426325213 (2015-03-14 09:26:53 UTC) on the label entry
  for (const c of [{ bytes: 4 * MiB }, { bytes: 64 * MiB }, { bytes: 600 * MiB }, { bytes: 256 * MiB, fatType: 32 as const }]) {
    const g = chooseGeometry(c.bytes, c);
    // Everything mkfs.fat writes lies before the end of the first cluster; the rest is zero in both.
    const length = dataStartSector(g) * SECTOR + clusterBytes(g);
    const theirs = mkfs(c, ['--invariant', '-n', 'EFIBOOT'], length);
    const image = join(tmp, 'ours.img');
    const source = fatImage(newDir(), { size: c.bytes, fatType: c.fatType, label: 'EFIBOOT', volumeId: 0x1234abcd, mtime: 1426325213 });
    const last = source.allocated().at(-1)!;
    assert.ok(last.offset + last.length <= length);
    await writeSparseFile(source, image);
    assertFsckClean(image);
    const mine = head(image, length);
    const fat32 = theirs[22] === 0 && theirs[23] === 0;
    const codeAt = fat32 ? 90 : 62;
    const masked = (b: Uint8Array) => {
      const copy = Uint8Array.from(b);
      for (const sector of fat32 ? [0, 6] : [0]) {
        copy.fill(0, sector * 512 + 3, sector * 512 + 11);
        copy.fill(0, sector * 512 + codeAt, sector * 512 + 510);
      }
      return copy;
    };
    const a = masked(mine);
    const b = masked(theirs);
    assert.equal(a.length, b.length);
    const at = a.findIndex((x, i) => x !== b[i]);
    assert.equal(at, -1, `${JSON.stringify(c)}: first difference at byte ${at}`);
  }
});
