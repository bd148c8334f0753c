import { crc32 } from '../primitives/crc32.ts';
import { le16, le32, le64, putBytes, SECTOR } from './both-endian.ts';
import { NixImagerError } from '../errors.ts';

/** syslinux's isohdpfx.bin: the MBR boot code, of which the first 432 bytes are used. */
export const MBR_CODE_SIZE = 432;
/** isohybrid images end on a whole "cylinder" of 64 heads × 32 sectors × 512 bytes. */
export const HYBRID_ALIGN_SECTORS = (64 * 32 * 512) / SECTOR;
const HEADS = 64;
const SECS = 32;

export class IsohybridError extends NixImagerError {
  override name = 'IsohybridError';
  readonly code = 'image';
}

export interface HybridParams {
  mbrCode: Uint8Array;
  /** LBA (2048-byte blocks) of the El Torito BIOS boot image, which the MBR code loads. */
  bootLba: number;
  /** Whole image, 2048-byte blocks (already cylinder-aligned). */
  totalSectors: number;
  /** The EFI image as a second partition (-isohybrid-gpt-basdat): adds a GPT. */
  efi?: { lba: number; size: number };
  /** 20 bytes derived from the image inputs: disk GUID and MBR signature. */
  seed: Uint8Array;
}

/** GPT with 248 entries of 128 bytes: LBA 2..63, exactly filling the ISO's 32 KiB system area. */
const GPT_ENTRIES = 248;
const GPT_ENTRY_SIZE = 128;
const GPT_ENTRY_BLOCKS = (GPT_ENTRIES * GPT_ENTRY_SIZE) / 512;
/** "Basic data" partition type, on-disk (mixed-endian) bytes. */
const BASIC_DATA = [0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44, 0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7];
/** Read-only (bit 60) and platform-required (bit 0), as xorriso marks them. */
const GPT_ATTRS = 0x1000000000000001n;

function chs(lba: number): number[] {
  const cyl = Math.floor(lba / (HEADS * SECS));
  if (cyl > 1023) return [0xfe, 0xff, 0xff];
  const head = Math.floor(lba / SECS) % HEADS;
  const sec = (lba % SECS) + 1;
  return [head, sec | ((cyl >> 8) << 6), cyl & 0xff];
}

function putPartition(mbr: Uint8Array, n: number, status: number, type: number, start: number, count: number, exactChs: boolean): void {
  const at = 446 + 16 * n;
  mbr[at] = status;
  mbr.set(exactChs ? chs(start) : [0xfe, 0xff, 0xff], at + 1);
  mbr[at + 4] = type;
  mbr.set(exactChs ? chs(start + count - 1) : [0xfe, 0xff, 0xff], at + 5);
  le32(mbr, at + 8, start);
  le32(mbr, at + 12, count);
}

function diskGuid(p: HybridParams): Uint8Array {
  return p.seed.slice(0, 16);
}

function partitionGuid(p: HybridParams, n: number): Uint8Array {
  const g = diskGuid(p);
  g[9] = g[9]! ^ n;
  return g;
}

/** First and last 512-byte block of each GPT partition: the whole ISO, then the EFI image. */
function gptPartitions(p: HybridParams): { name: string; first: number; last: number }[] {
  const blocks = p.totalSectors * 4;
  const parts = [{ name: 'ISOHybrid', first: 0, last: blocks - 64 - 1 }];
  if (p.efi) parts.push({ name: 'ISOHybrid1', first: p.efi.lba * 4, last: p.efi.lba * 4 + Math.ceil(p.efi.size / 512) - 1 });
  return parts;
}

function gptEntries(p: HybridParams): Uint8Array {
  const out = new Uint8Array(GPT_ENTRIES * GPT_ENTRY_SIZE);
  gptPartitions(p).forEach((part, i) => {
    const at = i * GPT_ENTRY_SIZE;
    out.set(BASIC_DATA, at);
    out.set(partitionGuid(p, i + 1), at + 16);
    le64(out, at + 32, BigInt(part.first));
    le64(out, at + 40, BigInt(part.last));
    le64(out, at + 48, GPT_ATTRS);
    for (let k = 0; k < part.name.length; k++) le16(out, at + 56 + 2 * k, part.name.charCodeAt(k));
  });
  return out;
}

function gptHeader(p: HybridParams, entries: Uint8Array, backup: boolean): Uint8Array {
  const blocks = p.totalSectors * 4;
  const h = new Uint8Array(512);
  putBytes(h, 0, 'EFI PART');
  le32(h, 8, 0x00010000);
  le32(h, 12, 92);
  le64(h, 24, BigInt(backup ? blocks - 1 : 1));
  le64(h, 32, BigInt(backup ? 1 : blocks - 1));
  le64(h, 40, 64n);
  le64(h, 48, BigInt(blocks - GPT_ENTRY_BLOCKS - 2));
  h.set(diskGuid(p), 56);
  le64(h, 72, BigInt(backup ? blocks - 1 - GPT_ENTRY_BLOCKS : 2));
  le32(h, 80, GPT_ENTRIES);
  le32(h, 84, GPT_ENTRY_SIZE);
  le32(h, 88, crc32(entries));
  le32(h, 16, crc32(h.subarray(0, 92)));
  return h;
}

/**
 * The 32 KiB system area of an isohybrid image as xorriso -isohybrid-mbr writes it:
 * isohdpfx code with the boot image's 512-byte LBA at 432, a disk signature, the MBR
 * partition table and, with an EFI image, a GPT at LBA 1 whose entries fill LBA 2..63.
 */
export function hybridSystemArea(p: HybridParams): Uint8Array {
  if (p.mbrCode.length < MBR_CODE_SIZE) throw new IsohybridError(`isohybrid MBR image has ${p.mbrCode.length} bytes; it needs at least ${MBR_CODE_SIZE}`);
  const area = new Uint8Array(16 * SECTOR);
  area.set(p.mbrCode.subarray(0, MBR_CODE_SIZE));
  le32(area, 432, p.bootLba * 4);
  area.set(p.seed.subarray(16, 20), 440);
  const blocks = p.totalSectors * 4;
  if (p.efi) {
    putPartition(area, 0, 0x80, 0x00, 0, blocks, true);
    putPartition(area, 1, 0x00, 0xef, p.efi.lba * 4, Math.ceil(p.efi.size / 512), false);
    const entries = gptEntries(p);
    area.set(gptHeader(p, entries, false), 512);
    area.set(entries, 1024);
  } else {
    putPartition(area, 0, 0x80, 0x17, 0, blocks, true);
  }
  area[510] = 0x55;
  area[511] = 0xaa;
  return area;
}

/** The backup GPT (entries, then header) for the last 63 blocks of 512 bytes of the image. */
export function gptBackup(p: HybridParams): Uint8Array {
  const entries = gptEntries(p);
  const out = new Uint8Array(entries.length + 512);
  out.set(entries);
  out.set(gptHeader(p, entries, true), entries.length);
  return out;
}
