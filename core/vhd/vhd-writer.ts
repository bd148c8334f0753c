// VHD (Microsoft's "Virtual Hard Disk Image Format Specification" 1.0): a fixed disk is the raw
// image followed by a 512-byte footer; a dynamic one is a footer copy, a dynamic header, the block
// allocation table (BAT), then only the 2 MiB blocks that hold data, each behind its sector bitmap.
import { allocatedBlocks, blocksOf, type ContainerImage } from '../io/sparse-blocks.ts';
import type { SparseSource } from '../io/sparse.ts';
import { NixImagerError } from '../errors.ts';

const SECTOR = 512;
const MIB = 1 << 20;
const BLOCK = 2 * MIB;
/** One bit per sector of a block, rounded to whole sectors. */
const BITMAP = Math.ceil(BLOCK / SECTOR / 8 / SECTOR) * SECTOR;
const NO_OFFSET = 0xffffffffffffffffn;
const MAX_CHS_SECTORS = 65535 * 16 * 255;
/** Dynamic VHDs address at most 2040 GiB (the spec's limit). */
const MAX_DYNAMIC_SIZE = 2040 * 1024 * MIB;

export class VhdError extends NixImagerError {
  override name = 'VhdError';
  readonly code = 'image';
}

export interface VhdOptions {
  /** The footer's unique id, 16 bytes: derived from the image inputs so the output is reproducible. */
  readonly uniqueId: Uint8Array;
  /** Seconds since 2000-01-01 UTC (the VHD epoch); 0 unless given. */
  readonly timestamp?: number;
}

/** The spec's CHS geometry for a size (appendix "CHS calculation"). */
function geometry(size: number): [cylinders: number, heads: number, sectorsPerTrack: number] {
  const total = Math.min(Math.floor(size / SECTOR), MAX_CHS_SECTORS);
  let spt: number;
  let heads: number;
  let cth: number;
  if (total >= 65535 * 16 * 63) {
    spt = 255;
    heads = 16;
    cth = Math.floor(total / spt);
  } else {
    spt = 17;
    cth = Math.floor(total / spt);
    heads = Math.max(4, Math.floor((cth + 1023) / 1024));
    if (cth >= heads * 1024 || heads > 16) {
      spt = 31;
      heads = 16;
      cth = Math.floor(total / spt);
    }
    if (cth >= heads * 1024) {
      spt = 63;
      heads = 16;
      cth = Math.floor(total / spt);
    }
  }
  return [Math.floor(cth / heads), heads, spt];
}

/** One's complement of the byte sum, with the checksum field counted as zero. */
function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum += b;
  return ~sum >>> 0;
}

function footer(size: number, dynamic: boolean, o: VhdOptions): Uint8Array {
  if (o.uniqueId.length !== 16) throw new VhdError(`VHD unique id must be 16 bytes, not ${o.uniqueId.length}`);
  const f = new Uint8Array(SECTOR);
  const v = new DataView(f.buffer);
  const ascii = (at: number, s: string) => f.set(new TextEncoder().encode(s), at);
  ascii(0, 'conectix');
  v.setUint32(8, 2);
  v.setUint32(12, 0x00010000);
  v.setBigUint64(16, dynamic ? BigInt(SECTOR) : NO_OFFSET);
  v.setUint32(24, o.timestamp ?? 0);
  // "qem2" is the creator tag by which qemu (and Hyper-V, Azure, VirtualBox, which always do) take
  // the size from the footer rather than from the rounded-down CHS geometry.
  ascii(28, 'qem2');
  v.setUint32(32, 0x00010000);
  ascii(36, 'Wi2k');
  v.setBigUint64(40, BigInt(size));
  v.setBigUint64(48, BigInt(size));
  const [c, h, s] = geometry(size);
  v.setUint16(56, c);
  f[58] = h;
  f[59] = s;
  v.setUint32(60, dynamic ? 3 : 2);
  f.set(o.uniqueId, 68);
  v.setUint32(64, checksum(f));
  return f;
}

/** A fixed VHD: the raw image, then the footer. Azure takes only sizes of a whole number of MiB. */
export function vhdFixedImage(source: SparseSource, o: VhdOptions): ContainerImage & { size: number } {
  if (source.size % MIB !== 0) throw new VhdError(`a fixed VHD needs a disk size that is a whole number of MiB (as Azure requires); ${source.size} bytes is not`);
  const f = footer(source.size, false, o);
  return {
    size: source.size + SECTOR,
    async *chunks() {
      yield* source.chunks();
      yield f;
    },
  };
}

function dynamicHeader(entries: number, batOffset: number): Uint8Array {
  const h = new Uint8Array(1024);
  const v = new DataView(h.buffer);
  h.set(new TextEncoder().encode('cxsparse'));
  v.setBigUint64(8, NO_OFFSET);
  v.setBigUint64(16, BigInt(batOffset));
  v.setUint32(24, 0x00010000);
  v.setUint32(28, entries);
  v.setUint32(32, BLOCK);
  v.setUint32(36, checksum(h));
  return h;
}

/** A dynamic (sparse) VHD: only the 2 MiB blocks that allocated() touches are stored. */
export function vhdDynamicImage(source: SparseSource, o: VhdOptions): ContainerImage & { size: number } {
  if (source.size % SECTOR !== 0) throw new VhdError(`a VHD needs a disk size that is a whole number of 512-byte sectors; ${source.size} bytes is not`);
  if (source.size > MAX_DYNAMIC_SIZE) throw new VhdError(`a dynamic VHD holds at most 2040 GiB; the disk has ${source.size} bytes`);
  const entries = Math.ceil(source.size / BLOCK);
  const blocks = allocatedBlocks(source, BLOCK);
  const batOffset = SECTOR + 1024;
  const batBytes = Math.ceil((entries * 4) / SECTOR) * SECTOR;
  const dataOffset = batOffset + batBytes;
  // 0xFFFFFFFF marks a block that is not stored (reads as zeros).
  const bat = new Uint8Array(batBytes).fill(0xff);
  const bv = new DataView(bat.buffer);
  blocks.forEach((b, k) => bv.setUint32(b * 4, (dataOffset + k * (BITMAP + BLOCK)) / SECTOR));
  const f = footer(source.size, true, o);
  const bitmap = new Uint8Array(BITMAP).fill(0xff);
  return {
    size: dataOffset + blocks.length * (BITMAP + BLOCK) + SECTOR,
    async *chunks() {
      yield f;
      yield dynamicHeader(entries, batOffset);
      yield bat;
      for await (const b of blocksOf(source, BLOCK, blocks)) {
        yield bitmap;
        yield b.data;
      }
      yield f;
    },
  };
}
