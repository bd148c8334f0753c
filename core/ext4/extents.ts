import { BLOCK, EXTENT_MAGIC, MAX_EXTENT_BLOCKS } from './format.ts';

/** `length` blocks of a file from logical block `logical`, stored at `physical`. */
export interface Extent {
  logical: number;
  physical: number;
  length: number;
}

/** A contiguous run of blocks on disk. */
export interface Run {
  start: number;
  length: number;
}

const HEADER = 12;
const ENTRY = 12;
const IN_INODE = 4;
const PER_BLOCK = (BLOCK - HEADER - 4) / ENTRY;

/** Maps logical block runs onto physical runs of the same total, splitting at run ends and at the extent length limit. */
export function mapExtents(logical: readonly Run[], physical: readonly Run[]): Extent[] {
  const out: Extent[] = [];
  let p = 0;
  let pUsed = 0;
  for (const l of logical) {
    for (let done = 0; done < l.length; ) {
      const run = physical[p]!;
      const n = Math.min(l.length - done, run.length - pUsed, MAX_EXTENT_BLOCKS);
      const last = out[out.length - 1];
      const logicalAt = l.start + done;
      const physicalAt = run.start + pUsed;
      if (last && last.logical + last.length === logicalAt && last.physical + last.length === physicalAt && last.length + n <= MAX_EXTENT_BLOCKS) last.length += n;
      else out.push({ logical: logicalAt, physical: physicalAt, length: n });
      done += n;
      pUsed += n;
      if (pUsed === run.length) {
        p++;
        pUsed = 0;
      }
    }
  }
  // Exactly sized: a pushed-to array keeps room for more, and there is one list per file.
  return out.slice();
}

/** Blocks an extent tree over `extents` entries needs outside the inode. */
export function treeBlockCount(extents: number): number {
  let total = 0;
  for (let level = extents; level > IN_INODE; ) {
    level = Math.ceil(level / PER_BLOCK);
    total += level;
  }
  return total;
}

function header(view: DataView, at: number, entries: number, max: number, depth: number): void {
  view.setUint16(at, EXTENT_MAGIC, true);
  view.setUint16(at + 2, entries, true);
  view.setUint16(at + 4, max, true);
  view.setUint16(at + 6, depth, true);
  view.setUint32(at + 8, 0, true);
}

function leafEntry(view: DataView, at: number, e: Extent): void {
  view.setUint32(at, e.logical, true);
  view.setUint16(at + 4, e.length, true);
  view.setUint16(at + 6, Math.floor(e.physical / 2 ** 32), true);
  view.setUint32(at + 8, e.physical >>> 0, true);
}

function indexEntry(view: DataView, at: number, logical: number, block: number): void {
  view.setUint32(at, logical, true);
  view.setUint32(at + 4, block >>> 0, true);
  view.setUint16(at + 8, Math.floor(block / 2 ** 32), true);
  view.setUint16(at + 10, 0, true);
}

export interface ExtentTree {
  /** The 60 bytes of i_block. */
  root: Uint8Array;
  /** Tree blocks in the order of `blocks` given (checksum tail left zero, for the caller to fill). */
  blocks: Uint8Array[];
}

/** An index entry: the subtree from `logical` on is in block `block`. */
interface Index {
  logical: number;
  block: number;
}

/** Writes `count` entries from `from` of a level (extents at the bottom, index entries above) at `at`. */
function writeEntries(view: DataView, at: number, level: readonly Extent[] | readonly Index[], from: number, count: number, leaves: boolean): void {
  for (let j = 0; j < count; j++) {
    const n = level[from + j]!;
    if (leaves) leafEntry(view, at + j * ENTRY, n as Extent);
    else indexEntry(view, at + j * ENTRY, n.logical, (n as Index).block);
  }
}

/**
 * The extent tree of `extents` with its out-of-inode nodes at `blocks` (treeBlockCount of them):
 * full leaves first, then each index level, the root in the inode.
 */
export function extentTree(extents: readonly Extent[], blocks: readonly number[]): ExtentTree {
  let level: readonly Extent[] | readonly Index[] = extents;
  const out: Uint8Array[] = [];
  let depth = 0;
  let next = 0;
  while (level.length > IN_INODE) {
    const up: Index[] = [];
    for (let i = 0; i < level.length; i += PER_BLOCK) {
      const count = Math.min(PER_BLOCK, level.length - i);
      const bytes = new Uint8Array(BLOCK);
      const view = new DataView(bytes.buffer);
      header(view, 0, count, PER_BLOCK, depth);
      writeEntries(view, HEADER, level, i, count, depth === 0);
      out.push(bytes);
      up.push({ logical: level[i]!.logical, block: blocks[next++]! });
    }
    level = up;
    depth++;
  }
  const root = new Uint8Array(60);
  const view = new DataView(root.buffer);
  header(view, 0, level.length, IN_INODE, depth);
  writeEntries(view, HEADER, level, 0, level.length, depth === 0);
  return { root, blocks: out };
}

/** Offset of the checksum in a tree block: after the largest entry table. */
export const EXTENT_TAIL = HEADER + PER_BLOCK * ENTRY;
