// The boot sector (BIOS parameter block) and, on FAT32, the FSInfo sector, laid out as the
// Microsoft FAT specification gives them.
import { SECTOR, type Geometry } from './geometry.ts';

/** FAT32 keeps the FSInfo sector at 1 and copies of both from sector 6 (mkfs.fat's choice with 32 reserved sectors). */
export const FSINFO_SECTOR = 1;
export const BACKUP_BOOT_SECTOR = 6;
export const ROOT_CLUSTER = 2;

export interface VolumeFields {
  /** 11 bytes, space padded ("NO NAME    " when there is none). */
  label: Uint8Array;
  volumeId: number;
  /** Sectors before the volume on its disk (the partition's first LBA), 0 for a bare image. */
  hiddenSectors: number;
}

/**
 * Not bootable: our own stub runs `int 18h` (the BIOS tries its next boot device) and halts.
 * The jump over the parameter block lands on it.
 */
const STUB = [0xcd, 0x18, 0xf4, 0xeb, 0xfd];

export function bootSector(g: Geometry, v: VolumeFields): Uint8Array {
  const b = new Uint8Array(SECTOR);
  const d = new DataView(b.buffer);
  const fat32 = g.fatType === 32;
  const code = fat32 ? 90 : 62;
  b.set([0xeb, code - 2, 0x90], 0);
  b.set(new TextEncoder().encode('MSWIN4.1'), 3); // the OEM name the specification recommends for compatibility
  d.setUint16(11, SECTOR, true);
  b[13] = g.sectorsPerCluster;
  d.setUint16(14, g.reservedSectors, true);
  b[16] = g.fatCount;
  d.setUint16(17, g.rootEntries, true);
  if (g.totalSectors < 0x10000) d.setUint16(19, g.totalSectors, true);
  else d.setUint32(32, g.totalSectors, true);
  b[21] = g.media;
  if (!fat32) d.setUint16(22, g.fatSectors, true);
  d.setUint16(24, g.sectorsPerTrack, true);
  d.setUint16(26, g.heads, true);
  d.setUint32(28, v.hiddenSectors, true);
  let ext = 36;
  if (fat32) {
    d.setUint32(36, g.fatSectors, true);
    d.setUint32(44, ROOT_CLUSTER, true);
    d.setUint16(48, FSINFO_SECTOR, true);
    d.setUint16(50, BACKUP_BOOT_SECTOR, true);
    ext = 64;
  }
  b[ext] = g.media === 0xf8 ? 0x80 : 0x00; // BIOS drive number: first hard disk, or a floppy
  b[ext + 2] = 0x29; // the volume ID, label and type fields follow
  d.setUint32(ext + 3, v.volumeId >>> 0, true);
  b.set(v.label, ext + 7);
  b.set(new TextEncoder().encode(`FAT${g.fatType}   `), ext + 18);
  b.set(STUB, code);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

/** The FSInfo sector: free cluster count and where the next free cluster is, as hints a driver may trust. */
export function fsInfoSector(freeClusters: number, freeHint: number): Uint8Array {
  const b = new Uint8Array(SECTOR);
  const d = new DataView(b.buffer);
  d.setUint32(0, 0x41615252, true);
  d.setUint32(484, 0x61417272, true);
  d.setUint32(488, freeClusters, true);
  d.setUint32(492, freeHint, true);
  d.setUint32(508, 0xaa550000, true);
  return b;
}
