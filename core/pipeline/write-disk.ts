// "format": "disk": the ESP (FAT32) and the root (ext4) laid out, placed in make-disk-image's
// efi GPT layout, and streamed once through the chosen container (raw, qcow2, VHD, VMDK, VDI),
// then the compressor, to the sink. Sizes follow make-disk-image's diskSize "auto" rule.
import { efiDisk, efiGeometry, NIXPKGS_GUID, type EfiGeometry } from '../disk/efi-layout.ts';
import { ext4Image, Ext4Error } from '../ext4/ext4-writer.ts';
import { fatImage } from '../fat/fat-writer.ts';
import { walk, type ImageDir } from '../image/tree.ts';
import { denseChunks, isZeros, type SparseSource } from '../io/sparse.ts';
import type { ContainerImage } from '../io/sparse-blocks.ts';
import type { ByteSink, HoleSink } from '../io/sink.ts';
import { DISK_ROOT_LABEL } from '../nixos/disk-system.ts';
import { createSha256 } from '../primitives/sha256.ts';
import { qcow2Image } from '../qcow2/qcow2-writer.ts';
import { vdiImage } from '../vdi/vdi-writer.ts';
import { vhdDynamicImage, vhdFixedImage } from '../vhd/vhd-writer.ts';
import { vmdkImage } from '../vmdk/vmdk-writer.ts';
import { ConfigError, type BuildConfig, type DiskConfig } from './config.ts';
import { NixImagerError } from '../errors.ts';

const MIB = 1 << 20;
const BLOCK = 4096;
/** The backup GPT and its header, which make-disk-image's "auto" size reserves too. */
const GPT_SPACE = 34 * 512;

export class DiskSizeError extends NixImagerError {
  override name = 'DiskSizeError';
  readonly code = 'config';
}

/** 16 bytes that depend only on the toplevel and what they are for. */
function seedBytes(toplevel: string, purpose: string): Uint8Array {
  const h = createSha256();
  h.update(new TextEncoder().encode(`nix-imager disk\0${toplevel}\0${purpose}`));
  return h.digest().slice(0, 16);
}

const uuidText = (b: Uint8Array): string => {
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

const roundUpMiB = (n: number) => Math.ceil(n / MIB) * MIB;

/**
 * make-disk-image's diskSize "auto": the root's files in 4 KiB blocks (apparent sizes, as
 * `du --apparent-size --block-size 4096`) plus two blocks per inode, plus 5.2 % for ext4's
 * reserved blocks, plus additionalSpace, the GPT and bootSize (as numfmt reads it), in whole MiB.
 */
export function nixpkgsAutoSize(root: ImageDir, disk: DiskConfig): number {
  let blocks = 0;
  let inodes = 1;
  for (const { node } of walk(root)) {
    inodes++;
    if (node.kind === 'file') blocks += Math.ceil(node.data.size / BLOCK);
    else if (node.kind === 'symlink') blocks += Math.ceil(node.target.length / BLOCK);
  }
  const usage = (blocks + 2 * inodes) * BLOCK;
  const required = usage + Math.floor((usage * 52) / 1000);
  return roundUpMiB(required + disk.additionalSpace + GPT_SPACE + disk.bootReserve);
}

function rootFs(root: ImageDir, g: EfiGeometry, toplevel: string, epoch: number): SparseSource {
  return ext4Image(root, { label: DISK_ROOT_LABEL, uuid: NIXPKGS_GUID.root.toLowerCase(), hashSeed: uuidText(seedBytes(toplevel, 'ext4 hash seed')), time: epoch, size: g.root.size });
}

/** The root file system on the configured (or "auto") disk; a disk too small says how large it must be. */
function layOut(root: ImageDir, disk: DiskConfig, toplevel: string, epoch: number): { g: EfiGeometry; fs: SparseSource } {
  const attempt = (size: number) => {
    const g = efiGeometry(size, disk.bootEnd);
    return { g, fs: rootFs(root, g, toplevel, epoch) };
  };
  // The smallest disk whose root partition holds the least ext4 the tree fits in.
  const least = () => {
    const fs = ext4Image(root, { uuid: NIXPKGS_GUID.root, hashSeed: NIXPKGS_GUID.root, time: 0, size: 'auto' });
    return Math.floor(disk.bootEnd / MIB) * MIB + roundUpMiB(fs.size) + MIB;
  };
  if (disk.diskSize !== 'auto') {
    try {
      return attempt(disk.diskSize);
    } catch (e) {
      if (!(e instanceof Ext4Error)) throw e;
      throw new DiskSizeError(`config: diskSize: ${disk.diskSize} bytes is too small for the root file system: the disk needs at least ${least()} bytes (${e.message})`);
    }
  }
  const size = nixpkgsAutoSize(root, disk);
  try {
    return attempt(size);
  } catch (e) {
    if (!(e instanceof Ext4Error)) throw e;
    // Our ext4 needs more than make-disk-image's estimate: give it that plus the same additionalSpace.
    return attempt(roundUpMiB(least() + disk.additionalSpace));
  }
}

function container(config: BuildConfig, raw: SparseSource): ContainerImage {
  const top = config.toplevel!;
  switch (config.disk!.diskFormat) {
    case 'raw':
      return raw;
    case 'qcow2':
      return qcow2Image(raw);
    case 'vhd':
      return vhdFixedImage(raw, { uniqueId: seedBytes(top, 'vhd unique id') });
    case 'vhd-dynamic':
      return vhdDynamicImage(raw, { uniqueId: seedBytes(top, 'vhd unique id') });
    case 'vmdk':
      return vmdkImage(raw, { cid: new DataView(seedBytes(top, 'vmdk cid').buffer).getUint32(0), fileName: config.fileName.replace(/\.[^.]*$/, '') });
    case 'vdi':
      return vdiImage(raw, { uuid: seedBytes(top, 'vdi uuid') });
  }
}

const canSkip = (sink: ByteSink): sink is HoleSink => typeof (sink as Partial<HoleSink>).skip === 'function';

export interface DiskParts {
  /** The root file system's tree (store, database, profile, /etc). */
  root: ImageDir;
  /** The ESP's tree. */
  esp: ImageDir;
}

/** The disk's chunks, sized and laid out; everything that can be refused is refused before the first one. */
export function diskImage(config: BuildConfig, parts: DiskParts): { image: ContainerImage; diskSize: number } {
  const disk = config.disk;
  if (disk === null || config.toplevel === null) throw new ConfigError('format', '"disk" needs a toplevel');
  const { g, fs } = layOut(parts.root, disk, config.toplevel, config.sourceDateEpoch);
  const esp = fatImage(parts.esp, { mtime: config.sourceDateEpoch, size: g.esp.size, fatType: 32, label: 'ESP', hiddenSectors: g.esp.offset / 512 });
  return { image: container(config, efiDisk(g, { esp, root: fs })), diskSize: g.diskSize };
}

/** Streams `image` to `sink`: holes where the sink can leave them and nothing compresses, else bytes. */
export async function pumpImage(image: ContainerImage, sink: ByteSink, compress: (input: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>, plain: boolean): Promise<number> {
  let n = 0;
  if (plain && canSkip(sink)) {
    for await (const c of image.chunks()) {
      if (isZeros(c)) await sink.skip(c.zeros);
      else await sink.write(c);
      n += isZeros(c) ? c.zeros : c.length;
    }
    return n;
  }
  for await (const c of compress(denseChunks(image))) {
    await sink.write(c);
    n += c.length;
  }
  return n;
}
