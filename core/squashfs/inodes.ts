import type { BinaryString } from '../io/binary-string.ts';
import { InodeType } from './format.ts';
import type { FileLayout } from './data-writer.ts';
import { LeBuilder } from './le-builder.ts';
import type { MetadataRef } from './metadata-writer.ts';

/** Fields every inode starts with; owners are always id index 0 (root). */
export interface InodeBase {
  mode: number;
  mtime: number;
  ino: number;
}

const NO_XATTR = 0xffffffff;
const U32 = 2 ** 32;

function header(b: LeBuilder, type: number, base: InodeBase): LeBuilder {
  return b.u16(type).u16(base.mode & 0o7777).u16(0).u16(0).u32(base.mtime).u32(base.ino);
}

export function fileInode(base: InodeBase, l: FileLayout): Uint8Array {
  const b = new LeBuilder();
  const start = l.start.start;
  if (start < U32 && l.size < U32) {
    header(b, InodeType.file, base).u32(start).u32(l.fragment).u32(l.offset).u32(l.size);
  } else {
    header(b, InodeType.longFile, base).u64(start).u64(l.size).u64(l.holes).u32(1).u32(l.fragment).u32(l.offset).u32(NO_XATTR);
  }
  for (const blk of l.blocks) b.u32(blk === null ? 0 : blk.sizeWord);
  return b.contents();
}

export function symlinkInode(base: InodeBase, target: BinaryString): Uint8Array {
  return header(new LeBuilder(), InodeType.symlink, base).u32(1).u32(target.length).binary(target).contents();
}

/** A directory index entry: where a header that starts a new metadata block lies, and its first name. */
export interface DirIndexEntry {
  /** Offset of the header within the listing. */
  index: number;
  /** Directory-table-relative position of the metadata block holding it. */
  block: number;
  name: BinaryString;
}

export interface DirInodeFields {
  nlink: number;
  /** Listing bytes + 3 (the "." and ".." every reader counts). */
  fileSize: number;
  listing: MetadataRef;
  parentIno: number;
  index: DirIndexEntry[];
}

export function dirInode(base: InodeBase, d: DirInodeFields): Uint8Array {
  const b = new LeBuilder();
  if (d.index.length === 0 && d.fileSize <= 0xffff && d.listing.block < U32) {
    header(b, InodeType.dir, base).u32(d.listing.block).u32(d.nlink).u16(d.fileSize).u16(d.listing.offset).u32(d.parentIno);
  } else {
    header(b, InodeType.longDir, base)
      .u32(d.nlink).u32(d.fileSize).u32(d.listing.block).u32(d.parentIno)
      .u16(d.index.length).u16(d.listing.offset).u32(NO_XATTR);
    for (const e of d.index) b.u32(e.index).u32(e.block).u32(e.name.length - 1).binary(e.name);
  }
  return b.contents();
}
