import type { ImageDir } from '../image/tree.ts';
import type { SparseSource } from '../io/sparse.ts';
import { hashSeedWords } from './dir-hash.ts';
import { Ext4Error } from './ext4-error.ts';
import { Ext4Image } from './ext4-image.ts';
import { BLOCK } from './format.ts';
import { inodesNeeded } from './layout.ts';
import { labelBytes, parseUuid, validateOptions, type Ext4Options } from './options.ts';
import { isPlan, MIN_BLOCKS, smallestPlan, tryPlan, type Inputs, type Plan } from './sizing.ts';

export { Ext4Error } from './ext4-error.ts';
export type { SparseData } from './layout.ts';
export type { Ext4Options } from './options.ts';

/**
 * The tree as an ext4 file system (the features of `mke2fs -t ext4`), laid out in full before
 * the first byte: a sparse stream of `size` bytes whose unused blocks are zero runs.
 * Everything that can be refused (too small a size, too long names or targets, bad options)
 * is refused here, before any output.
 */
export function ext4Image(root: ImageDir, opts: Ext4Options): SparseSource {
  const uuid = parseUuid(opts.uuid, 'uuid');
  const hashSeed = parseUuid(opts.hashSeed, 'hashSeed');
  const label = labelBytes(opts.label ?? '');
  validateOptions(opts, inodesNeeded(root));
  const seedWords = hashSeedWords(hashSeed);
  const inp: Inputs = { root, opts, seedWords, shapes: new WeakMap(), needed: inodesNeeded(root) };
  let plan: Plan;
  let size: number;
  if (opts.size === 'auto') {
    plan = smallestPlan(inp, opts.headroom ?? 0);
    size = plan.geo.blocks * BLOCK;
  } else {
    size = opts.size;
    const blocks = Math.floor(size / BLOCK);
    const tried = blocks < MIN_BLOCKS ? { problem: `it is under the ${MIN_BLOCKS * BLOCK}-byte minimum` } : tryPlan(inp, blocks, 0, undefined);
    if (!isPlan(tried)) {
      const least = smallestPlan(inp, 0).geo.blocks * BLOCK;
      throw new Ext4Error(`a ${size}-byte ext4 file system cannot hold this tree (${tried.problem}): at least ${least} bytes are needed`);
    }
    plan = tried;
  }
  return new Ext4Image(plan, size, {
    uuid, hashSeed, seedWords, label, time: opts.time,
    reservedBlocks: Math.floor((plan.geo.blocks * (opts.reservedPercent ?? 5)) / 100),
  });
}
