// A FAT12/16/32 volume from an image tree, laid out first and then streamed in order as a
// SparseSource: boot sector (with FSInfo and backup copies on FAT32), the FATs, the FAT12/16 root
// directory, then every directory and file in cluster order; the free clusters are zero runs.
import { addPath, ImageTreeError, newDir, type ImageDir } from '../image/tree.ts';
import { binaryToText, textToBinary } from '../io/binary-string.ts';
import type { DataSource } from '../io/data-source.ts';
import { Batcher } from '../io/batcher.ts';
import { readAhead } from '../io/read-ahead.ts';
import { denseChunks, type ByteRange, type SparseChunk, type SparseSource } from '../io/sparse.ts';
import { BACKUP_BOOT_SECTOR, bootSector, fsInfoSector } from './boot-sector.ts';
import { ATTR_ARCHIVE, ATTR_DIRECTORY, ATTR_VOLUME_ID, dosTime, ENTRY, longEntryCount, putLongEntries, putShortEntry, type DosTime } from './dir-entry.ts';
import { FatError } from './fat-error.ts';
import { fatBytesFor, fatPieces } from './fat-table.ts';
import { chooseGeometry, clusterBytes, dataStartSector, SECTOR, type FatType, type Geometry } from './geometry.ts';
import { place, planTree, type DirPlan, type Extent, type Placement } from './layout.ts';
import { autoSize } from './auto-size.ts';
import { labelBytes } from './label.ts';
import { volumeIdOf } from './volume-id.ts';

export interface FatOptions {
  /** Seconds since the epoch stamped on every entry (SOURCE_DATE_EPOCH); FAT keeps 1980-2107, in 2-second steps. */
  mtime: number;
  /** Image size in bytes; by default the contents plus slack as iso-image.nix sizes efi.img, grown until they fit. */
  size?: number;
  /** FAT12, 16 or 32 (mkfs.fat -F); by default chosen by size as mkfs.fat chooses it. */
  fatType?: FatType;
  /** Volume label, up to 11 characters (mkfs.fat -n); none by default. */
  label?: string;
  /** 32-bit volume serial number (mkfs.fat -i); by default derived from the label, size, names and sizes. */
  volumeId?: number;
  /** Sectors before the volume on its disk (its partition's first LBA), recorded in the boot sector. */
  hiddenSectors?: number;
}

interface Volume {
  g: Geometry;
  size: number;
  plan: DirPlan;
  placement: Placement;
  label: Uint8Array | undefined;
  volumeId: number;
  hiddenSectors: number;
  time: DosTime;
}

const NO_NAME = new TextEncoder().encode('NO NAME    ');

/** A file of a volume given as a list: its path on the volume ("EFI/BOOT/BOOTX64.EFI", UTF-8 text) and its bytes. */
export interface FatFile {
  path: string;
  data: DataSource;
}

/** The volume's contents: an image tree, or a list of files (their parent directories are made). */
export type FatContents = ImageDir | readonly FatFile[];

function treeOf(contents: FatContents): ImageDir {
  if (!Array.isArray(contents)) return contents as ImageDir;
  const root = newDir();
  try {
    for (const f of contents as readonly FatFile[]) addPath(root, textToBinary(f.path), { kind: 'file', mode: 0o444, data: f.data });
  } catch (e) {
    throw e instanceof ImageTreeError ? new FatError(e.message) : e;
  }
  return root;
}

