import { crc32cUpdate } from '../primitives/crc32c.ts';
import {
  BLOCK, BLOCKS_PER_GROUP, Compat, DEFAULT_MOUNT_OPTS, DESC_SIZE, EXTRA_ISIZE, FLAGS_SIGNED_HASH, HASH_HALF_MD4,
  INODE_SIZE, Incompat, Ino, LOG_GROUPS_PER_FLEX, RoCompat, SUPER_MAGIC,
} from './format.ts';
import type { Geometry } from './geometry.ts';

export interface SuperFields {
  geo: Geometry;
  freeBlocks: number;
  freeInodes: number;
  reservedBlocks: number;
  uuid: Uint8Array;
  hashSeed: Uint8Array;
  label: Uint8Array;
  time: number;
  /** The journal inode's i_block, i_size_high and i_size, backed up in the superblock. */
  journalBackup: Uint8Array;
  /** Blocks that are not for data (fixed metadata and the journal), for statfs. */
  overhead: number;
}

export const SUPER_SIZE = 1024;

const hi = (v: number): number => Math.floor(v / 2 ** 32);

/** The superblock as copy `group` holds it (only s_block_group_nr and the checksum differ). */
export function superblock(s: SuperFields, group: number): Uint8Array {
  const b = new Uint8Array(SUPER_SIZE);
  const v = new DataView(b.buffer);
  const { geo } = s;
  const u32 = (o: number, x: number) => v.setUint32(o, x >>> 0, true);
  const u16 = (o: number, x: number) => v.setUint16(o, x, true);
  u32(0x00, geo.groups * geo.inodesPerGroup);
  u32(0x04, geo.blocks);
  u32(0x08, s.reservedBlocks);
  u32(0x0c, s.freeBlocks);
  u32(0x10, s.freeInodes);
  u32(0x14, 0); // first data block: 0 with 4 KiB blocks
  u32(0x18, Math.log2(BLOCK) - 10);
  u32(0x1c, Math.log2(BLOCK) - 10);
  u32(0x20, BLOCKS_PER_GROUP);
  u32(0x24, BLOCKS_PER_GROUP);
  u32(0x28, geo.inodesPerGroup);
  u32(0x30, s.time);
  u16(0x36, 0xffff); // no mount-count checks (enable_periodic_fsck = 0)
  u16(0x38, SUPER_MAGIC);
  u16(0x3a, 1); // cleanly unmounted
  u16(0x3c, 1); // on errors: continue
  u32(0x40, s.time);
  u32(0x4c, 1); // dynamic revision
  u32(0x54, Ino.firstFree);
  u16(0x58, INODE_SIZE);
  u16(0x5a, group);
  u32(0x5c, Compat.hasJournal | Compat.extAttr | Compat.dirIndex);
  u32(0x60, Incompat.filetype | Incompat.extents | Incompat.bit64 | Incompat.flexBg);
  u32(0x64, RoCompat.sparseSuper | RoCompat.largeFile | RoCompat.hugeFile | RoCompat.dirNlink | RoCompat.extraIsize | RoCompat.metadataCsum);
  b.set(s.uuid, 0x68);
  b.set(s.label, 0x78);
  u32(0xe0, Ino.journal);
  b.set(s.hashSeed, 0xec);
  b[0xfc] = HASH_HALF_MD4;
  b[0xfd] = 1; // s_jnl_blocks holds a copy of the journal inode's block map
  u16(0xfe, DESC_SIZE);
  u32(0x100, DEFAULT_MOUNT_OPTS);
  u32(0x108, s.time);
  b.set(s.journalBackup, 0x10c);
  u32(0x150, hi(geo.blocks));
  u32(0x154, hi(s.reservedBlocks));
  u32(0x158, hi(s.freeBlocks));
  u16(0x15c, EXTRA_ISIZE);
  u16(0x15e, EXTRA_ISIZE);
  u32(0x160, FLAGS_SIGNED_HASH);
  b[0x174] = LOG_GROUPS_PER_FLEX;
  b[0x175] = 1; // checksum type: crc32c
  u32(0x248, s.overhead);
  // The high bytes of the write, mkfs and check times (s_wtime_hi, s_mkfs_time_hi, s_lastcheck_hi).
  for (const o of [0x274, 0x276, 0x277]) b[o] = hi(s.time);
  u32(0x3fc, crc32cUpdate(0xffffffff, b.subarray(0, 0x3fc)));
  return b;
}

export interface GroupFields {
  blockBitmap: number;
  inodeBitmap: number;
  inodeTable: number;
  freeBlocks: number;
  freeInodes: number;
  usedDirs: number;
  flags: number;
  unusedInodes: number;
  blockBitmapCsum: number;
  inodeBitmapCsum: number;
}

const le32 = (x: number): Uint8Array => new Uint8Array(new Uint32Array([x]).buffer);

/** Writes group `group`'s 64-byte descriptor at `at` of `out`, checksummed with the fs seed. */
export function writeGroupDescriptor(out: Uint8Array, at: number, group: number, g: GroupFields, fsSeed: number): void {
  const d = out.subarray(at, at + DESC_SIZE);
  const v = new DataView(d.buffer, d.byteOffset, DESC_SIZE);
  const split32 = (lo: number, hiAt: number, x: number) => {
    v.setUint32(lo, x >>> 0, true);
    v.setUint32(hiAt, hi(x), true);
  };
  const split16 = (lo: number, hiAt: number, x: number) => {
    v.setUint16(lo, x & 0xffff, true);
    v.setUint16(hiAt, x >>> 16, true);
  };
  split32(0x00, 0x20, g.blockBitmap);
  split32(0x04, 0x24, g.inodeBitmap);
  split32(0x08, 0x28, g.inodeTable);
  split16(0x0c, 0x2c, g.freeBlocks);
  split16(0x0e, 0x2e, g.freeInodes);
  split16(0x10, 0x30, g.usedDirs);
  v.setUint16(0x12, g.flags, true);
  split16(0x18, 0x38, g.blockBitmapCsum);
  split16(0x1a, 0x3a, g.inodeBitmapCsum);
  split16(0x1c, 0x32, g.unusedInodes);
  const c = crc32cUpdate(crc32cUpdate(fsSeed, le32(group)), d);
  v.setUint16(0x1e, c & 0xffff, true);
}
