import { backupGpt, PARTITION_TYPE, primaryGpt, protectiveMbr, type GptTable } from '../primitives/gpt.ts';
import { guidBytes } from '../primitives/guid.ts';
import { le32, SECTOR } from './both-endian.ts';
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
  /** isohdpfx.bin; without it (UEFI only) the MBR is a protective one and the EFI image the GPT's ESP. */
  mbrCode?: Uint8Array;
  /** LBA (2048-byte blocks) of the El Torito BIOS boot image, which the MBR code loads. */
  bootLba?: number;
  /** Whole image, 2048-byte blocks (already cylinder-aligned). */
  totalSectors: number;
  /** The EFI image as a second partition (-isohybrid-gpt-basdat): adds a GPT. */
  efi?: { lba: number; size: number };
  /** 20 bytes derived from the image inputs: disk GUID and MBR signature. */
  seed: Uint8Array;
}

/** GPT with 248 entries of 128 bytes: LBA 2..63, exactly filling the ISO's 32 KiB system area. */
const GPT_ENTRIES = 248;
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

function partitionGuid(seed: Uint8Array, n: number): Uint8Array {
  const g = seed.slice(0, 16);
  g[9] = g[9]! ^ n;
  return g;
}

/**
 * With a BIOS MBR, as xorriso writes it: the whole ISO, then the EFI image, as "Basic data"
 * partitions (the MBR's 0xEF entry marks the EFI image). Without: the EFI image alone, as an ESP.
 */
function gptTable(p: HybridParams): GptTable {
  const blocks = p.totalSectors * 4;
  const efi = p.efi && { first: p.efi.lba * 4, last: p.efi.lba * 4 + Math.ceil(p.efi.size / 512) - 1 };
  const basicData = guidBytes(PARTITION_TYPE.basicData);
  const parts = p.mbrCode
    ? [{ name: 'ISOHybrid', first: 0, last: blocks - 64 - 1, type: basicData }, ...(efi ? [{ name: 'ISOHybrid1', ...efi, type: basicData }] : [])]
    : [{ name: 'EFI system partition', ...efi!, type: guidBytes(PARTITION_TYPE.esp) }];
  return {
    blocks,
    diskGuid: p.seed.slice(0, 16),
    entryCount: GPT_ENTRIES,
    firstUsable: 64,
    partitions: parts.map((part, i) => ({ ...part, guid: partitionGuid(p.seed, i + 1), attributes: GPT_ATTRS })),
  };
}

/**
 * The 32 KiB system area of an isohybrid image as xorriso -isohybrid-mbr writes it:
 * isohdpfx code with the boot image's 512-byte LBA at 432, a disk signature, the MBR
 * partition table and, with an EFI image, a GPT at LBA 1 whose entries fill LBA 2..63.
 */
export function hybridSystemArea(p: HybridParams): Uint8Array {
  if (p.mbrCode === undefined) return protectiveSystemArea(p);
  if (p.mbrCode.length < MBR_CODE_SIZE) throw new IsohybridError(`isohybrid MBR image has ${p.mbrCode.length} bytes; it needs at least ${MBR_CODE_SIZE}`);
  const area = new Uint8Array(16 * SECTOR);
  area.set(p.mbrCode.subarray(0, MBR_CODE_SIZE));
  le32(area, 432, p.bootLba! * 4);
  area.set(p.seed.subarray(16, 20), 440);
  const blocks = p.totalSectors * 4;
  if (p.efi) {
    putPartition(area, 0, 0x80, 0x00, 0, blocks, true);
    putPartition(area, 1, 0x00, 0xef, p.efi.lba * 4, Math.ceil(p.efi.size / 512), false);
    area.set(primaryGpt(gptTable(p)), 512);
  } else {
    putPartition(area, 0, 0x80, 0x17, 0, blocks, true);
  }
  area[510] = 0x55;
  area[511] = 0xaa;
  return area;
}

/** A UEFI-only image's system area: a protective MBR (one 0xEE entry over the disk, UEFI §5.2.3) and the GPT. */
function protectiveSystemArea(p: HybridParams): Uint8Array {
  const area = new Uint8Array(16 * SECTOR);
  area.set(protectiveMbr(p.totalSectors * 4));
  area.set(primaryGpt(gptTable(p)), 512);
  return area;
}

/** The backup GPT (entries, then header) for the last 63 blocks of 512 bytes of the image. */
export const gptBackup = (p: HybridParams): Uint8Array => backupGpt(gptTable(p));
