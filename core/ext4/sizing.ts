// How big the file system is: a given size checked, or the least that holds the tree (mke2fs's
// inode ratios and journal sizes for each size tried).
import type { ImageDir } from '../image/tree.ts';
import { Ext4Error } from './ext4-error.ts';
import { BLOCK } from './format.ts';
import { geometry, type Geometry } from './geometry.ts';
import { defaultJournalBlocks } from './journal.ts';
import { layOut, type DirShapes, type Layout } from './layout.ts';
import type { Ext4Options } from './options.ts';

export const MIN_BLOCKS = 2048;
const MIB_BLOCKS = (1 << 20) / BLOCK;

/** A size that holds the tree: its geometry, journal and layout. */
export interface Plan {
  geo: Geometry;
  journalBlocks: number;
  layout: Layout;
}

/** mke2fs's inode ratio for the size type it picks: "small" under 512 MiB, "default", "big" from 4 TiB, "huge" from 16 TiB. */
function defaultInodeRatio(bytes: number): number {
  if (bytes < 512 * 2 ** 20) return 4096;
  if (bytes < 4 * 2 ** 40) return 16384;
  return bytes < 16 * 2 ** 40 ? 32768 : 65536;
}

function inodeCount(blocks: number, needed: number, opts: Ext4Options, auto: boolean): number {
  if (opts.inodes !== undefined) return opts.inodes;
  const byRatio = Math.floor((blocks * BLOCK) / (opts.inodeRatio ?? defaultInodeRatio(blocks * BLOCK)));
  return auto ? Math.max(byRatio, needed) : byRatio;
}

/** What a layout needs besides the tree and the size. */
export interface Inputs {
  root: ImageDir;
  opts: Ext4Options;
  seedWords: number[];
  shapes: DirShapes;
  needed: number;
}

/** Why a size does not do, and (when the blocks ran out) how far the contents reached. */
interface Misfit {
  problem: string;
  reached?: number;
}

/**
 * Lays the tree out on `blocks` blocks leaving `room` of them free; when auto-sized, with
 * `spareInodes` beyond what the tree needs.
 */
export function tryPlan(inp: Inputs, blocks: number, room: number, spareInodes: number | undefined): Plan | Misfit {
  const inodesFor = (b: number) => inodeCount(b, inp.needed + (spareInodes ?? 0), inp.opts, spareInodes !== undefined);
  const geo = geometry(blocks, inodesFor);
  if (typeof geo === 'string') return { problem: geo };
  if (inodesFor(geo.blocks) < inp.needed) return { problem: `the tree needs ${inp.needed} inodes, the file system has ${inodesFor(geo.blocks)}` };
  const journalBlocks = defaultJournalBlocks(geo.blocks);
  const layout = layOut(inp.root, geo, journalBlocks, inp.seedWords, inp.shapes);
  if (layout.end + room > geo.blocks) return { problem: `the contents need ${layout.end + room - geo.blocks} more blocks`, reached: layout.end + room };
  return { geo, journalBlocks, layout };
}

export const isPlan = (p: Plan | Misfit): p is Plan => 'layout' in p;

/** The smallest plan, in whole MiB, that holds the tree with `headroom` bytes (and their share of inodes) free. */
export function smallestPlan(inp: Inputs, headroom: number): Plan {
  const room = Math.ceil(headroom / BLOCK);
  const spareInodes = Math.ceil(headroom / (inp.opts.inodeRatio ?? 16384));
  let blocks = MIN_BLOCKS;
  for (let attempt = 0; attempt < 64; attempt++) {
    const plan = tryPlan(inp, Math.ceil(blocks / MIB_BLOCKS) * MIB_BLOCKS, room, spareInodes);
    if (isPlan(plan)) return plan;
    // Grow to where the contents reached (the metadata of that size may push them further: then
    // again), approaching the least size from below; by a group when inodes were the problem.
    blocks = plan.reached === undefined ? blocks + 32768 : Math.max(blocks + MIB_BLOCKS, plan.reached);
  }
  throw new Ext4Error('no file system size was found for the tree');
}