/** Lays the tree out on a volume of the given (or automatic) size; refuses, naming the path, what FAT cannot hold or what does not fit. */
function layOut(contents: FatContents, opts: FatOptions): Volume {
  if (!Number.isFinite(opts.mtime)) throw new FatError(`mtime ${opts.mtime} is not a number of seconds`);
  const root = treeOf(contents);
  const label = opts.label === undefined ? undefined : labelBytes(opts.label);
  const plan = planTree(root, label !== undefined);
  const hiddenSectors = opts.hiddenSectors ?? 0;
  if (!Number.isSafeInteger(hiddenSectors) || hiddenSectors < 0 || hiddenSectors > 0xffffffff) throw new FatError(`hiddenSectors ${hiddenSectors} is not a 32-bit sector number`);
  const geometryFor = (size: number) => chooseGeometry(size, { fatType: opts.fatType, rootEntries: plan.entryCount });
  const size = opts.size ?? autoSize(plan, geometryFor);
  const g = geometryFor(size);
  const placement = place(plan, g);
  if (placement.usedClusters > g.clusterCount) {
    throw new FatError(`the tree needs ${placement.usedClusters} clusters of ${clusterBytes(g)} bytes, but a ${size}-byte FAT${g.fatType} volume has ${g.clusterCount}`);
  }
  const volumeId = opts.volumeId ?? volumeIdOf(plan, size, opts.label ?? '', opts.mtime);
  if (!Number.isInteger(volumeId) || volumeId < 0 || volumeId > 0xffffffff) throw new FatError(`volumeId ${volumeId} is not a 32-bit number`);
  return { g, size, plan, placement, label, volumeId, hiddenSectors, time: dosTime(Math.floor(opts.mtime)) };
}

/** A directory's entries: ".", "..", the label (root only), then each child's long entries and short entry. */
function directoryBytes(v: Volume, d: DirPlan, parent: DirPlan | undefined, length: number): Uint8Array {
  const b = new Uint8Array(length);
  let at = 0;
  const dot = (name: string, cluster: number) => {
    const short = new TextEncoder().encode(name.padEnd(11, ' '));
    putShortEntry(b, at, { short, attr: ATTR_DIRECTORY, cluster, size: 0, time: v.time });
    at += ENTRY;
  };
  if (parent !== undefined) {
    dot('.', d.firstCluster);
    // ".." names the root as cluster 0, whatever cluster a FAT32 root starts at.
    dot('..', parent.path === '' ? 0 : parent.firstCluster);
  } else if (v.label !== undefined) {
    putShortEntry(b, at, { short: v.label, attr: ATTR_VOLUME_ID, cluster: 0, size: 0, time: { ...v.time, hundredths: 0 } });
    at += ENTRY;
  }
  for (const { name, target } of d.children) {
    if (name.long !== undefined) {
      putLongEntries(b, at, name.long, name.short);
      at += longEntryCount(name.long) * ENTRY;
    }
    const size = target.kind === 'file' ? target.file.data.size : 0;
    putShortEntry(b, at, { short: name.short, attr: target.kind === 'dir' ? ATTR_DIRECTORY : ATTR_ARCHIVE, cluster: target.firstCluster, size, time: v.time });
    at += ENTRY;
  }
  return b;
}

/** Every directory's parent (the root has none). */
function parents(root: DirPlan): Map<DirPlan, DirPlan> {
  const out = new Map<DirPlan, DirPlan>();
  const visit = (d: DirPlan) => {
    for (const { target } of d.children) {
      if (target.kind === 'dir') {
        out.set(target, d);
        visit(target);
      }
    }
  };
  visit(root);
  return out;
}

/** Where the non-zero bytes can be: boot sectors, the used part of each FAT, the root's used slots, the used clusters. */
function regions(v: Volume): { reserved: ByteRange[]; fats: ByteRange[]; root: ByteRange | undefined; data: ByteRange } {
  const { g, placement } = v;
  const reserved = g.fatType === 32 ? [{ offset: 0, length: 2 * SECTOR }, { offset: BACKUP_BOOT_SECTOR * SECTOR, length: 2 * SECTOR }] : [{ offset: 0, length: SECTOR }];
  const fatUsed = fatBytesFor(g.fatType, placement.usedClusters + 2);
  const fats = Array.from({ length: g.fatCount }, (_, i) => ({ offset: (g.reservedSectors + i * g.fatSectors) * SECTOR, length: fatUsed }));
  const rootOffset = (g.reservedSectors + g.fatCount * g.fatSectors) * SECTOR;
  const root = g.fatType === 32 || v.plan.entryCount === 0 ? undefined : { offset: rootOffset, length: v.plan.entryCount * ENTRY };
  const data = { offset: dataStartSector(g) * SECTOR, length: placement.usedClusters * clusterBytes(g) };
  return { reserved, fats, root, data };
}

