import { binaryToBytes } from '../io/binary-string.ts';
import { readAhead } from '../io/read-ahead.ts';
import type { ByteRange, SparseChunk, SparseSource } from '../io/sparse.ts';
import { crc32cUpdate } from '../primitives/crc32c.ts';
import { ByteCursor } from './byte-cursor.ts';
import { directoryBlocks, planDirectory } from './directory.ts';
import { Ext4Error } from './ext4-error.ts';
import { EXTENT_TAIL, extentTree } from './extents.ts';
import { BLOCK, FAST_SYMLINK_MAX, GROUPS_PER_FLEX, INODE_SIZE, INODES_PER_BLOCK, InodeFlags, Ino, Mode } from './format.ts';
import { flexMetadata, groupStart, hasSuperCopy, metadataRanges } from './geometry.ts';
import { blockBitmap, groupDescriptors, inodeBitmap, usage, usedInodes, type Usage } from './groups.ts';
import { inodeSeed, writeInode, type InodeFields } from './inodes.ts';
import { journalSuperblock } from './journal.ts';
import { dirEntryOf, isSparseData, LOST_FOUND_BLOCKS, pathOf, type Placed } from './layout.ts';
import type { Plan } from './sizing.ts';
import { SparseOut } from './sparse-out.ts';
import { SUPER_SIZE, superblock, type SuperFields } from './superblock.ts';

/** Who the file system is: fixed by the options, kept in every superblock copy and checksum. */
export interface Identity {
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

/**
 * The laid-out file system as a sparse stream: fixed metadata (superblock copies, descriptor
 * tables, bitmaps, inode tables) and every inode's blocks, emitted in block order.
 */
export class Ext4Image implements SparseSource {
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
    const plainData = (p: Placed) => (p.node?.kind === 'file' && !isSparseData(p.node.data) ? p.node.data : undefined);
    for (const { item: p, data } of readAhead(this.plan.layout.placed[Symbol.iterator](), plainData)) {
      const content = this.contentOf(p, data);
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

  /**
   * What fills an inode's spans: directory blocks, a symlink target, file data (`prefetched` when
   * read ahead), the journal's first block, tree blocks.
   */
  private contentOf(p: Placed, prefetched: Promise<Uint8Array[]> | undefined): { emit(s: Span & { index: number }, out: SparseOut): Promise<void>; finish(): Promise<void> } {
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
    } else if (node?.kind === 'file') {
      const data = node.data;
      cursor = new ByteCursor(prefetched ? (async function* () { yield* await prefetched; })() : isSparseData(data) ? data.chunks() : data.stream());
    }
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
