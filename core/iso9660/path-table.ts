import { be16, be32, le16, le32 } from './both-endian.ts';

/** One directory in path table order (ECMA-119 9.4): by level, then parent number, then identifier. */
export interface PathTableDir {
  /** 0x00 for the root, else the directory identifier bytes. */
  id: Uint8Array;
  lba: number;
  /** 1-based number of the parent in the same table (1 for the root itself). */
  parentNumber: number;
}

function recordSize(d: PathTableDir): number {
  return 8 + d.id.length + (d.id.length % 2);
}

export function pathTableSize(dirs: PathTableDir[]): number {
  return dirs.reduce((n, d) => n + recordSize(d), 0);
}

/** The type L (little-endian) or type M (big-endian) path table. */
export function pathTable(dirs: PathTableDir[], bigEndian: boolean): Uint8Array {
  const out = new Uint8Array(pathTableSize(dirs));
  let at = 0;
  for (const d of dirs) {
    out[at] = d.id.length;
    (bigEndian ? be32 : le32)(out, at + 2, d.lba);
    (bigEndian ? be16 : le16)(out, at + 6, d.parentNumber);
    out.set(d.id, at + 8);
    at += recordSize(d);
  }
  return out;
}
