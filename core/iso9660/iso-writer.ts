import type { ImageDir } from '../image/tree.ts';
import { concatBytes } from '../io/bytes.ts';
import { readAhead } from '../io/read-ahead.ts';
import { binaryToText } from '../io/binary-string.ts';
import { bytesSource } from '../io/data-source.ts';
import { SECTOR } from './both-endian.ts';
import { rootRecord, encodeDirectory } from './directory-record.ts';
import { bootCatalog, efiSectorCount, patchBootInfoTable } from './el-torito.ts';
import { gptBackup, hybridSystemArea } from './isohybrid.ts';
import { validateIsoOptions, type IsoOptions } from './iso-options.ts';
import { directoryRecords, layoutIso, pathTableDirs, type Hierarchy, type IsoLayout, type PlacedFile } from './layout.ts';
import { pathTable } from './path-table.ts';
import { bootRecordDescriptor, jolietVolumeDescriptor, primaryVolumeDescriptor, terminatorDescriptor, type VolumeFields } from './volume-descriptor.ts';
import { NixImagerError } from '../errors.ts';

export class IsoWriteError extends NixImagerError {
  override name = 'IsoWriteError';
  readonly code = 'image';
}

function catalogFor(layout: IsoLayout) {
  const bios = layout.bootFile ? { lba: layout.bootFile.lba, sectors: 4 } : undefined;
  const efi = layout.efiFile ? { lba: layout.efiFile.lba, sectors: efiSectorCount(layout.efiFile.file.data.size) } : undefined;
  return bytesSource(bootCatalog(bios, efi));
}

/** Lays the image out without writing it; `totalSectors * 2048` is the image size. */
export function isoLayout(root: ImageDir, opts: IsoOptions): IsoLayout {
  return layoutIso(root, validateIsoOptions(root, opts), catalogFor);
}

/** Size in bytes of the image isoStream(root, opts) yields. */
export function isoSize(root: ImageDir, opts: IsoOptions): number {
  return isoLayout(root, opts).totalSectors * SECTOR;
}

function volumeFields(layout: IsoLayout, h: Hierarchy): VolumeFields {
  const { opts } = layout;
  return {
    volumeID: opts.volumeID,
    publisher: opts.publisher,
    appID: opts.appID,
    epoch: opts.epoch,
    volumeSectors: layout.totalSectors,
    pathTableSize: h.pathTableSize,
    lPathTableLba: h.lPathLba,
    mPathTableLba: h.mPathLba,
    rootRecord: rootRecord(h.root.lba, h.root.size, opts.epoch),
  };
}

function padded(bytes: Uint8Array): Uint8Array {
  if (bytes.length % SECTOR === 0) return bytes;
  const out = new Uint8Array(Math.ceil(bytes.length / SECTOR) * SECTOR);
  out.set(bytes);
  return out;
}

const ZEROS = new Uint8Array(1 << 20);

function* zeros(n: number): Generator<Uint8Array> {
  for (; n > 0; n -= ZEROS.length) yield ZEROS.subarray(0, Math.min(n, ZEROS.length));
}

async function* fileData(layout: IsoLayout, f: PlacedFile, prefetched: Promise<Uint8Array[]> | undefined): AsyncGenerator<Uint8Array> {
  const { size } = f.file.data;
  const shown = `/${binaryToText(f.path)}`;
  if (f.bootInfo) {
    const parts: Uint8Array[] = [];
    for await (const chunk of f.file.data.stream()) parts.push(chunk);
    const whole = concatBytes(parts);
    if (whole.length !== size) throw new IsoWriteError(`boot image ${shown} has ${whole.length} bytes, expected ${size}`);
    yield patchBootInfoTable(whole, f.lba, layout.pvdLba);
  } else {
    let got = 0;
    for await (const chunk of prefetched ? await prefetched : f.file.data.stream()) {
      got += chunk.length;
      if (got > size) throw new IsoWriteError(`${shown} grew beyond its ${size} bytes while being written`);
      yield chunk;
    }
    if (got !== size) throw new IsoWriteError(`${shown} has ${got} bytes, expected ${size}`);
  }
  yield* zeros((SECTOR - (size % SECTOR)) % SECTOR);
}

/**
 * The ISO image of `root`, as make-iso9660-image.sh's xorriso command builds it, yielded
 * strictly in order: everything is placed first (metadata only), then file data streams
 * through without being held, so memory depends on the number of entries, not their size.
 */
export async function* isoStream(root: ImageDir, opts: IsoOptions): AsyncGenerator<Uint8Array> {
  const layout = isoLayout(root, opts);
  const { epoch } = layout.opts;
  let at = 0;
  // Every piece is checked to land on the block the layout gave it.
  const expect = (lba: number, what: string) => {
    if (at !== lba * SECTOR) throw new IsoWriteError(`internal layout error: ${what} at byte ${at}, planned for block ${lba}`);
  };
  function* emit(bytes: Uint8Array): Generator<Uint8Array> {
    at += bytes.length;
    yield bytes;
  }

  yield* emit(layout.hybrid ? hybridSystemArea(layout.hybrid) : new Uint8Array(16 * SECTOR));
  expect(layout.pvdLba, 'primary volume descriptor');
  yield* emit(primaryVolumeDescriptor(volumeFields(layout, layout.iso)));
  if (layout.bootRecordLba !== undefined) yield* emit(bootRecordDescriptor(layout.catalog!.lba));
  expect(layout.jolietVdLba, 'Joliet volume descriptor');
  yield* emit(jolietVolumeDescriptor(volumeFields(layout, layout.joliet)));
  yield* emit(terminatorDescriptor());
  for (const h of [layout.iso, layout.joliet]) {
    for (const dir of h.dirs) {
      expect(dir.lba, `directory /${binaryToText(dir.path)}`);
      const { extent, ce } = encodeDirectory(directoryRecords(layout, h, dir), dir.ceLba, epoch);
      yield* emit(extent);
      yield* emit(ce);
    }
    expect(h.lPathLba, 'path table');
    const dirs = pathTableDirs(h);
    yield* emit(padded(pathTable(dirs, false)));
    yield* emit(padded(pathTable(dirs, true)));
  }
  expect(layout.zeroLba, 'zero block');
  yield* emit(new Uint8Array(SECTOR));
  if (layout.catalog) {
    expect(layout.catalog.lba, 'boot catalog');
    for await (const chunk of layout.catalog.file.data.stream()) yield* emit(chunk);
  }
  // Small files are read a few at a time ahead: waiting on each read in turn, not the bytes, is what costs.
  for (const { item: f, data } of readAhead(layout.files[Symbol.iterator](), (p) => (p.bootInfo ? undefined : p.file.data))) {
    expect(f.lba, `/${binaryToText(f.path)}`);
    for await (const chunk of fileData(layout, f, data)) yield* emit(chunk);
  }
  expect(layout.dataEnd, 'end of data');
  const tail = layout.hybrid?.efi ? gptBackup(layout.hybrid) : new Uint8Array(0);
  for (const z of zeros(layout.totalSectors * SECTOR - at - tail.length)) yield* emit(z);
  yield* emit(tail);
}
