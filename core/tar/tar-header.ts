import { binaryToText, type BinaryString } from '../io/binary-string.ts';
import { TarError } from './tar-error.ts';

/** GNU tar's fixed sizes: 512-byte blocks, grouped in records of 20 blocks (the default -b 20). */
export const BLOCK = 512;
export const RECORD = 20 * BLOCK;

export type TarType = '0' | '2' | '5' | 'K' | 'L';

export interface HeaderFields {
  name: BinaryString;
  mode: number;
  size: number;
  mtime: number;
  type: TarType;
  linkname?: BinaryString;
}

/** Names (with a directory's trailing slash) and link targets longer than this get a ././@LongLink record. */
const NAME_FIELD = 100;
const LONG_LINK_NAME = '././@LongLink';

// Field offsets of the GNU header (struct posix_header plus the GNU magic "ustar  \0").
const MODE = 100;
const UID = 108;
const GID = 116;
const SIZE = 124;
const MTIME = 136;
const CHKSUM = 148;
const TYPEFLAG = 156;
const LINKNAME = 157;
const MAGIC = 257;

function putString(block: Uint8Array, at: number, s: BinaryString, max: number): void {
  const n = Math.min(s.length, max);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new TarError(`${JSON.stringify(s)} is not a binary string (char ${c} at ${i}), so it has no bytes to write`);
    block[at + i] = c;
  }
}

/**
 * A numeric field as GNU tar writes it: zero-padded octal and a NUL, or, when the value
 * does not fit in width-1 octal digits, base-256 (big-endian, high bit of the first byte set).
 */
function putNumber(block: Uint8Array, at: number, width: number, value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new TarError(`${field} ${value} is not a non-negative integer`);
  if (value < 8 ** (width - 1)) {
    let v = value;
    for (let i = width - 2; i >= 0; i--) {
      block[at + i] = 0x30 + (v % 8);
      v = Math.floor(v / 8);
    }
    block[at + width - 1] = 0;
    return;
  }
  let v = BigInt(value);
  for (let i = width - 1; i > 0; i--) {
    block[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  block[at] = 0x80;
}

/** Writes one 512-byte header at `at` in `out` (which must be zeroed there). */
function putHeader(out: Uint8Array, at: number, f: HeaderFields): void {
  if (!Number.isSafeInteger(f.size) || f.size < 0) throw new TarError(`${JSON.stringify(binaryToText(f.name))}: size ${f.size} is not a byte count`);
  putString(out, at, f.name, NAME_FIELD);
  putNumber(out, at + MODE, 8, f.mode, 'mode');
  putNumber(out, at + UID, 8, 0, 'uid');
  putNumber(out, at + GID, 8, 0, 'gid');
  putNumber(out, at + SIZE, 12, f.size, 'size');
  putNumber(out, at + MTIME, 12, f.mtime, 'mtime');
  out[at + TYPEFLAG] = f.type.charCodeAt(0);
  if (f.linkname !== undefined) putString(out, at + LINKNAME, f.linkname, NAME_FIELD);
  putString(out, at + MAGIC, 'ustar  ', 7);
  // the checksum field, still zero here, counts as eight spaces
  let sum = 8 * 0x20;
  for (let i = at; i < at + BLOCK; i++) sum += out[i]!;
  putNumber(out, at + CHKSUM, 7, sum, 'checksum');
  out[at + CHKSUM + 7] = 0x20;
}

function longLinkBlocks(value: BinaryString): number {
  return 1 + Math.ceil((value.length + 1) / BLOCK);
}

/** Bytes of the header blocks (long-link records included) that `putHeaders` writes for these fields. */
export function headerSize(f: HeaderFields): number {
  let blocks = 1;
  if (f.linkname !== undefined && f.linkname.length > NAME_FIELD) blocks += longLinkBlocks(f.linkname);
  if (f.name.length > NAME_FIELD) blocks += longLinkBlocks(f.name);
  return blocks * BLOCK;
}

/**
 * Writes the header blocks of one member at `at` in `out` (zeroed there, headerSize(f) bytes):
 * a 'K' record for a long link target, then an 'L' record for a long name (GNU tar's order),
 * then the member's header with both fields cut to 100 bytes (a name of exactly 100 bytes
 * fills its field with no NUL and needs no record).
 */
export function putHeaders(out: Uint8Array, at: number, f: HeaderFields): void {
  if (f.linkname !== undefined && f.linkname.length > NAME_FIELD) at = putLongLink(out, at, f.linkname, 'K');
  if (f.name.length > NAME_FIELD) at = putLongLink(out, at, f.name, 'L');
  putHeader(out, at, f);
}

/** GNU tar's private header: mode 0644, owner 0/0, mtime 0, a size that counts the NUL; then the value. */
function putLongLink(out: Uint8Array, at: number, value: BinaryString, type: 'K' | 'L'): number {
  putHeader(out, at, { name: LONG_LINK_NAME, mode: 0o644, size: value.length + 1, mtime: 0, type });
  putString(out, at + BLOCK, value, value.length);
  return at + longLinkBlocks(value) * BLOCK;
}
