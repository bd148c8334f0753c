import { crc32cUpdate } from '../primitives/crc32c.ts';
import { nameHash } from './dir-hash.ts';
import { BLOCK, FileType } from './format.ts';

export interface DirEntry {
  name: Uint8Array;
  ino: number;
  type: number;
}

/** The 12-byte fake entry at the end of each leaf block that holds its checksum. */
const TAIL = 12;
const LEAF_SPACE = BLOCK - TAIL;
/** dx_root: ".", ".." then dx_root_info; entries from 0x20. dx_node: an empty entry, entries from 0x8. */
const ROOT_ENTRIES = 0x20;
const NODE_ENTRIES = 0x8;
/** One entry slot of each index block holds the dx_tail checksum. */
const ROOT_LIMIT = (BLOCK - ROOT_ENTRIES) / 8 - 1;
const NODE_LIMIT = (BLOCK - NODE_ENTRIES) / 8 - 1;

const recLen = (nameLength: number): number => (8 + nameLength + 3) & ~3;

/** Entries split into blocks of at most LEAF_SPACE bytes, in order. */
function packLeaves(entries: readonly DirEntry[], firstUsed = 0): DirEntry[][] {
  const leaves: DirEntry[][] = [[]];
  let used = firstUsed;
  for (const e of entries) {
    const n = recLen(e.name.length);
    if (used + n > LEAF_SPACE) {
      leaves.push([]);
      used = 0;
    }
    leaves[leaves.length - 1]!.push(e);
    used += n;
  }
  return leaves;
}

function writeEntry(view: DataView, bytes: Uint8Array, at: number, e: DirEntry, rec: number): void {
  view.setUint32(at, e.ino, true);
  view.setUint16(at + 4, rec, true);
  bytes[at + 6] = e.name.length;
  bytes[at + 7] = e.type;
  bytes.set(e.name, at + 8);
}

function leafBlock(entries: readonly DirEntry[], seed: number): Uint8Array {
  const bytes = new Uint8Array(BLOCK);
  const view = new DataView(bytes.buffer);
  let at = 0;
  entries.forEach((e, i) => {
    const rec = i === entries.length - 1 ? LEAF_SPACE - at : recLen(e.name.length);
    writeEntry(view, bytes, at, e, rec);
    at += rec;
  });
  // An empty leaf is one unused entry spanning the block.
  if (entries.length === 0) view.setUint16(4, LEAF_SPACE, true);
  view.setUint16(LEAF_SPACE + 4, TAIL, true);
  bytes[LEAF_SPACE + 7] = 0xde;
  view.setUint32(LEAF_SPACE + 8, crc32cUpdate(seed, bytes.subarray(0, LEAF_SPACE)), true);
  return bytes;
}

const dot = (ino: number): DirEntry => ({ name: new Uint8Array([0x2e]), ino, type: FileType.dir });
const dotdot = (ino: number): DirEntry => ({ name: new Uint8Array([0x2e, 0x2e]), ino, type: FileType.dir });

interface Hashed {
  entry: DirEntry;
  hash: number;
}

/**
 * A directory's plan: linear when its entries fit one block, else an htree: leaves of entries
 * sorted by hash, no hash split between two leaves unless one hash fills a block.
 */
export interface DirectoryPlan {
  indexed: boolean;
  leaves: Hashed[][];
  /** Index levels below the root: 0 (root points at leaves) or 1. */
  levels: number;
  blocks: number;
}

