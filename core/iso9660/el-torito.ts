import { le16, le32, SECTOR } from './both-endian.ts';

export interface CatalogEntry {
  lba: number;
  /** Count of 512-byte virtual sectors loaded. */
  sectors: number;
}

/** Platform IDs of El Torito section headers. */
const PLATFORM_X86 = 0x00;
const PLATFORM_EFI = 0xef;
const BOOTABLE = 0x88;

function putEntry(cat: Uint8Array, at: number, e: CatalogEntry): void {
  cat[at] = BOOTABLE;
  cat[at + 1] = 0; // no emulation
  le16(cat, at + 6, e.sectors);
  le32(cat, at + 8, e.lba);
}

/**
 * The boot catalog: validation entry, default entry (BIOS, no emulation) and, for EFI,
 * a final section header with one entry, as xorriso -eltorito-alt-boot -e writes it.
 */
export function bootCatalog(bios: CatalogEntry | undefined, efi: CatalogEntry | undefined): Uint8Array {
  const cat = new Uint8Array(SECTOR);
  cat[0] = 1;
  cat[1] = bios ? PLATFORM_X86 : PLATFORM_EFI;
  cat[30] = 0x55;
  cat[31] = 0xaa;
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum += cat[i]! | (cat[i + 1]! << 8);
  le16(cat, 28, (0x10000 - (sum & 0xffff)) & 0xffff);
  if (bios) putEntry(cat, 32, bios);
  if (efi) {
    const at = bios ? 64 : 32;
    if (bios) {
      cat[at] = 0x91; // final section header
      cat[at + 1] = PLATFORM_EFI;
      le16(cat, at + 2, 1);
      putEntry(cat, at + 32, efi);
    } else putEntry(cat, at, efi);
  }
  return cat;
}

/** Virtual sector count of a no-emulation image in its catalog entry (16 bits, so capped). */
export function efiSectorCount(size: number): number {
  return Math.min(0xffff, Math.ceil(size / 512));
}

/**
 * The boot-info-table (mkisofs -boot-info-table) written into the copy of the boot image:
 * at byte 8 the primary volume descriptor's LBA, the image's LBA, its length and the
 * 32-bit sum of its little-endian words from byte 64 on; bytes 24..63 are cleared.
 */
export function patchBootInfoTable(image: Uint8Array, imageLba: number, pvdLba: number): Uint8Array {
  const out = image.slice();
  let sum = 0;
  for (let i = 64; i < out.length; i += 4) {
    sum = (sum + ((out[i] ?? 0) | ((out[i + 1] ?? 0) << 8) | ((out[i + 2] ?? 0) << 16) | ((out[i + 3] ?? 0) << 24))) >>> 0;
  }
  le32(out, 8, pvdLba);
  le32(out, 12, imageLba);
  le32(out, 16, out.length);
  le32(out, 20, sum);
  out.fill(0, 24, 64);
  return out;
}
