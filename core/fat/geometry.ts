// The volume's shape (FAT type, cluster size, reserved sectors, FAT and root directory sizes)
// chosen from its byte size the way mkfs.fat 4.2 chooses it for an image file, so an image of a
// given size looks like the one `mkfs.fat -C` makes: FAT32 from 512 MiB up (or when asked),
// FAT32 cluster sizes from Microsoft's table, otherwise 4-sector clusters doubled until FAT12 or
// FAT16 can count them, and every structure aligned to the cluster size above 4 MiB.
import { FatError } from './fat-error.ts';

export const SECTOR = 512;
export type FatType = 12 | 16 | 32;

export interface Geometry {
  fatType: FatType;
  /** Sectors the file system spans (rounded down to whole tracks, as DOS and mtools want). */
  totalSectors: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  fatCount: number;
  /** Sectors of one FAT copy. */
  fatSectors: number;
  /** Slots of the fixed FAT12/16 root directory; 0 on FAT32 (its root is a cluster chain). */
  rootEntries: number;
  /** Clusters 2 … clusterCount+1 hold data. */
  clusterCount: number;
  media: number;
  sectorsPerTrack: number;
  heads: number;
}

const FAT_COUNT = 2;
/** Below 4085 clusters Linux reads FAT12, from 4087 Windows reads FAT16: mkfs.fat avoids 4085-4086. */
const MAX_CLUSTERS_12 = 4084;
const MIN_CLUSTERS_16 = 4087;
const MAX_CLUSTERS_16 = 65524;
const MIN_CLUSTERS_32 = 65525;
/** FAT32 entries have 28 bits; the top values are reserved. */
const MAX_CLUSTERS_32 = 268435446;
const MAX_SECTORS = 0xffffffff;
/** The BPB counts root slots in 16 bits: whole sectors of them below 65536. */
const MAX_ROOT_ENTRIES = 0xfff0;

interface Defaults {
  sectorsPerTrack: number;
  heads: number;
  media: number;
  sectorsPerCluster: number;
  rootEntries: number;
}

/** mkfs.fat takes a floppy's layout when an image file is exactly a floppy's size (in KiB). */
const FLOPPIES: Record<number, Defaults> = {
  360: { sectorsPerTrack: 9, heads: 2, media: 0xfd, sectorsPerCluster: 2, rootEntries: 112 },
  720: { sectorsPerTrack: 9, heads: 2, media: 0xf9, sectorsPerCluster: 2, rootEntries: 112 },
  1200: { sectorsPerTrack: 15, heads: 2, media: 0xf9, sectorsPerCluster: 1, rootEntries: 224 },
  1440: { sectorsPerTrack: 18, heads: 2, media: 0xf0, sectorsPerCluster: 1, rootEntries: 224 },
  2880: { sectorsPerTrack: 36, heads: 2, media: 0xf0, sectorsPerCluster: 2, rootEntries: 224 },
};

/** A made-up CHS geometry: the SD card specification's below 256 MiB, LBA-assist translation above. */
function chs(sectors: number): { sectorsPerTrack: number; heads: number } {
  if (sectors <= 524288) {
    const heads = sectors <= 32768 ? 2 : sectors <= 65536 ? 4 : sectors <= 262144 ? 8 : 16;
    return { heads, sectorsPerTrack: sectors <= 4096 ? 16 : 32 };
  }
  const heads = sectors <= 16 * 63 * 1024 ? 16 : sectors <= 32 * 63 * 1024 ? 32 : sectors <= 64 * 63 * 1024 ? 64 : sectors <= 128 * 63 * 1024 ? 128 : 255;
  return { heads, sectorsPerTrack: 63 };
}

/** Microsoft's FAT32 cluster sizes by volume size: 512 B to 260 MiB, 4 KiB to 8 GiB, then doubling to 32 KiB. */
function fat32SectorsPerCluster(sectors: number): number {
  const GiB = 2 * 1024 * 1024;
  return sectors > 32 * GiB ? 64 : sectors > 16 * GiB ? 32 : sectors > 8 * GiB ? 16 : sectors > 260 * 1024 * 2 ? 8 : 1;
}

