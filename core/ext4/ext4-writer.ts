import type { ImageDir } from '../image/tree.ts';
import { Batcher } from '../io/batcher.ts';
import { textToBinary, binaryToBytes } from '../io/binary-string.ts';
import type { ByteRange, SparseChunk, SparseSource } from '../io/sparse.ts';
import { crc32cUpdate } from '../primitives/crc32c.ts';
import { ByteCursor } from './byte-cursor.ts';
import { hashSeedWords } from './dir-hash.ts';
import { directoryBlocks, planDirectory } from './directory.ts';
import { Ext4Error } from './ext4-error.ts';
import { EXTENT_TAIL, extentTree } from './extents.ts';
import {
  BLOCK, FAST_SYMLINK_MAX, GROUPS_PER_FLEX, INODE_SIZE, INODES_PER_BLOCK, InodeFlags, Ino, Mode,
} from './format.ts';
import { flexMetadata, geometry, groupStart, hasSuperCopy, metadataRanges, type Geometry } from './geometry.ts';
import { blockBitmap, groupDescriptors, inodeBitmap, usage, usedInodes, type Usage } from './groups.ts';
import { inodeSeed, writeInode, type InodeFields } from './inodes.ts';
import { defaultJournalBlocks, journalSuperblock } from './journal.ts';
import {
  dirEntryOf, inodesNeeded, isSparseData, layOut, LOST_FOUND_BLOCKS, pathOf, type DirShapes, type Layout, type Placed,
} from './layout.ts';
import { SUPER_SIZE, superblock, type SuperFields } from './superblock.ts';

export { Ext4Error } from './ext4-error.ts';
export type { SparseData } from './layout.ts';

export interface Ext4Options {
  /** Volume label, at most 16 bytes of UTF-8 (NixOS finds its root by `nixos`). */
  label?: string;
  /** File system UUID as mke2fs -U takes it (8-4-4-4-12 hex). */
  uuid: string;
  /** Directory hash seed in the same form (mke2fs -E hash_seed=). */
  hashSeed: string;
  /** Seconds since 1970: every inode's times and the superblock's (SOURCE_DATE_EPOCH). */
  time: number;
  /** Bytes of the file system (whole 4 KiB blocks are used), or the least that holds the contents plus `headroom`. */
  size: number | 'auto';
  /** With `size: 'auto'`, free bytes to leave beyond the contents; default 0. */
  headroom?: number;
  /**
   * Bytes per inode, as mke2fs -i; by default what mke2fs.conf gives the size: 4096 under 512 MiB,
   * 16384 to 4 TiB, then 32768 and 65536. With `size: 'auto'` never fewer inodes than the tree needs.
   */
  inodeRatio?: number;
  /** An exact inode count instead (mke2fs -N). */
  inodes?: number;
  /** Blocks reserved for root, in percent (mke2fs -m); default 5. */
  reservedPercent?: number;
}

const MIN_BLOCKS = 2048;
const MIB_BLOCKS = (1 << 20) / BLOCK;

interface Plan {
  geo: Geometry;
  journalBlocks: number;
  layout: Layout;
}

function parseUuid(text: string, field: string): Uint8Array {
  const hex = text.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex) || !/^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$/.test(text)) {
    throw new Ext4Error(`${field} ${JSON.stringify(text)} is not a UUID (8-4-4-4-12 hex digits)`);
  }
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
}

