import { crc32cUpdate } from '../primitives/crc32c.ts';
import { EXTRA_ISIZE, INODE_SIZE } from './format.ts';

export interface InodeFields {
  /** File type and permission bits. */
  mode: number;
  size: number;
  links: number;
  /** 512-byte sectors held, tree blocks included. */
  sectors: number;
  flags: number;
  /** The 60 bytes of i_block: an extent tree root or a fast symlink's target. */
  block: Uint8Array;
}

const word = new Uint8Array(8);

/** The checksum state every per-inode metadata checksum starts from: the fs seed, inode number, generation (0). */
export function inodeSeed(fsSeed: number, ino: number): number {
  new DataView(word.buffer).setUint32(0, ino, true);
  return crc32cUpdate(fsSeed, word);
}

/** Splits seconds since 1970 into ext4's signed 32-bit field and the epoch bits of the _extra field. */
function timeParts(time: number): [number, number] {
  const low = time | 0;
  return [low >>> 0, ((time - low) / 2 ** 32) & 3];
}

/** Writes a 256-byte inode at `at` of `out`, root-owned, all times `time`, generation 0, checksummed. */
export function writeInode(out: Uint8Array, at: number, ino: number, f: InodeFields, time: number, fsSeed: number): void {
  const inode = out.subarray(at, at + INODE_SIZE);
  inode.fill(0);
  const v = new DataView(inode.buffer, inode.byteOffset, INODE_SIZE);
  const [t, epoch] = timeParts(time);
  v.setUint16(0x00, f.mode, true);
  v.setUint32(0x04, f.size >>> 0, true);
  for (const o of [0x08, 0x0c, 0x10]) v.setUint32(o, t, true);
  v.setUint16(0x1a, f.links, true);
  v.setUint32(0x1c, f.sectors >>> 0, true);
  v.setUint32(0x20, f.flags, true);
  inode.set(f.block, 0x28);
  v.setUint32(0x6c, Math.floor(f.size / 2 ** 32), true);
  v.setUint16(0x74, Math.floor(f.sectors / 2 ** 32), true);
  v.setUint16(0x80, EXTRA_ISIZE, true);
  for (const o of [0x84, 0x88, 0x8c, 0x94]) v.setUint32(o, epoch, true);
  v.setUint32(0x90, t, true);
  const csum = crc32cUpdate(inodeSeed(fsSeed, ino), inode);
  v.setUint16(0x7c, csum & 0xffff, true);
  v.setUint16(0x82, csum >>> 16, true);
}
