import { BLOCK } from './format.ts';

const JBD2_MAGIC = 0xc03b3998;
const SUPERBLOCK_V2 = 4;

/**
 * Journal size in blocks for a file system of `blocks` 4 KiB blocks, as mke2fs picks it
 * (ext2fs_default_journal_size); 0 below the smallest size that takes a journal.
 */
export function defaultJournalBlocks(blocks: number): number {
  if (blocks < 2048) return 0;
  if (blocks < 32768) return 1024;
  if (blocks < 256 * 1024) return 4096;
  if (blocks < 512 * 1024) return 8192;
  if (blocks < 4096 * 1024) return 16384;
  if (blocks < 8192 * 1024) return 32768;
  if (blocks < 16384 * 1024) return 65536;
  if (blocks < 32768 * 1024) return 131072;
  return 262144;
}

/**
 * The first block of an empty, clean jbd2 journal (big-endian) as mke2fs 1.47 writes it: no
 * journal features (the kernel turns on 64-bit tags and checksums when it first writes).
 */
export function journalSuperblock(blocks: number, uuid: Uint8Array): Uint8Array {
  const b = new Uint8Array(BLOCK);
  const v = new DataView(b.buffer);
  v.setUint32(0x00, JBD2_MAGIC);
  v.setUint32(0x04, SUPERBLOCK_V2);
  v.setUint32(0x0c, BLOCK);
  v.setUint32(0x10, blocks);
  v.setUint32(0x14, 1); // first log block
  v.setUint32(0x18, 1); // first expected commit id
  b.set(uuid, 0x30);
  v.setUint32(0x40, 1); // one user: this file system
  return b;
}
