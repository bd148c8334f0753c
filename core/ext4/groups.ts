import { crc32cUpdate } from '../primitives/crc32c.ts';
import { BgFlags, BLOCK, BLOCKS_PER_GROUP, DESC_SIZE } from './format.ts';
import { groupBlocks, groupStart, groupTables, metadataRanges, type Geometry } from './geometry.ts';
import type { Layout } from './layout.ts';
import { writeGroupDescriptor } from './superblock.ts';

/** What is in use: every block below the allocation end, fixed metadata past it, inodes up to the last one. */
export interface Usage {
  geo: Geometry;
  /** Sorted, disjoint used block ranges [start, end). */
  used: [number, number][];
  lastIno: number;
  dirsByGroup: Map<number, number>;
}

export function usage(geo: Geometry, layout: Layout): Usage {
  const used: [number, number][] = [[0, layout.end]];
  for (const [s, e] of metadataRanges(geo)) if (e > layout.end) used.push([Math.max(s, layout.end), e]);
  const dirsByGroup = new Map<number, number>();
  for (const p of layout.placed) {
    if (p.kind !== 'dir') continue;
    const g = Math.floor((p.ino - 1) / geo.inodesPerGroup);
    dirsByGroup.set(g, (dirsByGroup.get(g) ?? 0) + 1);
  }
  return { geo, used, lastIno: layout.lastIno, dirsByGroup };
}

function setBits(bitmap: Uint8Array, from: number, to: number): void {
  for (let i = from; i < to; i++) bitmap[i >> 3]! |= 1 << (i & 7);
}

/** Group `g`'s block bitmap; bits past the end of the file system are set, as e2fsck expects. */
export function blockBitmap(u: Usage, g: number): Uint8Array {
  const bitmap = new Uint8Array(BLOCK);
  const start = groupStart(g);
  const end = start + groupBlocks(u.geo, g);
  for (const [s, e] of u.used) {
    if (e <= start || s >= end) continue;
    setBits(bitmap, Math.max(s, start) - start, Math.min(e, end) - start);
  }
  setBits(bitmap, end - start, BLOCKS_PER_GROUP);
  return bitmap;
}

/** Inodes in use in group `g` (numbering is dense from 1). */
export function usedInodes(u: Usage, g: number): number {
  const first = g * u.geo.inodesPerGroup;
  return Math.max(0, Math.min(u.geo.inodesPerGroup, u.lastIno - first));
}

/** Group `g`'s inode bitmap; bits past the group's inodes are set. */
export function inodeBitmap(u: Usage, g: number): Uint8Array {
  const bitmap = new Uint8Array(BLOCK);
  setBits(bitmap, 0, usedInodes(u, g));
  setBits(bitmap, u.geo.inodesPerGroup, BLOCK * 8);
  return bitmap;
}

export interface GroupTotals {
  /** The descriptor table, as every superblock copy is followed by it. */
  table: Uint8Array;
  freeBlocks: number;
  freeInodes: number;
}

function countBits(bitmap: Uint8Array, bits: number): number {
  let n = 0;
  for (let i = 0; i < bits; i++) n += (bitmap[i >> 3]! >> (i & 7)) & 1;
  return n;
}

export function groupDescriptors(u: Usage, fsSeed: number): GroupTotals {
  const { geo } = u;
  const table = new Uint8Array(geo.gdtBlocks * BLOCK);
  let freeBlocks = 0;
  let freeInodes = 0;
  for (let g = 0; g < geo.groups; g++) {
    const blocks = blockBitmap(u, g);
    const inodes = inodeBitmap(u, g);
    const groupFree = groupBlocks(geo, g) - countBits(blocks, groupBlocks(geo, g));
    const inodesUsed = usedInodes(u, g);
    freeBlocks += groupFree;
    freeInodes += geo.inodesPerGroup - inodesUsed;
    writeGroupDescriptor(table, g * DESC_SIZE, g, {
      ...groupTables(geo, g),
      freeBlocks: groupFree,
      freeInodes: geo.inodesPerGroup - inodesUsed,
      usedDirs: u.dirsByGroup.get(g) ?? 0,
      flags: BgFlags.itableZeroed,
      unusedInodes: geo.inodesPerGroup - inodesUsed,
      blockBitmapCsum: crc32cUpdate(fsSeed, blocks),
      inodeBitmapCsum: crc32cUpdate(fsSeed, inodes.subarray(0, geo.inodesPerGroup / 8)),
    }, fsSeed);
  }
  return { table, freeBlocks, freeInodes };
}

