// The options of the ext4 writer and their checks, all made before any layout.
import { binaryToBytes, textToBinary } from '../io/binary-string.ts';
import { Ext4Error } from './ext4-error.ts';

export interface Ext4Options {
  /** Volume label, at most 16 bytes of UTF-8 (NixOS finds its root by `nixos`). */
  label?: string;
  /** File system UUID as mke2fs -U takes it (8-4-4-4-12 hex). */
  uuid: string;
  /** Directory hash seed in the same form (mke2fs -E hash_seed=). */
  hashSeed: string;
  /** Seconds since 1970: every inode's times and the superblock's (SOURCE_DATE_EPOCH). */
  time: number;
  /** Bytes of the file system (whole 4 KiB blocks are used), or the least that holds the contents plus `headroom`. */
  size: number | 'auto';
  /** With `size: 'auto'`, free bytes to leave beyond the contents; default 0. */
  headroom?: number;
  /**
   * Bytes per inode, as mke2fs -i; by default what mke2fs.conf gives the size: 4096 under 512 MiB,
   * 16384 to 4 TiB, then 32768 and 65536. With `size: 'auto'` never fewer inodes than the tree needs.
   */
  inodeRatio?: number;
  /** An exact inode count instead (mke2fs -N). */
  inodes?: number;
  /** Blocks reserved for root, in percent (mke2fs -m); default 5. */
  reservedPercent?: number;
}

export function parseUuid(text: string, field: string): Uint8Array {
  const hex = text.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex) || !/^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$/.test(text)) {
    throw new Ext4Error(`${field} ${JSON.stringify(text)} is not a UUID (8-4-4-4-12 hex digits)`);
  }
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
}

export function labelBytes(label: string): Uint8Array {
  const bytes = binaryToBytes(textToBinary(label));
  if (bytes.length > 16) throw new Ext4Error(`label ${JSON.stringify(label)} is ${bytes.length} bytes; ext4 labels hold 16`);
  const out = new Uint8Array(16);
  out.set(bytes);
  return out;
}

/** Inode times hold a signed 32-bit count and two epoch bits: up to 2446. */
const MAX_TIME = 3 * 2 ** 32 + 2 ** 31 - 1;

export function validateOptions(opts: Ext4Options, needed: number): void {
  const whole = (v: number | undefined, min: number, max: number) => v === undefined || (Number.isInteger(v) && v >= min && v <= max);
  if (!whole(opts.time, 0, MAX_TIME)) throw new Ext4Error(`time ${opts.time} is not whole seconds from 1970 to 2446`);
  if (opts.size !== 'auto' && !whole(opts.size, 0, 2 ** 53)) throw new Ext4Error(`size ${opts.size} is not a byte count or "auto"`);
  if (!whole(opts.headroom, 0, 2 ** 53)) throw new Ext4Error(`headroom ${opts.headroom} is not a byte count`);
  if (!whole(opts.inodeRatio, 1024, 64 * 2 ** 20)) throw new Ext4Error(`inodeRatio ${opts.inodeRatio} is not bytes per inode from 1024 to 64 MiB`);
  if (!whole(opts.reservedPercent, 0, 50)) throw new Ext4Error(`reservedPercent ${opts.reservedPercent} is not a whole percentage up to 50`);
  if (!whole(opts.inodes, needed, 2 ** 32 - 1)) throw new Ext4Error(`inodes ${opts.inodes}: the tree needs at least ${needed} (lost+found and the reserved ones included)`);
}
