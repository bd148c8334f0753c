import { sortedEntries, walk, type ImageDir, type ImageFile, type ImageNode } from '../image/tree.ts';
import { binaryToText, textToBinary, type BinaryString } from '../io/binary-string.ts';
import { createSha256 } from '../primitives/sha256.ts';
import { SECTOR, sectors } from './both-endian.ts';
import { encodeDirectory, FLAG_DIR, FLAG_MULTI_EXTENT, type RecordSpec } from './directory-record.ts';
import { HYBRID_ALIGN_SECTORS, type HybridParams } from './isohybrid.ts';
import { isoNameParts, jolietNameParts, uniqueNames, type NameParts } from './names.ts';
import { pathTableSize, type PathTableDir } from './path-table.ts';
import { erEntry, nmEntries, pxEntry, rrMode, slEntries, spEntry, tfEntry } from './rock-ridge.ts';
import type { ResolvedIsoOptions } from './iso-options.ts';

/** A directory of the ISO 9660 or of the Joliet hierarchy, with its place once laid out. */
export interface DirNode {
  image: ImageDir;
  parent: DirNode | null;
  /** Path in the tree, for messages. */
  path: BinaryString;
  entries: Entry[];
  lba: number;
  size: number;
  ceLba: number;
  ceSize: number;
}

export interface Entry {
  id: Uint8Array;
  name: BinaryString;
  node: ImageNode;
  dir: DirNode | null;
}

export interface Hierarchy {
  kind: 'iso' | 'joliet';
  root: DirNode;
  /** Pre-order, the order their extents are written in. */
  dirs: DirNode[];
  /** Path table order: by level, parent, identifier. */
  pathOrder: DirNode[];
  pathTableSize: number;
  lPathLba: number;
  mPathLba: number;
}

export interface PlacedFile {
  file: ImageFile;
  path: BinaryString;
  lba: number;
  /** The El Torito BIOS image, written with its boot-info-table patched in. */
  bootInfo: boolean;
}

export interface IsoLayout {
  opts: ResolvedIsoOptions;
  iso: Hierarchy;
  joliet: Hierarchy;
  pvdLba: number;
  bootRecordLba: number | undefined;
  jolietVdLba: number;
  terminatorLba: number;
  /** One block of zeros that empty files and symlinks point at, as in xorriso's images. */
  zeroLba: number;
  catalog: { lba: number; file: ImageFile } | undefined;
  files: PlacedFile[];
  fileLba: Map<ImageFile, number>;
  bootFile: PlacedFile | undefined;
  efiFile: PlacedFile | undefined;
  dataEnd: number;
  totalSectors: number;
  hybrid: HybridParams | undefined;
}

/** xorriso -as mkisofs pads every image with 300 KiB (-pad). */
const PAD_SECTORS = 150;
const CATALOG_NAME = '.boot.cat';

function ucs2be(s: string): Uint8Array {
  const out = new Uint8Array(2 * s.length);
  for (let i = 0; i < s.length; i++) {
    out[2 * i] = s.charCodeAt(i) >> 8;
    out[2 * i + 1] = s.charCodeAt(i) & 0xff;
  }
  return out;
}