export function planDirectory(entries: readonly DirEntry[], seedWords: number[], extraBlocks = 0): DirectoryPlan {
  const linear = packLeaves([dot(0), dotdot(0), ...entries]);
  if (linear.length === 1) return { indexed: false, leaves: [], levels: 0, blocks: 1 + extraBlocks };
  const hashed = entries.map((entry) => ({ entry, hash: nameHash(entry.name, seedWords) }));
  hashed.sort((a, b) => a.hash - b.hash || compareBytes(a.entry.name, b.entry.name));
  const leaves = packHashed(hashed);
  const levels = leaves.length <= ROOT_LIMIT ? 0 : 1;
  if (levels === 1 && Math.ceil(leaves.length / NODE_LIMIT) > ROOT_LIMIT) throw new RangeError(`${entries.length} entries are too many for a two-level htree`);
  const nodes = levels === 0 ? 0 : Math.ceil(leaves.length / NODE_LIMIT);
  return { indexed: true, leaves, levels, blocks: 1 + nodes + leaves.length };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function packHashed(hashed: readonly Hashed[]): Hashed[][] {
  const leaves: Hashed[][] = [[]];
  let used = 0;
  for (let i = 0; i < hashed.length; ) {
    // The run of entries sharing this hash stays in one leaf when it can.
    let j = i + 1;
    let size = recLen(hashed[i]!.entry.name.length);
    while (j < hashed.length && hashed[j]!.hash === hashed[i]!.hash) size += recLen(hashed[j++]!.entry.name.length);
    const whole = size <= LEAF_SPACE;
    for (let k = i; k < (whole ? j : i + 1); k++) {
      const n = recLen(hashed[k]!.entry.name.length);
      if (used + (whole && k === i ? size : n) > LEAF_SPACE && leaves[leaves.length - 1]!.length > 0) {
        leaves.push([]);
        used = 0;
      }
      leaves[leaves.length - 1]!.push(hashed[k]!);
      used += n;
    }
    i = whole ? j : i + 1;
  }
  return leaves;
}

/** The hash an index entry gives a leaf: its first hash, odd when the previous leaf ends on the same hash. */
function leafKey(leaves: readonly Hashed[][], i: number): number {
  const first = leaves[i]![0]!.hash;
  const prev = leaves[i - 1];
  return prev !== undefined && prev[prev.length - 1]!.hash === first ? first | 1 : first;
}

function indexBlock(kind: 'root' | 'node', keys: readonly [number, number][], info: { self: number; parent: number; levels: number }, seed: number): Uint8Array {
  const bytes = new Uint8Array(BLOCK);
  const view = new DataView(bytes.buffer);
  let entriesAt: number;
  let limit: number;
  if (kind === 'root') {
    writeEntry(view, bytes, 0, dot(info.self), 12);
    writeEntry(view, bytes, 12, dotdot(info.parent), BLOCK - 12);
    bytes[0x18 + 4] = 1; // hash_version: half MD4
    bytes[0x18 + 5] = 8; // info_length
    bytes[0x18 + 6] = info.levels;
    entriesAt = ROOT_ENTRIES;
    limit = ROOT_LIMIT;
  } else {
    view.setUint16(4, BLOCK, true);
    entriesAt = NODE_ENTRIES;
    limit = NODE_LIMIT;
  }
  view.setUint16(entriesAt, limit, true);
  view.setUint16(entriesAt + 2, keys.length, true);
  keys.forEach(([hash, block], i) => {
    if (i > 0) view.setUint32(entriesAt + i * 8, hash, true);
    view.setUint32(entriesAt + i * 8 + 4, block, true);
  });
  // The checksum covers the used entries and the tail's reserved word, not the free slots.
  const tail = entriesAt + limit * 8;
  let c = crc32cUpdate(seed, bytes.subarray(0, entriesAt + keys.length * 8));
  c = crc32cUpdate(c, bytes.subarray(tail, tail + 4));
  c = crc32cUpdate(c, new Uint8Array(4));
  view.setUint32(tail + 4, c, true);
  return bytes;
}

/** The blocks of a directory in logical order; `seed` is its inode's checksum seed. */
export function directoryBlocks(plan: DirectoryPlan, entries: readonly DirEntry[], self: number, parent: number, seed: number): Uint8Array[] {
  if (!plan.indexed) {
    const blocks = packLeaves([dot(self), dotdot(parent), ...entries]).map((leaf) => leafBlock(leaf, seed));
    while (blocks.length < plan.blocks) blocks.push(leafBlock([], seed));
    return blocks;
  }
  const { leaves, levels } = plan;
  const nodeCount = plan.blocks - 1 - leaves.length;
  const firstLeaf = 1 + nodeCount;
  const leafKeys: [number, number][] = leaves.map((_, i) => [leafKey(leaves, i), firstLeaf + i]);
  const out: Uint8Array[] = [];
  if (levels === 0) out.push(indexBlock('root', leafKeys, { self, parent, levels }, seed));
  else {
    const nodeKeys: [number, number][] = [];
    const nodes: Uint8Array[] = [];
    for (let n = 0; n < nodeCount; n++) {
      const part = leafKeys.slice(n * NODE_LIMIT, (n + 1) * NODE_LIMIT);
      nodeKeys.push([part[0]![0], 1 + n]);
      nodes.push(indexBlock('node', part, { self, parent, levels }, seed));
    }
    out.push(indexBlock('root', nodeKeys, { self, parent, levels }, seed), ...nodes);
  }
  for (const leaf of leaves) out.push(leafBlock(leaf.map((h) => h.entry), seed));
  return out;
}
