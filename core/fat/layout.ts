// The tree planned as directories of named entries (independent of the volume's geometry), then
// placed on a geometry: every directory and file one contiguous run of clusters, in pre-order
// (a directory, then its entries in byte order of their names, a subdirectory's own entries
// before its next sibling), so the data streams in cluster order and the FAT is runs of
// "next cluster" ending in end-of-chain marks.
import { sortedEntries, type ImageDir, type ImageFile } from '../image/tree.ts';
import { binaryToBytes, binaryToText, type BinaryString } from '../io/binary-string.ts';
import { FatError } from './fat-error.ts';
import { ROOT_CLUSTER } from './boot-sector.ts';
import { clusterBytes, type Geometry } from './geometry.ts';
import { directoryNames, longNameOf, type DirName } from './short-names.ts';
import { entriesFor } from './dir-entry.ts';

/** A FAT directory holds at most 65536 entries (2 MiB); drivers index them with 16 bits. */
const MAX_DIR_ENTRIES = 65536;
const MAX_FILE = 0xffffffff;

export interface FilePlan {
  kind: 'file';
  path: BinaryString;
  file: ImageFile;
  firstCluster: number;
  clusters: number;
}

export interface DirPlan {
  kind: 'dir';
  path: BinaryString;
  children: ChildPlan[];
  /** Entries in use: ".", ".." (not in the root), the label (only in the root), and each child's long and short entries. */
  entryCount: number;
  firstCluster: number;
  clusters: number;
}

export interface ChildPlan {
  name: DirName;
  target: FilePlan | DirPlan;
}

export type Extent = FilePlan | DirPlan;

const shownPath = (path: BinaryString) => JSON.stringify(`/${binaryToText(path)}`);

/** The tree as directories of VFAT names; refuses what FAT cannot hold (symlinks, names, sizes), naming the path. */
export function planTree(root: ImageDir, hasLabel: boolean): DirPlan {
  return planDir(root, '', true, hasLabel);
}

function planDir(dir: ImageDir, path: BinaryString, isRoot: boolean, hasLabel: boolean): DirPlan {
  const entries = sortedEntries(dir);
  const childPath = (name: BinaryString) => (path === '' ? name : `${path}/${name}`);
  const longNames = entries.map(([name]) => longNameOf(binaryToBytes(name), () => shownPath(childPath(name))));
  const names = directoryNames(longNames, () => `directory ${shownPath(path)}`);
  const children: ChildPlan[] = entries.map(([name, node], i) => {
    const p = childPath(name);
    switch (node.kind) {
      case 'dir':
        return { name: names[i]!, target: planDir(node, p, false, false) };
      case 'file':
        if (node.data.size > MAX_FILE) throw new FatError(`${shownPath(p)} is ${node.data.size} bytes; FAT holds files below 4 GiB only`);
        return { name: names[i]!, target: { kind: 'file', path: p, file: node, firstCluster: 0, clusters: 0 } };
      case 'symlink':
        throw new FatError(`${shownPath(p)} is a symbolic link (to ${JSON.stringify(binaryToText(node.target))}); FAT has none: put the file itself in the tree`);
    }
  });
  let entryCount = isRoot ? (hasLabel ? 1 : 0) : 2;
  for (const c of children) entryCount += entriesFor(c.name.long);
  if (entryCount > MAX_DIR_ENTRIES) throw new FatError(`directory ${shownPath(path)} needs ${entryCount} entries; a FAT directory holds at most ${MAX_DIR_ENTRIES}`);
  return { kind: 'dir', path, children, entryCount, firstCluster: 0, clusters: 0 };
}

export interface Placement {
  /** Directories and files with data, in cluster order (the FAT12/16 root is not among them). */
  extents: Extent[];
  /** Clusters in use, from cluster 2. */
  usedClusters: number;
}

/** Every directory (the FAT12/16 root aside) and file in cluster order, with the clusters it takes at `bytes` per cluster. */
function* runs(root: DirPlan, bytes: number, rootInClusters: boolean): Generator<[Extent, number]> {
  function* visit(d: DirPlan, inClusters: boolean): Generator<[Extent, number]> {
    if (inClusters) yield [d, Math.max(1, Math.ceil((d.entryCount * 32) / bytes))];
    for (const { target: t } of d.children) {
      if (t.kind === 'dir') yield* visit(t, true);
      else yield [t, Math.ceil(t.file.data.size / bytes)];
    }
  }
  yield* visit(root, rootInClusters);
}

/** Clusters the plan needs on a volume with clusters of `bytes` bytes (the FAT12/16 root lives outside them). */
export function clustersNeeded(root: DirPlan, bytes: number, rootInClusters: boolean): number {
  let n = 0;
  for (const [, clusters] of runs(root, bytes, rootInClusters)) n += clusters;
  return n;
}

/** Gives every directory and non-empty file its run of clusters on `g`; the plan's cluster fields are set in place. */
export function place(root: DirPlan, g: Geometry): Placement {
  const extents: Extent[] = [];
  let next = ROOT_CLUSTER;
  for (const [e, clusters] of runs(root, clusterBytes(g), g.fatType === 32)) {
    e.clusters = clusters;
    e.firstCluster = clusters === 0 ? 0 : next;
    next += clusters;
    if (clusters > 0) extents.push(e);
  }
  return { extents, usedClusters: next - ROOT_CLUSTER };
}