function defaults(sizeBytes: number, fatType: FatType): Defaults {
  const floppy = Object.hasOwn(FLOPPIES, sizeBytes / 1024) ? FLOPPIES[sizeBytes / 1024] : undefined;
  const base = floppy ?? { ...chs(Math.floor(sizeBytes / SECTOR)), media: 0xf8, sectorsPerCluster: 4, rootEntries: 512 };
  return fatType === 32 ? { ...base, sectorsPerCluster: fat32SectorsPerCluster(Math.floor(sizeBytes / SECTOR)) } : base;
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/** One FAT type's fit at one cluster size: its cluster count and FAT length, or 0 clusters when it does not fit. */
interface Fit {
  clusters: number;
  fatSectors: number;
}

interface Trial {
  totalSectors: number;
  reserved: number;
  rootSectors: number;
  spc: number;
  align: (n: number) => number;
}

/**
 * Clusters first estimated from the space FATs and data share (entry bits per cluster), the FAT
 * sized for them and aligned, then the clusters recounted in what is left: the estimate can count
 * a cluster the leftover space of the FATs and data area only seems to have.
 */
function fit(t: Trial, bits: FatType): Fit {
  const area = t.totalSectors - t.align(t.reserved) - (bits === 32 ? 0 : t.align(t.rootSectors));
  const clusterBytes = t.spc * SECTOR;
  const estimate =
    bits === 12
      ? Math.floor((2 * (area * SECTOR + FAT_COUNT * 3)) / (2 * clusterBytes + FAT_COUNT * 3))
      : Math.floor((area * SECTOR + FAT_COUNT * (bits / 4)) / (clusterBytes + FAT_COUNT * (bits / 8)));
  const fatBytes = bits === 12 ? ((estimate + 2) * 3 + 1) >> 1 : (estimate + 2) * (bits / 8);
  const fatSectors = t.align(ceilDiv(fatBytes, SECTOR));
  const clusters = Math.floor((area - FAT_COUNT * fatSectors) / t.spc);
  const entries = Math.floor((fatSectors * SECTOR * 8) / bits);
  const max = Math.min(entries, bits === 12 ? MAX_CLUSTERS_12 : bits === 16 ? MAX_CLUSTERS_16 : MAX_CLUSTERS_32);
  if (clusters < 0 || clusters > max) return { clusters: 0, fatSectors };
  if (bits === 16 && clusters < MIN_CLUSTERS_16) return { clusters: 0, fatSectors };
  return { clusters, fatSectors };
}

export interface GeometryOptions {
  /** Force a FAT type (mkfs.fat -F); by default FAT32 from 512 MiB, else FAT12 or FAT16 by cluster count. */
  fatType?: FatType;
  /** Root directory slots FAT12/16 must have at least (mkfs.fat -r); 512 (a floppy's 112 or 224) when fewer. */
  rootEntries?: number;
}

/** The geometry mkfs.fat gives an image file of `sizeBytes` bytes (with the same -F and -r). */
export function chooseGeometry(sizeBytes: number, opts: GeometryOptions = {}): Geometry {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) throw new FatError(`FAT size ${sizeBytes} is not a positive whole number of bytes`);
  const wanted = opts.fatType ?? (sizeBytes >= 512 * 1024 * 1024 ? 32 : undefined);
  const d = defaults(sizeBytes, wanted ?? 16);
  const rootEntries = wanted === 32 ? 0 : Math.max(d.rootEntries, opts.rootEntries ?? 0);
  if (rootEntries > MAX_ROOT_ENTRIES) throw new FatError(`the root directory needs ${rootEntries} entries; a FAT${wanted ?? '12/16'} root holds at most ${MAX_ROOT_ENTRIES}`);
  let totalSectors = Math.min(Math.floor(sizeBytes / SECTOR), MAX_SECTORS);
  totalSectors -= totalSectors % d.sectorsPerTrack;
  const aligned = totalSectors > 8192;
  const reserved = wanted === 32 ? 32 : 1;
  const rootSectors = ceilDiv(rootEntries * 32, SECTOR);
  for (let spc = d.sectorsPerCluster; spc <= 128; spc *= 2) {
    const align = (n: number) => (aligned ? Math.ceil(n / spc) * spc : n);
    const t: Trial = { totalSectors, reserved, rootSectors, spc, align };
    const chosen = pick(t, wanted, opts.fatType === 32);
    if (chosen === undefined) continue;
    const { fatType, fit: f } = chosen;
    const g: Geometry = {
      fatType,
      totalSectors,
      sectorsPerCluster: spc,
      reservedSectors: align(reserved),
      fatCount: FAT_COUNT,
      fatSectors: f.fatSectors,
      rootEntries: fatType === 32 ? 0 : aligned ? align(rootSectors) * (SECTOR / 32) : rootEntries,
      clusterCount: f.clusters,
      media: d.media,
      sectorsPerTrack: d.sectorsPerTrack,
      heads: d.heads,
    };
    // mkfs.fat's floor: 32 KiB of data past the tables.
    if (Math.floor(sizeBytes / 1024) < Math.ceil(dataStartSector(g) / 2) + 32) break;
    return g;
  }
  throw new FatError(`a FAT volume of ${sizeBytes} bytes is too ${sizeBytes < 1 << 30 ? 'small' : 'large'} for any cluster size`);
}

/** The type that fits at this cluster size: the one asked for, or (unasked) FAT16 when it counts more clusters than FAT12. */
function pick(t: Trial, wanted: FatType | undefined, forced32: boolean): { fatType: FatType; fit: Fit } | undefined {
  if (wanted === 32) {
    const f = fit(t, 32);
    // Asked for by name, FAT32 may have fewer clusters than its usual minimum (mkfs.fat -F 32 warns).
    return f.clusters > 0 && (forced32 || f.clusters >= MIN_CLUSTERS_32) ? { fatType: 32, fit: f } : undefined;
  }
  const f12 = fit(t, 12);
  const f16 = fit(t, 16);
  if (wanted === 12) return f12.clusters > 0 ? { fatType: 12, fit: f12 } : undefined;
  if (wanted === 16) return f16.clusters > 0 ? { fatType: 16, fit: f16 } : undefined;
  if (f12.clusters === 0 && f16.clusters === 0) return undefined;
  return f16.clusters > f12.clusters ? { fatType: 16, fit: f16 } : { fatType: 12, fit: f12 };
}

/** Sector where the data area (cluster 2) starts. */
export const rootSectors = (g: Geometry): number => ceilDiv(g.rootEntries * 32, SECTOR);

export const dataStartSector = (g: Geometry): number => g.reservedSectors + g.fatCount * g.fatSectors + rootSectors(g);

export const clusterBytes = (g: Geometry): number => g.sectorsPerCluster * SECTOR;
