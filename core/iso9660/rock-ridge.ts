import type { BinaryString } from '../io/binary-string.ts';
import { both32, putBytes, putShortDate } from './both-endian.ts';

/**
 * Rock Ridge (RRIP 1.10 as xorriso -r writes it) System Use entries.
 * Ownership and permissions follow mkisofs -r: root-owned, readable by all,
 * no write bits, executable by all when anything was executable (directories always).
 */

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

export type RrKind = 'dir' | 'file' | 'symlink';

export function rrMode(kind: RrKind, mode: number): number {
  if (kind === 'dir') return S_IFDIR | 0o555;
  // Symlinks are 0777 on Linux, which the rule turns into 0555 as xorriso shows it.
  if (kind === 'symlink') return S_IFLNK | 0o555;
  return S_IFREG | 0o444 | (mode & 0o111 ? 0o111 : 0);
}

function entry(sig: string, body: number): Uint8Array {
  const e = new Uint8Array(4 + body);
  putBytes(e, 0, sig);
  e[2] = e.length;
  e[3] = 1;
  return e;
}

/** SUSP "SP": marks the root's "." record as the start of SUSP use (no bytes skipped). */
export function spEntry(): Uint8Array {
  const e = entry('SP', 3);
  e[4] = 0xbe;
  e[5] = 0xef;
  return e;
}

/** PX without the serial number field, link count 1, uid/gid 0: what xorriso -as mkisofs -r writes. */
export function pxEntry(stMode: number): Uint8Array {
  const e = entry('PX', 32);
  both32(e, 4, stMode);
  both32(e, 12, 1);
  return e;
}

/** TF with modification, access and attribute-change times, all `epoch`. */
export function tfEntry(epoch: number): Uint8Array {
  const e = entry('TF', 22);
  e[4] = 0x0e;
  for (let i = 0; i < 3; i++) putShortDate(e, 5 + 7 * i, epoch);
  return e;
}

/** CE pointing at a continuation area. */
export function ceEntry(lba: number, offset: number, length: number): Uint8Array {
  const e = entry('CE', 24);
  both32(e, 4, lba);
  both32(e, 12, offset);
  both32(e, 20, length);
  return e;
}

export const CE_SIZE = 28;

const ER_ID = 'RRIP_1991A';
const ER_DESC = 'THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS';
const ER_SRC = 'PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.';

/** SUSP "ER" announcing Rock Ridge (in the root's continuation area). */
export function erEntry(): Uint8Array {
  const e = entry('ER', 4 + ER_ID.length + ER_DESC.length + ER_SRC.length);
  e[4] = ER_ID.length;
  e[5] = ER_DESC.length;
  e[6] = ER_SRC.length;
  e[7] = 1;
  putBytes(e, 8, ER_ID + ER_DESC + ER_SRC);
  return e;
}

const MAX_ENTRY = 255;

/** NM entries for a name: the first holds at most `firstRoom` bytes of entry, later ones up to 255. */
export function nmEntries(name: BinaryString, firstRoom = MAX_ENTRY): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < name.length; ) {
    const n = Math.min(name.length - at, (out.length === 0 ? firstRoom : MAX_ENTRY) - 5);
    const e = entry('NM', 1 + n);
    putBytes(e, 5, name.slice(at, at + n));
    at += n;
    e[4] = at < name.length ? 1 : 0;
    out.push(e);
  }
  return out;
}

const SL_CONTINUE = 1;
const SL_CURRENT = 2;
const SL_PARENT = 4;
const SL_ROOT = 8;

/**
 * SL entries for a symlink target. Component records are packed into entries of at
 * most 255 bytes, and every entry but the last ends inside a component (flagged
 * "continues"): libarchive joins SL entries without a "/", the kernel and libisofs
 * follow the component flags, so both read the same path. (xorriso breaks entries
 * between components, which bsdtar reads wrong.)
 */
export function slEntries(target: BinaryString): Uint8Array[] {
  const records: { flags: number; bytes: string }[] = [];
  if (target.startsWith('/')) records.push({ flags: SL_ROOT, bytes: '' });
  for (const part of target.split('/')) {
    if (part === '') continue;
    if (part === '.') records.push({ flags: SL_CURRENT, bytes: '' });
    else if (part === '..') records.push({ flags: SL_PARENT, bytes: '' });
    else records.push({ flags: 0, bytes: part });
  }
  const entries: number[][] = [[]];
  records.forEach((r, i) => {
    let { flags, bytes } = r;
    const last = i === records.length - 1;
    for (;;) {
      const cur = entries[entries.length - 1]!;
      const room = MAX_ENTRY - 5 - cur.length - 2;
      // Leave room for the next record to start here, so the entry can end inside it.
      if (bytes.length <= room - (last ? 0 : 2)) {
        cur.push(flags, bytes.length, ...[...bytes].map((c) => c.charCodeAt(0)));
        break;
      }
      if (flags === SL_CURRENT || flags === SL_PARENT) {
        bytes = flags === SL_CURRENT ? '.' : '..';
        flags = 0;
      }
      const k = Math.min(room, bytes.length);
      cur.push(SL_CONTINUE, k, ...[...bytes.slice(0, k)].map((c) => c.charCodeAt(0)));
      bytes = bytes.slice(k);
      entries.push([]);
    }
  });
  return entries.map((g, i) => {
    const e = entry('SL', 1 + g.length);
    e[4] = i < entries.length - 1 ? SL_CONTINUE : 0;
    e.set(g, 5);
    return e;
  });
}
