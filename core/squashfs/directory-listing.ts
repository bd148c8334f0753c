import type { BinaryString } from '../io/binary-string.ts';
import { METADATA_SIZE } from './format.ts';
import { LeBuilder } from './le-builder.ts';
import type { MetadataRef } from './metadata-writer.ts';

/** One child of a directory, its inode already written. */
export interface ListedChild {
  name: BinaryString;
  /** Basic inode type (1 dir, 2 file, 3 symlink) even when the inode is extended. */
  type: number;
  ino: number;
  inode: MetadataRef;
}

export interface Listing {
  bytes: Uint8Array;
  /** The directory index: offsets in the listing of the headers it points at, and their first names. */
  index: { at: number; name: BinaryString }[];
}

const HEADER_SIZE = 12;
const ENTRY_SIZE = 8;
const MAX_RUN = 256;

interface Run {
  block: number;
  baseIno: number;
  children: ListedChild[];
}

/**
 * A directory's entries as runs, each under a header naming the inode block and base inode number.
 * A run ends after 256 entries, when the inode block changes, when an inode number is out of the
 * 16-bit delta's reach, or (as mksquashfs does) when the next entry would end more than 8 KiB past
 * the last indexed header; such headers form the directory index.
 */
export function encodeListing(children: readonly ListedChild[]): Listing {
  const runs: Run[] = [];
  const index: Listing['index'] = [];
  let length = 0;
  let indexedAt = 0;
  let run: Run | undefined;
  for (const c of children) {
    const delta = run === undefined ? 0 : c.ino - run.baseIno;
    const pastIndex = run !== undefined && length + ENTRY_SIZE + c.name.length - indexedAt > METADATA_SIZE;
    if (run === undefined || run.children.length === MAX_RUN || c.inode.block !== run.block || delta < -32768 || delta > 32767 || pastIndex) {
      if (pastIndex) {
        index.push({ at: length, name: c.name });
        indexedAt = length;
      }
      run = { block: c.inode.block, baseIno: c.ino, children: [] };
      runs.push(run);
      length += HEADER_SIZE;
    }
    run.children.push(c);
    length += ENTRY_SIZE + c.name.length;
  }
  const b = new LeBuilder();
  for (const r of runs) {
    b.u32(r.children.length - 1).u32(r.block).u32(r.baseIno);
    for (const c of r.children) b.u16(c.inode.offset).i16(c.ino - r.baseIno).u16(c.type).u16(c.name.length - 1).binary(c.name);
  }
  return { bytes: b.contents().slice(), index };
}
