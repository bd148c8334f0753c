// The GUID Partition Table (UEFI spec, chapter 5): a protective MBR at LBA 0, the primary header
// at LBA 1 with its entry array after it, and a backup array and header in the disk's last blocks.
// Shared by the disk writer and the isohybrid system area of ISOs.
import { crc32 } from './crc32.ts';
import { NixImagerError } from '../errors.ts';

export const LBA = 512;
const ENTRY_SIZE = 128;
const HEADER_SIZE = 92;

/** GPT partition type GUIDs (UEFI spec; Linux ones from the Discoverable Partitions Specification). */
export const PARTITION_TYPE = {
  esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  linuxFilesystem: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
  basicData: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
  rootX86_64: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709',
  rootAarch64: 'B921B045-1DF0-41C3-AF44-4C6F280D3FAE',
} as const;

export interface GptPartition {
  /** Type GUID, on-disk bytes. */
  readonly type: Uint8Array;
  /** Unique partition GUID, on-disk bytes. */
  readonly guid: Uint8Array;
  /** First and last LBA, inclusive. */
  readonly first: number;
  readonly last: number;
  readonly attributes?: bigint;
  /** At most 36 UTF-16 code units. */
  readonly name: string;
}

export interface GptTable {
  /** Disk size in 512-byte blocks. */
  readonly blocks: number;
  readonly diskGuid: Uint8Array;
  readonly partitions: readonly GptPartition[];
  /** Entry slots in the array (128 unless the disk needs another number, as an isohybrid ISO's system area does). */
  readonly entryCount?: number;
  /** First LBA partitions may use; by default the block after the primary entry array. */
  readonly firstUsable?: number;
}

export class GptError extends NixImagerError {
  override name = 'GptError';
  readonly code = 'image';
}

const entryCount = (t: GptTable) => t.entryCount ?? 128;
/** Blocks the entry array takes. */
export const entryBlocks = (t: GptTable): number => Math.ceil((entryCount(t) * ENTRY_SIZE) / LBA);
export const firstUsableLba = (t: GptTable): number => t.firstUsable ?? 2 + entryBlocks(t);
export const lastUsableLba = (t: GptTable): number => t.blocks - 2 - entryBlocks(t);

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function checkTable(t: GptTable): void {
  if (t.partitions.length > entryCount(t)) throw new GptError(`${t.partitions.length} partitions do not fit in ${entryCount(t)} GPT entries`);
  for (const p of t.partitions) if (p.name.length > 36) throw new GptError(`GPT partition name "${p.name}" is longer than 36 characters`);
}

/** The partition entry array, `entryCount` slots of 128 bytes. */
export function gptEntries(t: GptTable): Uint8Array {
  checkTable(t);
  const out = new Uint8Array(entryCount(t) * ENTRY_SIZE);
  const v = view(out);
  t.partitions.forEach((p, i) => {
    const at = i * ENTRY_SIZE;
    out.set(p.type, at);
    out.set(p.guid, at + 16);
    v.setBigUint64(at + 32, BigInt(p.first), true);
    v.setBigUint64(at + 40, BigInt(p.last), true);
    v.setBigUint64(at + 48, p.attributes ?? 0n, true);
    for (let k = 0; k < p.name.length; k++) v.setUint16(at + 56 + 2 * k, p.name.charCodeAt(k), true);
  });
  return out;
}

/** One 512-byte header block; the backup one describes the same array at the disk's end. */
export function gptHeader(t: GptTable, entries: Uint8Array, backup: boolean): Uint8Array {
  const h = new Uint8Array(LBA);
  const v = view(h);
  h.set(new TextEncoder().encode('EFI PART'));
  v.setUint32(8, 0x00010000, true);
  v.setUint32(12, HEADER_SIZE, true);
  v.setBigUint64(24, BigInt(backup ? t.blocks - 1 : 1), true);
  v.setBigUint64(32, BigInt(backup ? 1 : t.blocks - 1), true);
  v.setBigUint64(40, BigInt(firstUsableLba(t)), true);
  v.setBigUint64(48, BigInt(lastUsableLba(t)), true);
  h.set(t.diskGuid, 56);
  v.setBigUint64(72, BigInt(backup ? t.blocks - 1 - entryBlocks(t) : 2), true);
  v.setUint32(80, entryCount(t), true);
  v.setUint32(84, ENTRY_SIZE, true);
  v.setUint32(88, crc32(entries), true);
  v.setUint32(16, crc32(h.subarray(0, HEADER_SIZE)), true);
  return h;
}

/** LBA 0 as sgdisk writes it: no boot code, one 0xEE partition over the whole disk (capped at 2^32-1 blocks). */
export function protectiveMbr(blocks: number): Uint8Array {
  const mbr = new Uint8Array(LBA);
  const v = view(mbr);
  mbr.set([0x00, 0x00, 0x02, 0x00, 0xee, 0xff, 0xff, 0xff], 446);
  v.setUint32(454, 1, true);
  v.setUint32(458, Math.min(blocks - 1, 0xffffffff), true);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  return mbr;
}

/** The primary header and array (LBA 1 onwards), without LBA 0. */
export function primaryGpt(t: GptTable): Uint8Array {
  const entries = gptEntries(t);
  const out = new Uint8Array(LBA + entryBlocks(t) * LBA);
  out.set(gptHeader(t, entries, false));
  out.set(entries, LBA);
  return out;
}

/** The backup array and header: the disk's last `entryBlocks + 1` blocks. */
export function backupGpt(t: GptTable): Uint8Array {
  const entries = gptEntries(t);
  const out = new Uint8Array(entryBlocks(t) * LBA + LBA);
  out.set(entries);
  out.set(gptHeader(t, entries, true), entryBlocks(t) * LBA);
  return out;
}
