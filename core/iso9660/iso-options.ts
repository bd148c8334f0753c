import { lookup, type ImageDir } from '../image/tree.ts';
import { textToBinary } from '../io/binary-string.ts';
import { NixImagerError } from '../errors.ts';

/** What make-iso9660-image.sh passes to xorriso, for isoStream. */
export interface IsoOptions {
  /** Volume label, at most 32 printable ASCII characters (NixOS boots by it: root=LABEL=…). */
  volumeID: string;
  /** Application ID, default "nixos". */
  appID?: string;
  /** Publisher, default "nixos". */
  publisher?: string;
  /** Every timestamp in the image; default 315532800 (1980-01-01). */
  sourceDateEpoch?: number;
  /** Path in the tree of the El Torito BIOS boot image (no emulation, load size 4, boot-info-table). */
  bootImage?: string;
  /** Path in the tree of the EFI system partition image (a FAT image). */
  efiBootImage?: string;
  /** syslinux isohdpfx.bin: makes the image bootable as a disk (needs bootImage). */
  isohybridMbr?: Uint8Array;
  /**
   * With efiBootImage and no isohybridMbr: a protective MBR and a GPT whose ESP is the EFI image,
   * so firmware that looks only at partition tables boots the image from a USB stick (xorriso
   * writes no partition table then).
   */
  efiPartitionTable?: boolean;
  /** Largest extent of one file; bigger files get several (multi-extent). Default 0xFFFFF800 like xorriso. */
  maxExtentSize?: number;
}

export class IsoOptionsError extends NixImagerError {
  override name = 'IsoOptionsError';
  readonly code = 'config';
}

export interface ResolvedIsoOptions {
  volumeID: string;
  appID: string;
  publisher: string;
  epoch: number;
  bootImage: string | undefined;
  efiBootImage: string | undefined;
  isohybridMbr: Uint8Array | undefined;
  efiPartitionTable: boolean;
  maxExtentSize: number;
}

export const DEFAULT_EPOCH = 315532800;
export const MAX_EXTENT = 0xfffff800;

function checkText(field: string, value: string, max: number): void {
  if (value.length > max) throw new IsoOptionsError(`${field} ${JSON.stringify(value)} is ${value.length} characters long; at most ${max} fit`);
  if (!/^[\x20-\x7e]*$/.test(value)) throw new IsoOptionsError(`${field} ${JSON.stringify(value)} has characters outside printable ASCII`);
}

function checkBootFile(root: ImageDir, field: string, path: string): void {
  const node = lookup(root, textToBinary(path));
  if (node === undefined) throw new IsoOptionsError(`${field} ${path} is not in the image tree`);
  if (node.kind !== 'file') throw new IsoOptionsError(`${field} ${path} is a ${node.kind}, not a file`);
}

/** Checks the options against the tree and fills in defaults. */
export function validateIsoOptions(root: ImageDir, opts: IsoOptions): ResolvedIsoOptions {
  if (opts.volumeID.length === 0) throw new IsoOptionsError('volume ID is empty');
  checkText('volume ID', opts.volumeID, 32);
  const appID = opts.appID ?? 'nixos';
  const publisher = opts.publisher ?? 'nixos';
  checkText('application ID', appID, 128);
  checkText('publisher', publisher, 128);
  const epoch = opts.sourceDateEpoch ?? DEFAULT_EPOCH;
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 4102444799) throw new IsoOptionsError(`sourceDateEpoch ${epoch} is not a whole number of seconds between 1970 and 2099`);
  if (opts.bootImage !== undefined) checkBootFile(root, 'boot image', opts.bootImage);
  if (opts.efiBootImage !== undefined) checkBootFile(root, 'EFI boot image', opts.efiBootImage);
  if (opts.isohybridMbr !== undefined && opts.bootImage === undefined) throw new IsoOptionsError('isohybrid MBR given without a BIOS boot image for it to load');
  const maxExtentSize = opts.maxExtentSize ?? MAX_EXTENT;
  if (maxExtentSize <= 0 || maxExtentSize > MAX_EXTENT || maxExtentSize % 2048 !== 0) {
    throw new IsoOptionsError(`maxExtentSize ${maxExtentSize} is not a positive multiple of 2048 up to ${MAX_EXTENT}`);
  }
  return { volumeID: opts.volumeID, appID, publisher, epoch, bootImage: opts.bootImage, efiBootImage: opts.efiBootImage, isohybridMbr: opts.isohybridMbr, efiPartitionTable: opts.efiPartitionTable ?? false, maxExtentSize };
}
