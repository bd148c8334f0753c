// The size of a volume made to fit its contents, as iso-image.nix sizes efi.img: the contents'
// apparent size (du --apparent-size on ext4: file bytes plus 4 KiB per directory) rounded up to
// a MiB, plus 10 %, rounded down to a MiB, plus one MiB; grown a MiB at a time (or by what is
// missing) until the FAT type asked for exists at that size and the tree fits its geometry.
import type { Geometry } from './geometry.ts';
import { clustersNeeded, type DirPlan } from './layout.ts';
import { clusterBytes } from './geometry.ts';

const MiB = 1024 * 1024;
const DIRECTORY_BLOCK = 4096;

function apparentSize(d: DirPlan): number {
  let n = DIRECTORY_BLOCK;
  for (const { target } of d.children) n += target.kind === 'dir' ? apparentSize(target) : target.file.data.size;
  return n;
}

export function autoSize(plan: DirPlan, geometryFor: (size: number) => Geometry): number {
  const usage = Math.ceil(apparentSize(plan) / MiB) * MiB;
  let size = (Math.floor(Math.floor((usage * 110) / 100) / MiB) + 1) * MiB;
  let fitted = false;
  for (;;) {
    let g: Geometry;
    try {
      g = geometryFor(size);
    } catch (e) {
      // Too small for the FAT type asked for (FAT16 needs 4087 clusters): grow. Too large after
      // sizes that had a geometry: that type cannot hold the tree.
      if (fitted) throw e;
      size += MiB;
      continue;
    }
    fitted = true;
    const missing = clustersNeeded(plan, clusterBytes(g), g.fatType === 32) - g.clusterCount;
    const rootFits = g.fatType === 32 || plan.entryCount <= g.rootEntries;
    if (missing <= 0 && rootFits) return size;
    size += Math.max(MiB, Math.ceil((missing * clusterBytes(g)) / MiB) * MiB);
  }
}
