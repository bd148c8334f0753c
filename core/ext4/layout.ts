import { sortedEntries, type ImageDir, type ImageNode } from '../image/tree.ts';
import { binaryToBytes, binaryToText, type BinaryString } from '../io/binary-string.ts';
import type { DataSource } from '../io/data-source.ts';
import type { ByteRange, SparseSource } from '../io/sparse.ts';
import { BlockAllocator } from './allocator.ts';
import { planDirectory, type DirEntry } from './directory.ts';
import { Ext4Error } from './ext4-error.ts';
import { mapExtents, treeBlockCount, type Extent, type Run } from './extents.ts';
import { BLOCK, FAST_SYMLINK_MAX, FileType, Ino, MAX_NAME, MAX_SYMLINK } from './format.ts';
import { metadataRanges, type Geometry } from './geometry.ts';

/** File data that knows its holes: a SparseSource beside the plain stream. */
export type SparseData = DataSource & SparseSource;

export const isSparseData = (d: DataSource): d is SparseData => 'allocated' in d && 'chunks' in d;

/** One inode with blocks placed: directories, files, slow symlinks, the journal. */
export interface Placed {
  ino: number;
  name: BinaryString;
  parent: Placed | undefined;
  /** undefined: lost+found or the journal. */
  node: ImageNode | undefined;
  kind: 'dir' | 'file' | 'symlink' | 'journal';
  extents: Extent[];
  /** Extent tree blocks outside the inode (after the data). */
  tree: number[];
  /** Directories: children in entry order. */
  children: Placed[];
  /** Directories: whether they are an htree. */
  indexed: boolean;
}

/** How many blocks a directory takes and whether it is indexed: what layout needs of its plan, kept across attempts. */
export type DirShapes = WeakMap<ImageDir, { indexed: boolean; blocks: number }>;

const NONE: never[] = [];

export interface Layout {
  /** Indexed by inode number; holes for unused reserved inodes. */
  byIno: (Placed | undefined)[];
  /** In block order. */
  placed: Placed[];
  /** The first block past the last allocated one (may pass the end: then the contents do not fit). */
  end: number;
  lastIno: number;
}

export const LOST_FOUND_BLOCKS = 4;
const LOST_FOUND: BinaryString = 'lost+found';

/** Every path in the tree (for messages only). */
export function pathOf(p: Placed): string {
  const parts: string[] = [];
  for (let at: Placed | undefined = p; at && at.ino !== Ino.root; at = at.parent) parts.unshift(binaryToText(at.name));
  return `/${parts.join('/')}`;
}

/** Inodes the tree needs: the reserved ones, lost+found and one per node. */
export function inodesNeeded(root: ImageDir): number {
  let n = 0;
  const count = (dir: ImageDir) => {
    for (const node of dir.entries.values()) {
      n++;
      if (node.kind === 'dir') count(node);
    }
  };
  count(root);
  return Ino.lostFound + n;
}

/** Logical block runs holding data: all of the file, or the blocks its allocated ranges touch. */
export function dataRuns(data: DataSource): Run[] {
  const blocks = Math.ceil(data.size / BLOCK);
  if (!isSparseData(data)) return blocks === 0 ? [] : [{ start: 0, length: blocks }];
  const runs: Run[] = [];
  for (const r of data.allocated() as readonly ByteRange[]) {
    const start = Math.floor(r.offset / BLOCK);
    const end = Math.min(blocks, Math.ceil((r.offset + r.length) / BLOCK));
    if (end <= start) continue;
    const last = runs[runs.length - 1];
    if (last && last.start + last.length >= start) last.length = Math.max(last.length, end - last.start);
    else runs.push({ start, length: end - start });
  }
  return runs;
}

export const dirEntryOf = (p: Placed): DirEntry => ({
  name: binaryToBytes(p.name),
  ino: p.ino,
  type: p.kind === 'dir' ? FileType.dir : p.kind === 'symlink' ? FileType.symlink : FileType.file,
});

