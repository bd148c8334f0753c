import {
  BLOCK, BLOCKS_PER_GROUP, DESC_SIZE, GROUPS_PER_FLEX, INODE_SIZE, INODES_PER_BLOCK, MAX_INODES_PER_GROUP,
} from './format.ts';

/** Where the fixed metadata of a file system of a given size goes (mke2fs's flex_bg layout). */
export interface Geometry {
  blocks: number;
  groups: number;
  inodesPerGroup: number;
  /** Blocks of one group's inode table. */
  inodeTableBlocks: number;
  /** Blocks of the group descriptor table (one copy). */
  gdtBlocks: number;
}

/** Groups holding a superblock copy under sparse_super: 0, 1 and the powers of 3, 5 and 7. */
export function hasSuperCopy(group: number): boolean {
  if (group <= 1) return true;
  for (const base of [3, 5, 7]) {
    let p = base;
    while (p < group) p *= base;
    if (p === group) return true;
  }
  return false;
}

export const groupStart = (group: number): number => group * BLOCKS_PER_GROUP;

export function groupBlocks(geo: Geometry, group: number): number {
  return Math.min(BLOCKS_PER_GROUP, geo.blocks - groupStart(group));
}

/** The superblock copy and descriptor table at the start of `group`, if it has them. */
export const superCopyBlocks = (geo: Geometry, group: number): number => (hasSuperCopy(group) ? 1 + geo.gdtBlocks : 0);

/**
 * Each flex group's first group holds, after any superblock copy, the block bitmaps, then the
 * inode bitmaps, then the inode tables of all its groups.
 */
export interface FlexMetadata {
  first: number;
  count: number;
  blockBitmaps: number;
  inodeBitmaps: number;
  inodeTables: number;
  end: number;
}

export function flexMetadata(geo: Geometry, flex: number): FlexMetadata {
  const first = flex * GROUPS_PER_FLEX;
  const count = Math.min(GROUPS_PER_FLEX, geo.groups - first);
  const blockBitmaps = groupStart(first) + superCopyBlocks(geo, first);
  const inodeBitmaps = blockBitmaps + count;
  const inodeTables = inodeBitmaps + count;
  return { first, count, blockBitmaps, inodeBitmaps, inodeTables, end: inodeTables + count * geo.inodeTableBlocks };
}

export const flexCount = (geo: Geometry): number => Math.ceil(geo.groups / GROUPS_PER_FLEX);

/** Bitmap and inode-table blocks of `group` as its descriptor records them. */
export function groupTables(geo: Geometry, group: number): { blockBitmap: number; inodeBitmap: number; inodeTable: number } {
  const m = flexMetadata(geo, Math.floor(group / GROUPS_PER_FLEX));
  const i = group - m.first;
  return { blockBitmap: m.blockBitmaps + i, inodeBitmap: m.inodeBitmaps + i, inodeTable: m.inodeTables + i * geo.inodeTableBlocks };
}

/**
 * The geometry for `blocks` blocks and at least `inodesFor(blocks)` inodes, or why there is none: inodes
 * per group are rounded up to whole inode-table blocks, and a last group too small for its own
 * metadata is dropped as mke2fs drops it.
 */
export function geometry(blocks: number, inodesFor: (blocks: number) => number): Geometry | string {
  for (;;) {
    const inodes = inodesFor(blocks);
    const groups = Math.ceil(blocks / BLOCKS_PER_GROUP);
    const perGroup = Math.ceil(Math.ceil(inodes / groups) / INODES_PER_BLOCK) * INODES_PER_BLOCK;
    if (perGroup > MAX_INODES_PER_GROUP) return `${inodes} inodes need more than ${groups} block groups`;
    const geo: Geometry = {
      blocks, groups, inodesPerGroup: perGroup,
      inodeTableBlocks: (perGroup * INODE_SIZE) / BLOCK,
      gdtBlocks: Math.ceil((groups * DESC_SIZE) / BLOCK),
    };
    const problem = metadataMisfit(geo);
    if (problem === undefined) return geo;
    if (groups === 1 || problem !== groups - 1) return `the block groups are too small for ${inodes} inodes`;
    blocks = groupStart(groups - 1);
  }
}

/** The first group whose own metadata (superblock copy, flex tables) does not fit in it, leaving room for data. */
function metadataMisfit(geo: Geometry): number | undefined {
  for (let flex = 0; flex < flexCount(geo); flex++) {
    const m = flexMetadata(geo, flex);
    if (m.end > groupStart(m.first) + groupBlocks(geo, m.first) - 1) return m.first;
  }
  const last = geo.groups - 1;
  if (superCopyBlocks(geo, last) >= groupBlocks(geo, last)) return last;
  return undefined;
}

/** Fixed metadata ranges [start, end) in block order: superblock copies and flex tables. */
export function metadataRanges(geo: Geometry): [number, number][] {
  const ranges: [number, number][] = [];
  for (let g = 0; g < geo.groups; g++) {
    const start = groupStart(g);
    let end = start + superCopyBlocks(geo, g);
    if (g % GROUPS_PER_FLEX === 0) end = flexMetadata(geo, g / GROUPS_PER_FLEX).end;
    if (end > start) ranges.push([start, end]);
  }
  return ranges;
}
