// make-disk-image.nix with partitionTableType = "efi": `parted mkpart ESP fat32 8MiB <bootSize>`,
// `set 1 boot on`, `mkpart primary ext4 <bootSize> -1`, then sgdisk fixes the GUIDs. parted aligns
// partition edges to whole MiB, so the ESP ends and the root begins at bootSize rounded down to a
// MiB, and the root ends at the last whole MiB before the backup GPT.
import type { SparseSource } from '../io/sparse.ts';
import { GptError, lastUsableLba, LBA, PARTITION_TYPE } from '../primitives/gpt.ts';
import { guidBytes } from '../primitives/guid.ts';
import { partitionedDisk, type DiskLayout } from './partitioned-disk.ts';

const MIB = 1 << 20;
const MIB_LBAS = MIB / LBA;
/** nixpkgs' default bootSize "256M", which parted reads as 256 000 000 bytes: the ESP ends at 244 MiB. */
export const DEFAULT_BOOT_SIZE = 256_000_000;

/**
 * nixpkgs' fixed GUIDs. The disk GUID is what sgdisk makes of make-disk-image.nix's
 * "97FD5997-D90B-4AA3-8D16-C1723AEA73C" (one hex digit short): these are the bytes its images carry.
 */
export const NIXPKGS_GUID = {
  disk: '97FD5997-F390-0B4A-A3F8-D106C1723AEA',
  esp: '1C06F03B-704E-4657-B9CD-681A087A2FDC',
  root: 'F222513B-DED1-49FA-B591-20CE86A2FE7F',
} as const;

export interface EfiPartitionSpan {
  /** Byte offset and length of the partition on the disk. */
  readonly offset: number;
  readonly size: number;
}

export interface EfiGeometry {
  readonly diskSize: number;
  readonly esp: EfiPartitionSpan;
  readonly root: EfiPartitionSpan;
}

const ESP_START = 8 * MIB;

/** Where make-disk-image's efi layout puts the ESP and the root on a disk of `diskSize` bytes. */
export function efiGeometry(diskSize: number, bootSize = DEFAULT_BOOT_SIZE): EfiGeometry {
  if (diskSize % LBA !== 0) throw new GptError(`disk size ${diskSize} is not a whole number of 512-byte sectors`);
  const rootStart = Math.floor(bootSize / MIB) * MIB;
  if (rootStart <= ESP_START) throw new GptError(`bootSize ${bootSize} leaves no room for the ESP, which starts at 8 MiB`);
  const rootEnd = Math.floor((lastUsableLba({ blocks: diskSize / LBA, diskGuid: new Uint8Array(16), partitions: [] }) + 1) / MIB_LBAS) * MIB;
  if (rootEnd <= rootStart) throw new GptError(`disk size ${diskSize} leaves no room for a root partition after the ESP, which ends at ${rootStart}`);
  return { diskSize, esp: { offset: ESP_START, size: rootStart - ESP_START }, root: { offset: rootStart, size: rootEnd - rootStart } };
}

export interface EfiDiskContents {
  readonly esp?: SparseSource;
  readonly root?: SparseSource;
  /** Root partition type; make-disk-image uses the plain Linux filesystem type. */
  readonly rootType?: Uint8Array;
}

const span = (s: EfiPartitionSpan) => ({ first: s.offset / LBA, last: (s.offset + s.size) / LBA - 1 });

/** The GPT of make-disk-image's efi layout with the nixpkgs GUIDs, the ESP and the root in place. */
export function efiDiskLayout(g: EfiGeometry, contents: EfiDiskContents = {}): DiskLayout {
  return {
    blocks: g.diskSize / LBA,
    diskGuid: guidBytes(NIXPKGS_GUID.disk),
    partitions: [
      { ...span(g.esp), name: 'ESP', type: guidBytes(PARTITION_TYPE.esp), guid: guidBytes(NIXPKGS_GUID.esp), content: contents.esp },
      { ...span(g.root), name: 'primary', type: contents.rootType ?? guidBytes(PARTITION_TYPE.linuxFilesystem), guid: guidBytes(NIXPKGS_GUID.root), content: contents.root },
    ],
  };
}

export const efiDisk = (g: EfiGeometry, contents: EfiDiskContents = {}): SparseSource => partitionedDisk(efiDiskLayout(g, contents));