function latin1(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function buildHierarchy(kind: 'iso' | 'joliet', image: ImageDir, extra: [BinaryString, ImageNode][]): Hierarchy {
  const dirs: DirNode[] = [];
  const build = (img: ImageDir, parent: DirNode | null, path: BinaryString, more: [BinaryString, ImageNode][]): DirNode => {
    const dir: DirNode = { image: img, parent, path, entries: [], lba: 0, size: 0, ceLba: 0, ceSize: 0 };
    dirs.push(dir);
    // Joliet cannot hold symlinks; xorriso leaves them out of it too.
    const children = [...sortedEntries(img), ...more].filter(([, n]) => kind === 'iso' || n.kind !== 'symlink');
    const parts: NameParts[] = children.map(([name, n]) => (kind === 'iso' ? isoNameParts : jolietNameParts)(name, n.kind === 'dir'));
    const ids = uniqueNames(parts, `directory /${binaryToText(path)}`);
    dir.entries = children
      .map(([name, node], i) => ({ id: kind === 'iso' ? latin1(ids[i]!) : ucs2be(ids[i]!), name, node, dir: null as DirNode | null }))
      .sort((a, b) => compareBytes(a.id, b.id));
    for (const e of dir.entries) if (e.node.kind === 'dir') e.dir = build(e.node, dir, path === '' ? e.name : `${path}/${e.name}`, []);
    return dir;
  };
  const root = build(image, null, '', extra);
  const pathOrder: DirNode[] = [];
  for (const queue = [root]; queue.length > 0; ) {
    const d = queue.shift()!;
    pathOrder.push(d);
    for (const e of d.entries) if (e.dir) queue.push(e.dir);
  }
  const h: Hierarchy = { kind, root, dirs, pathOrder, pathTableSize: 0, lPathLba: 0, mPathLba: 0 };
  h.pathTableSize = pathTableSize(pathTableDirs(h));
  return h;
}

export function pathTableDirs(h: Hierarchy): PathTableDir[] {
  const number = new Map(h.pathOrder.map((d, i) => [d, i + 1]));
  return h.pathOrder.map((d) => {
    const entry = d.parent?.entries.find((e) => e.dir === d);
    return { id: entry ? entry.id : new Uint8Array([0]), lba: d.lba, parentNumber: d.parent ? number.get(d.parent)! : 1 };
  });
}

/** The records of one directory: ".", "..", then the entries, files over the extent limit as several records. */
export function directoryRecords(layout: Pick<IsoLayout, 'opts' | 'fileLba' | 'zeroLba'>, h: Hierarchy, dir: DirNode): RecordSpec[] {
  const { epoch, maxExtentSize } = layout.opts;
  const rr = h.kind === 'iso';
  const tf = rr ? tfEntry(epoch) : new Uint8Array(0);
  const dirPx = rr ? pxEntry(rrMode('dir', 0o555)) : new Uint8Array(0);
  const parent = dir.parent ?? dir;
  const out: RecordSpec[] = [
    { id: new Uint8Array([0]), lba: dir.lba, size: dir.size, flags: FLAG_DIR, susp: rr ? { fixed: dir.parent ? [dirPx, tf] : [spEntry(), dirPx, tf], name: [], rest: dir.parent ? [] : [erEntry()] } : null },
    { id: new Uint8Array([1]), lba: parent.lba, size: parent.size, flags: FLAG_DIR, susp: rr ? { fixed: [dirPx, tf], name: [], rest: [] } : null },
  ];
  for (const e of dir.entries) {
    const node = e.node;
    const susp = (rest: Uint8Array[]) =>
      rr ? { fixed: [pxEntry(rrMode(node.kind, node.kind === 'symlink' ? 0o777 : node.mode)), tf], name: (room: number) => nmEntries(e.name, room), rest } : null;
    if (node.kind === 'dir') out.push({ id: e.id, lba: e.dir!.lba, size: e.dir!.size, flags: FLAG_DIR, susp: susp([]) });
    else if (node.kind === 'symlink') out.push({ id: e.id, lba: layout.zeroLba, size: 0, flags: 0, susp: susp(slEntries(node.target)) });
    else {
      const size = node.data.size;
      const lba = size === 0 ? layout.zeroLba : (layout.fileLba.get(node) ?? 0);
      const extents = Math.max(1, Math.ceil(size / maxExtentSize));
      for (let k = 0; k < extents; k++) {
        const part = Math.min(maxExtentSize, size - k * maxExtentSize);
        out.push({ id: e.id, lba: lba + (k * maxExtentSize) / SECTOR, size: part, flags: k < extents - 1 ? FLAG_MULTI_EXTENT : 0, susp: susp([]) });
      }
    }
  }
  return out;
}

/** 20 bytes that depend on everything the image is made of, for GUIDs and the MBR signature. */
function inputSeed(root: ImageDir, volumeID: string): Uint8Array {
  const h = createSha256();
  h.update(latin1(`${volumeID}\0`));
  for (const { path, node } of walk(root)) {
    const size = node.kind === 'file' ? node.data.size : node.kind === 'symlink' ? node.target : '';
    h.update(latin1(`${path}\0${node.kind}\0${size}\0`));
  }
  return h.digest().subarray(0, 20);
}

/**
 * Assigns every block of the image, as libisofs does before writing: system area,
 * volume descriptors, the ISO 9660 directories (each followed by its Rock Ridge
 * continuation blocks) and path tables, the same for Joliet, a zero block, the boot
 * catalog, the EFI image, the boot image's directory (--sort-weight 1 /isolinux),
 * the remaining files in directory order, then padding.
 */
export function layoutIso(root: ImageDir, opts: ResolvedIsoOptions, catalogData: (layout: IsoLayout) => ImageFile['data']): IsoLayout {
  const boot = opts.bootImage !== undefined || opts.efiBootImage !== undefined;
  const layoutRef: { current?: IsoLayout } = {};
  const catalogFile: ImageFile | undefined = boot
    ? { kind: 'file', mode: 0o444, data: { size: SECTOR, stream: () => catalogData(layoutRef.current!).stream() } }
    : undefined;
  const extra: [BinaryString, ImageNode][] = catalogFile ? [[CATALOG_NAME, catalogFile]] : [];
  if (catalogFile && root.entries.has(CATALOG_NAME)) throw new Error(`the image tree already has /${CATALOG_NAME}, where the boot catalog goes`);
  const iso = buildHierarchy('iso', root, extra);
  const joliet = buildHierarchy('joliet', root, extra);

  let cursor = 16;
  const pvdLba = cursor++;
  const bootRecordLba = boot ? cursor++ : undefined;
  const jolietVdLba = cursor++;
  const terminatorLba = cursor++;

  const layout: IsoLayout = {
    opts, iso, joliet, pvdLba, bootRecordLba, jolietVdLba, terminatorLba,
    zeroLba: 0, catalog: undefined, files: [], fileLba: new Map(), bootFile: undefined, efiFile: undefined,
    dataEnd: 0, totalSectors: 0, hybrid: undefined,
  };
  for (const h of [iso, joliet]) {
    for (const dir of h.dirs) {
      const { extent, ce } = encodeDirectory(directoryRecords(layout, h, dir), 0, opts.epoch);
      dir.lba = cursor;
      dir.size = extent.length;
      cursor += extent.length / SECTOR;
      dir.ceLba = cursor;
      dir.ceSize = ce.length;
      cursor += ce.length / SECTOR;
    }
    const tableSectors = sectors(h.pathTableSize);
    h.lPathLba = cursor;
    h.mPathLba = cursor + tableSectors;
    cursor += 2 * tableSectors;
  }
  layout.zeroLba = cursor++;
  if (catalogFile) {
    layout.catalog = { lba: cursor, file: catalogFile };
    layout.fileLba.set(catalogFile, cursor++);
  }

  const place = (file: ImageFile, path: BinaryString, bootInfo = false): PlacedFile | undefined => {
    if (layout.fileLba.has(file) || file.data.size === 0) return undefined;
    const placed = { file, path, lba: cursor, bootInfo };
    layout.fileLba.set(file, cursor);
    layout.files.push(placed);
    cursor += sectors(file.data.size);
    return placed;
  };
  const fileAt = (path: string) => {
    const parts = textToBinary(path).split('/').filter((p) => p !== '');
    let node: ImageNode = root;
    for (const p of parts) node = (node as ImageDir).entries.get(p)!;
    return { file: node as ImageFile, path: parts.join('/') };
  };
  if (opts.efiBootImage !== undefined) {
    const { file, path } = fileAt(opts.efiBootImage);
    layout.efiFile = place(file, path);
  }
  const isoFiles = (dir: DirNode, visit: (e: Entry, path: BinaryString) => void) => {
    const go = (d: DirNode) => {
      for (const e of d.entries) {
        if (e.dir) go(e.dir);
        else if (e.node.kind === 'file' && e.node !== catalogFile) visit(e, d.path === '' ? e.name : `${d.path}/${e.name}`);
      }
    };
    go(dir);
  };
  if (opts.bootImage !== undefined) {
    const { file, path } = fileAt(opts.bootImage);
    const bootDirPath = path.split('/').slice(0, -1).join('/');
    const bootDir = iso.dirs.find((d) => d.path === bootDirPath)!;
    // The boot image's directory goes first, like --sort-weight 1 /isolinux.
    isoFiles(bootDir, (e, p) => place(e.node as ImageFile, p, e.node === file));
    layout.bootFile = layout.files.find((f) => f.file === file);
  }
  isoFiles(iso.root, (e, p) => place(e.node as ImageFile, p));
  layout.dataEnd = cursor;
  let total = cursor + PAD_SECTORS;
  if (opts.isohybridMbr || (opts.efiPartitionTable && layout.efiFile)) {
    total = Math.ceil(total / HYBRID_ALIGN_SECTORS) * HYBRID_ALIGN_SECTORS;
    const efi = layout.efiFile ? { lba: layout.efiFile.lba, size: layout.efiFile.file.data.size } : undefined;
    const bios = opts.isohybridMbr ? { mbrCode: opts.isohybridMbr, bootLba: layout.bootFile!.lba } : {};
    layout.hybrid = { ...bios, totalSectors: total, seed: inputSeed(root, opts.volumeID), ...(efi ? { efi } : {}) };
  }
  layout.totalSectors = total;
  layoutRef.current = layout;
  return layout;
}