async function* streamVolume(v: Volume): AsyncGenerator<SparseChunk> {
  const { g, placement } = v;
  const r = regions(v);
  let at = 0;
  const gapTo = (offset: number): SparseChunk[] => {
    const n = offset - at;
    at = offset;
    return n > 0 ? [{ zeros: n }] : [];
  };
  const boot = bootSector(g, { label: v.label ?? NO_NAME, volumeId: v.volumeId, hiddenSectors: v.hiddenSectors });
  const free = g.clusterCount - placement.usedClusters;
  // The last cluster taken: Linux starts looking for free ones after it, the specification at it.
  const fsInfo = fsInfoSector(free, free > 0 ? 1 + placement.usedClusters : 0xffffffff);
  for (const region of r.reserved) {
    yield* gapTo(region.offset);
    yield boot;
    if (g.fatType === 32) yield fsInfo;
    at += region.length;
  }
  for (const fat of r.fats) {
    yield* gapTo(fat.offset);
    yield* fatPieces(g, placement.extents, placement.usedClusters);
    at += fat.length;
  }
  if (r.root !== undefined) {
    yield* gapTo(r.root.offset);
    yield directoryBytes(v, v.plan, undefined, r.root.length);
    at += r.root.length;
  }
  yield* gapTo(r.data.offset);
  yield* streamExtents(v, placement.extents);
  at += r.data.length;
  yield* gapTo(v.size);
}

/** The data area: directories built from their plans, files streamed from their sources, each padded to whole clusters. */
async function* streamExtents(v: Volume, extents: readonly Extent[]): AsyncGenerator<Uint8Array> {
  const bytes = clusterBytes(v.g);
  const parentOf = parents(v.plan);
  const out = new Batcher();
  for (const { item: e, data } of readAhead(extents.values(), (e) => (e.kind === 'file' ? e.file.data : undefined))) {
    const length = e.clusters * bytes;
    if (e.kind === 'dir') {
      out.put(directoryBytes(v, e, parentOf.get(e), length));
    } else {
      const size = e.file.data.size;
      let got = 0;
      for await (const chunk of data ? await data : e.file.data.stream()) {
        got += chunk.length;
        if (got > size) break;
        out.put(chunk);
        if (out.pending) yield* out.take();
      }
      if (got !== size) throw new FatError(`file ${JSON.stringify(`/${binaryToText(e.path)}`)}: its data source yielded ${got > size ? 'more than' : got} bytes, but its size is ${size}`);
      out.zeros(length - size);
    }
    if (out.pending) yield* out.take();
  }
  out.flush();
  yield* out.take();
}

/**
 * The FAT volume holding `contents`, as mkfs.fat + mcopy would make it: the FAT type, cluster size
 * and layout mkfs.fat chooses for the size, VFAT long names with 8.3 short names, all times
 * `mtime`. Laid out at once (a FatError here names what cannot be written); streamed on demand.
 */
export function fatImage(contents: FatContents, opts: FatOptions): SparseSource {
  const v = layOut(contents, opts);
  const r = regions(v);
  const ranges: ByteRange[] = [...r.reserved, ...r.fats, ...(r.root ? [r.root] : []), ...(r.data.length > 0 ? [r.data] : [])];
  return { size: v.size, allocated: () => ranges, chunks: () => streamVolume(v) };
}

/** The same volume as plain bytes, zeros spelled out. */
export function fatStream(contents: FatContents, opts: FatOptions): AsyncGenerator<Uint8Array> {
  return denseChunks(fatImage(contents, opts));
}

/** The size fatImage gives the tree when no size is asked for. */
export function fatAutoSize(contents: FatContents, opts: Omit<FatOptions, 'size' | 'mtime' | 'volumeId'> = {}): number {
  return layOut(contents, { ...opts, mtime: 0, volumeId: 0 }).size;
}