function checkNode(p: Placed, node: ImageNode): void {
  if (p.name.length > MAX_NAME) throw new Ext4Error(`${pathOf(p)}: name of ${p.name.length} bytes is longer than ext4's ${MAX_NAME}`);
  if (node.kind === 'symlink' && (node.target.length === 0 || node.target.length > MAX_SYMLINK)) {
    throw new Ext4Error(`${pathOf(p)}: symlink target of ${node.target.length} bytes (ext4 takes 1 to ${MAX_SYMLINK})`);
  }
  if (node.kind === 'file' && Math.ceil(node.data.size / BLOCK) > 2 ** 32) throw new Ext4Error(`${pathOf(p)}: ${node.data.size} bytes is more than an ext4 file holds`);
}

/**
 * Places everything in block order: the journal, the root directory, lost+found, then the tree
 * depth first with each directory's entries in byte order (each directory's blocks before its
 * children, each file's data before its extent tree blocks).
 */
export function layOut(root: ImageDir, geo: Geometry, journalBlocks: number, seedWords: number[], shapes: DirShapes): Layout {
  const alloc = new BlockAllocator(metadataRanges(geo));
  const byIno: (Placed | undefined)[] = [];
  const placed: Placed[] = [];
  const add = (p: Placed) => {
    byIno[p.ino] = p;
    placed.push(p);
    return p;
  };
  const make = (ino: number, name: BinaryString, parent: Placed | undefined, node: ImageNode | undefined, kind: Placed['kind']): Placed =>
    ({ ino, name, parent, node, kind, extents: NONE, tree: NONE, children: NONE, indexed: false });
  const placeBlocks = (p: Placed, logical: Run[], total: number) => {
    p.extents = mapExtents(logical, alloc.take(total));
    const tree = treeBlockCount(p.extents.length);
    if (tree > 0) p.tree = alloc.takeBlocks(tree);
  };
  const placeDir = (p: Placed, children: Placed[]) => {
    p.children = children;
    const dir = p.node as ImageDir | undefined;
    let shape = dir && shapes.get(dir);
    if (shape === undefined) {
      const plan = planDirectory(children.map(dirEntryOf), seedWords, dir ? 0 : LOST_FOUND_BLOCKS - 1);
      shape = { indexed: plan.indexed, blocks: plan.blocks };
      if (dir) shapes.set(dir, shape);
    }
    p.indexed = shape.indexed;
    placeBlocks(p, [{ start: 0, length: shape.blocks }], shape.blocks);
  };

  if (journalBlocks > 0) placeBlocks(add(make(Ino.journal, '', undefined, undefined, 'journal')), [{ start: 0, length: journalBlocks }], journalBlocks);
  const rootPlaced = add(make(Ino.root, '', undefined, root, 'dir'));
  if (root.entries.has(LOST_FOUND)) throw new Ext4Error(`/${LOST_FOUND}: the tree has its own, but ext4's lost+found is made by the writer`);
  const lostFound = make(Ino.lostFound, LOST_FOUND, rootPlaced, undefined, 'dir');
  let nextIno = Ino.lostFound + 1;

  const childrenOf = (dir: ImageDir, parent: Placed): Placed[] =>
    sortedEntries(dir).map(([name, node]) => {
      const p = make(nextIno++, name, parent, node, node.kind);
      checkNode(p, node);
      return p;
    });
  const visit = (p: Placed) => {
    const node = p.node!;
    if (node.kind === 'dir') {
      placeDir(p, childrenOf(node, p));
      for (const c of p.children) visit(add(c));
    } else if (node.kind === 'file') {
      const runs = dataRuns(node.data);
      placeBlocks(p, runs, runs.reduce((n, r) => n + r.length, 0));
    } else if (node.target.length > FAST_SYMLINK_MAX) {
      placeBlocks(p, [{ start: 0, length: 1 }], 1);
    }
  };

  placeDir(rootPlaced, [lostFound, ...childrenOf(root, rootPlaced)]);
  placeDir(add(lostFound), []);
  for (const c of rootPlaced.children.slice(1)) visit(add(c));
  return { byIno, placed, end: alloc.next, lastIno: nextIno - 1 };
}