function labelBytes(label: string): Uint8Array {
  const bytes = binaryToBytes(textToBinary(label));
  if (bytes.length > 16) throw new Ext4Error(`label ${JSON.stringify(label)} is ${bytes.length} bytes; ext4 labels hold 16`);
  const out = new Uint8Array(16);
  out.set(bytes);
  return out;
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
interface Inputs {
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
function tryPlan(inp: Inputs, blocks: number, room: number, spareInodes: number | undefined): Plan | Misfit {
  const inodesFor = (b: number) => inodeCount(b, inp.needed + (spareInodes ?? 0), inp.opts, spareInodes !== undefined);
  const geo = geometry(blocks, inodesFor);
  if (typeof geo === 'string') return { problem: geo };
  if (inodesFor(geo.blocks) < inp.needed) return { problem: `the tree needs ${inp.needed} inodes, the file system has ${inodesFor(geo.blocks)}` };
  const journalBlocks = defaultJournalBlocks(geo.blocks);
  const layout = layOut(inp.root, geo, journalBlocks, inp.seedWords, inp.shapes);
  if (layout.end + room > geo.blocks) return { problem: `the contents need ${layout.end + room - geo.blocks} more blocks`, reached: layout.end + room };
  return { geo, journalBlocks, layout };
}

const isPlan = (p: Plan | Misfit): p is Plan => 'layout' in p;

/** The smallest plan, in whole MiB, that holds the tree with `headroom` bytes (and their share of inodes) free. */
function smallestPlan(inp: Inputs, headroom: number): Plan {
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

/** Inode times hold a signed 32-bit count and two epoch bits: up to 2446. */
const MAX_TIME = 3 * 2 ** 32 + 2 ** 31 - 1;

function validateOptions(opts: Ext4Options, needed: number): void {
  const whole = (v: number | undefined, min: number, max: number) => v === undefined || (Number.isInteger(v) && v >= min && v <= max);
  if (!whole(opts.time, 0, MAX_TIME)) throw new Ext4Error(`time ${opts.time} is not whole seconds from 1970 to 2446`);
  if (opts.size !== 'auto' && !whole(opts.size, 0, 2 ** 53)) throw new Ext4Error(`size ${opts.size} is not a byte count or "auto"`);
  if (!whole(opts.headroom, 0, 2 ** 53)) throw new Ext4Error(`headroom ${opts.headroom} is not a byte count`);
  if (!whole(opts.inodeRatio, 1024, 64 * 2 ** 20)) throw new Ext4Error(`inodeRatio ${opts.inodeRatio} is not bytes per inode from 1024 to 64 MiB`);
  if (!whole(opts.reservedPercent, 0, 50)) throw new Ext4Error(`reservedPercent ${opts.reservedPercent} is not a whole percentage up to 50`);
  if (!whole(opts.inodes, needed, 2 ** 32 - 1)) throw new Ext4Error(`inodes ${opts.inodes}: the tree needs at least ${needed} (lost+found and the reserved ones included)`);
}

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

interface Identity {
  uuid: Uint8Array;
  hashSeed: Uint8Array;
  seedWords: number[];
  label: Uint8Array;
  time: number;
  reservedBlocks: number;
}

/** A stretch of blocks the stream emits as one: fixed metadata or an inode's blocks. */
interface Span {
  at: number;
  blocks: number;
  /** Reads as zero: left out of `allocated()` and streamed as a zero run. */
  zero: boolean;
}

class Ext4Image implements SparseSource {
  private readonly fsSeed: number;
  private readonly usage: Usage;
  private readonly groupTable: Uint8Array;
  private readonly superFields: SuperFields;
  private ranges: ByteRange[] | undefined;

  constructor(
    private readonly plan: Plan,
    readonly size: number,
    private readonly id: Identity,
  ) {
    this.fsSeed = crc32cUpdate(0xffffffff, id.uuid);
    this.usage = usage(plan.geo, plan.layout);
    const totals = groupDescriptors(this.usage, this.fsSeed);
    this.groupTable = totals.table;
    const journal = plan.layout.byIno[Ino.journal];
    const backup = new Uint8Array(68);
    if (journal) {
      const f = this.inodeFields(journal);
      backup.set(f.block);
      new DataView(backup.buffer).setUint32(60, Math.floor(f.size / 2 ** 32), true);
      new DataView(backup.buffer).setUint32(64, f.size >>> 0, true);
    }
    this.superFields = {
      geo: plan.geo, freeBlocks: totals.freeBlocks, freeInodes: totals.freeInodes,
      reservedBlocks: id.reservedBlocks, uuid: id.uuid, hashSeed: id.hashSeed, label: id.label, time: id.time,
      journalBackup: backup,
      overhead: metadataRanges(plan.geo).reduce((n, [a, b]) => n + b - a, 0) + plan.journalBlocks,
    };
  }

  /** Fixed metadata of flex group `flex`'s groups and the superblock copies among them, in block order. */
  private *fixedSpans(): Generator<Span & { group: number; what: 'super' | 'gdt' | 'blockBitmaps' | 'inodeBitmaps' | 'inodes' }> {
    const { geo } = this.plan;
    for (let g = 0; g < geo.groups; g++) {
      if (hasSuperCopy(g)) {
        yield { at: groupStart(g), blocks: 1, zero: false, group: g, what: 'super' };
        yield { at: groupStart(g) + 1, blocks: geo.gdtBlocks, zero: false, group: g, what: 'gdt' };
      }
      if (g % GROUPS_PER_FLEX !== 0) continue;
      const m = flexMetadata(geo, g / GROUPS_PER_FLEX);
      yield { at: m.blockBitmaps, blocks: m.count, zero: false, group: g, what: 'blockBitmaps' };
      yield { at: m.inodeBitmaps, blocks: m.count, zero: false, group: g, what: 'inodeBitmaps' };
      for (let i = 0; i < m.count; i++) {
        const at = m.inodeTables + i * geo.inodeTableBlocks;
        const used = Math.ceil(usedInodes(this.usage, g + i) / INODES_PER_BLOCK);
        if (used > 0) yield { at, blocks: used, zero: false, group: g + i, what: 'inodes' };
        if (used < geo.inodeTableBlocks) yield { at: at + used, blocks: geo.inodeTableBlocks - used, zero: true, group: g + i, what: 'inodes' };
      }
    }
  }

  /** An inode's blocks in block order: its extents, then its extent tree blocks. */
  private *recordSpans(p: Placed): Generator<Span & { index: number }> {
    let first = true;
    for (const [index, e] of p.extents.entries()) {
      if (p.kind === 'journal' && first) {
        yield { at: e.physical, blocks: 1, zero: false, index };
        if (e.length > 1) yield { at: e.physical + 1, blocks: e.length - 1, zero: true, index };
      } else yield { at: e.physical, blocks: e.length, zero: p.kind === 'journal', index };
      first = false;
    }
    for (const [i, block] of p.tree.entries()) yield { at: block, blocks: 1, zero: false, index: p.extents.length + i };
  }

  allocated(): readonly ByteRange[] {
    if (this.ranges) return this.ranges;
    const ranges: { offset: number; length: number }[] = [];
    const add = (s: Span) => {
      if (s.zero) return;
      const last = ranges[ranges.length - 1];
      if (last && last.offset + last.length === s.at * BLOCK) last.length += s.blocks * BLOCK;
      else ranges.push({ offset: s.at * BLOCK, length: s.blocks * BLOCK });
    };
    // Both span streams are in block order and never overlap: merge them.
    const fixed = this.fixedSpans();
    let f = fixed.next();
    for (const p of this.plan.layout.placed) {
      for (const s of this.recordSpans(p)) {
        for (; !f.done && f.value.at < s.at; f = fixed.next()) add(f.value);
        add(s);
      }
    }
    for (; !f.done; f = fixed.next()) add(f.value);
    this.ranges = ranges;
    return ranges;
  }

  async *chunks(): AsyncGenerator<SparseChunk> {
    const out = new SparseOut();
    const fixed = this.fixedSpans();
    let nextFixed = fixed.next();
    let pos = 0;
    const advance = (to: number) => {
      while (!nextFixed.done && nextFixed.value.at < to) {
        const s = nextFixed.value;
        out.zeros((s.at - pos) * BLOCK);
        this.emitFixed(s, out);
        pos = s.at + s.blocks;
        nextFixed = fixed.next();
      }
      out.zeros((to - pos) * BLOCK);
      pos = to;
    };
    for (const p of this.plan.layout.placed) {
      const content = this.contentOf(p);
      for (const s of this.recordSpans(p)) {
        advance(s.at);
        if (s.zero) out.zeros(s.blocks * BLOCK);
        else await content.emit(s, out);
        pos = s.at + s.blocks;
        if (out.pending) yield* out.take();
      }
      await content.finish();
      if (out.pending) yield* out.take();
    }
    advance(this.plan.geo.blocks);
    out.zeros(this.size - this.plan.geo.blocks * BLOCK);
    yield* out.take(true);
  }

  private emitFixed(s: Span & { group: number; what: string }, out: SparseOut): void {
    const { geo } = this.plan;
    if (s.zero) return out.zeros(s.blocks * BLOCK);
    const flexGroups = Array.from({ length: s.blocks }, (_, i) => s.group + i);
    switch (s.what) {
      case 'super': {
        const block = new Uint8Array(BLOCK);
        block.set(superblock(this.superFields, s.group), s.group === 0 ? SUPER_SIZE : 0);
        return out.put(block);
      }
      case 'gdt':
        return out.put(this.groupTable);
      case 'blockBitmaps':
        return flexGroups.forEach((g) => out.put(blockBitmap(this.usage, g)));
      case 'inodeBitmaps':
        return flexGroups.forEach((g) => out.put(inodeBitmap(this.usage, g)));
      case 'inodes': {
        const firstIno = s.group * geo.inodesPerGroup + 1 + (s.at - (flexMetadata(geo, Math.floor(s.group / GROUPS_PER_FLEX)).inodeTables + (s.group % GROUPS_PER_FLEX) * geo.inodeTableBlocks)) * INODES_PER_BLOCK;
        const bytes = new Uint8Array(s.blocks * BLOCK);
        for (let i = 0; i < s.blocks * INODES_PER_BLOCK; i++) this.writeInodeAt(bytes, i * INODE_SIZE, firstIno + i);
        return out.put(bytes);
      }
    }
  }

  private writeInodeAt(bytes: Uint8Array, at: number, ino: number): void {
    if (ino > this.plan.layout.lastIno) return;
    const p = this.plan.layout.byIno[ino];
    // The reserved inodes mke2fs leaves empty are zero but for their extra size, checksum and, for the bad-blocks inode, times.
    const fields = p ? this.inodeFields(p) : { mode: 0, size: 0, links: 0, sectors: 0, flags: 0, block: new Uint8Array(60) };
    writeInode(bytes, at, ino, fields, p || ino === Ino.badBlocks ? this.id.time : 0, this.fsSeed);
  }

  private inodeFields(p: Placed): InodeFields {
    const node = p.node;
    const blocks = p.extents.reduce((n, e) => n + e.length, 0) + p.tree.length;
    const tree = () => extentTree(p.extents, p.tree).root;
    const sectors = blocks * (BLOCK / 512);
    switch (p.kind) {
      case 'journal':
        return { mode: Mode.file | 0o600, size: blocks * BLOCK, links: 1, sectors, flags: InodeFlags.extents, block: tree() };
      case 'dir': {
        const subdirs = p.children.filter((c) => c.kind === 'dir').length;
        const perm = node?.kind === 'dir' ? node.mode : 0o700;
        return {
          mode: Mode.dir | (perm & 0o7777), size: p.extents.reduce((n, e) => n + e.length, 0) * BLOCK, links: subdirs + 2 > 65000 ? 1 : subdirs + 2, sectors,
          flags: InodeFlags.extents | (p.indexed ? InodeFlags.index : 0), block: tree(),
        };
      }
      case 'file': {
        const file = node as Extract<typeof node, { kind: 'file' }>;
        return { mode: Mode.file | (file.mode & 0o7777), size: file.data.size, links: 1, sectors, flags: InodeFlags.extents, block: tree() };
      }
      case 'symlink': {
        const target = binaryToBytes((node as Extract<typeof node, { kind: 'symlink' }>).target);
        if (target.length <= FAST_SYMLINK_MAX) {
          const block = new Uint8Array(60);
          block.set(target);
          return { mode: Mode.symlink | 0o777, size: target.length, links: 1, sectors: 0, flags: 0, block };
        }
        return { mode: Mode.symlink | 0o777, size: target.length, links: 1, sectors, flags: InodeFlags.extents, block: tree() };
      }
    }
  }

  /** What fills an inode's spans: directory blocks, a symlink target, file data, the journal's first block, tree blocks. */
  private contentOf(p: Placed): { emit(s: Span & { index: number }, out: SparseOut): Promise<void>; finish(): Promise<void> } {
    const seed = inodeSeed(this.fsSeed, p.ino);
    const treeBlocks = p.tree.length > 0 ? extentTree(p.extents, p.tree).blocks.map((b) => {
      new DataView(b.buffer).setUint32(EXTENT_TAIL, crc32cUpdate(seed, b.subarray(0, EXTENT_TAIL)), true);
      return b;
    }) : [];
    let logicalBlocks: Uint8Array[] = [];
    let cursor: ByteCursor | undefined;
    const node = p.node;
    if (p.kind === 'dir') {
      const entries = p.children.map(dirEntryOf);
      const plan = planDirectory(entries, this.id.seedWords, p.ino === Ino.lostFound ? LOST_FOUND_BLOCKS - 1 : 0);
      logicalBlocks = directoryBlocks(plan, entries, p.ino, (p.parent ?? p).ino, seed);
    }
    else if (p.kind === 'journal') logicalBlocks = [journalSuperblock(p.extents.reduce((n, e) => n + e.length, 0), this.id.uuid)];
    else if (node?.kind === 'symlink') {
      const block = new Uint8Array(BLOCK);
      block.set(binaryToBytes(node.target));
      logicalBlocks = [block];
    } else if (node?.kind === 'file') cursor = new ByteCursor(isSparseData(node.data) ? node.data.chunks() : node.data.stream());
    const size = node?.kind === 'file' ? node.data.size : 0;
    return {
      emit: async (s, out) => {
        if (s.index >= p.extents.length) return out.put(treeBlocks[s.index - p.extents.length]!);
        const e = p.extents[s.index]!;
        const first = e.logical + (s.at - e.physical);
        if (!cursor) {
          for (let i = 0; i < s.blocks; i++) out.put(logicalBlocks[first + i]!);
          return;
        }
        const start = first * BLOCK;
        const end = Math.min(size, (first + s.blocks) * BLOCK);
        if (!(await cursor.range(start, end, (b) => out.put(b)))) throw new Ext4Error(`${pathOf(p)}: the data ended before its ${size} bytes`);
        out.fill(s.blocks * BLOCK - (end - start));
      },
      finish: async () => {
        if (!cursor) return;
        const total = await cursor.total();
        if (total !== size) throw new Ext4Error(`${pathOf(p)}: the data gave ${total} bytes, not the ${size} its size says`);
      },
    };
  }
}

/** Output chunks: bytes batched into fresh chunks, zero runs as `Zeros`, in order. */
class SparseOut {
  private readonly batch = new Batcher();
  private ready: SparseChunk[] = [];
  private zeroRun = 0;

  put(bytes: Uint8Array): void {
    this.endZeros();
    this.batch.put(bytes);
  }

  /** Zero bytes inside allocated blocks (a file's last block). */
  fill(n: number): void {
    this.endZeros();
    this.batch.zeros(n);
  }

  /** Unallocated bytes: a zero run. */
  zeros(n: number): void {
    if (n <= 0) return;
    this.batch.flush();
    this.ready.push(...this.batch.take());
    this.zeroRun += n;
  }

  private endZeros(): void {
    if (this.zeroRun === 0) return;
    this.ready.push({ zeros: this.zeroRun });
    this.zeroRun = 0;
  }

  get pending(): boolean {
    return this.ready.length > 0 || this.batch.pending;
  }

  take(end = false): SparseChunk[] {
    if (end) {
      this.batch.flush();
      this.ready.push(...this.batch.take());
      this.endZeros();
    }
    this.ready.push(...this.batch.take());
    const out = this.ready;
    this.ready = [];
    return out;
  }
}
