/**
 * The cpio "new ASCII" (newc) header, as the kernel's initramfs buffer format reads it: the magic
 * "070701", then thirteen 8-digit hexadecimal fields, 110 bytes in all; the NUL-terminated name
 * follows, and both header+name and the data are padded with NULs to a multiple of 4 bytes.
 */
export const MAGIC = '070701';
export const HEADER_SIZE = 110;
export const TRAILER_NAME = 'TRAILER!!!';
/** Largest value of an 8-hex-digit field: no file of 4 GiB or more fits in newc. */
export const MAX_FIELD = 0xffffffff;

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

export interface NewcFields {
  ino: number;
  /** File type bits and permissions. */
  mode: number;
  nlink: number;
  mtime: number;
  fileSize: number;
  /** The name's bytes, as a binary string, without the terminating NUL. */
  name: string;
}

export function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** Bytes of header, name, NUL and padding. */
export function headerBytes(nameLength: number): number {
  const n = HEADER_SIZE + nameLength + 1;
  return n + pad4(n);
}

const HEX = '0123456789ABCDEF';

/** Writes `value` as 8 uppercase hex digits (as GNU cpio does) at `at`. */
function putHex(out: Uint8Array, at: number, value: number): void {
  for (let i = 7; i >= 0; i--) {
    out[at + i] = HEX.charCodeAt(value % 16);
    value = Math.floor(value / 16);
  }
}

/**
 * Writes one header with its name into `out` at `at` (headerBytes(name.length) bytes, padding
 * left as it is: the caller's buffer is zeroed). Owners, devices and the checksum are 0.
 */
export function putNewcHeader(out: Uint8Array, at: number, f: NewcFields): void {
  for (let i = 0; i < MAGIC.length; i++) out[at + i] = MAGIC.charCodeAt(i);
  const fields = [f.ino, f.mode, 0, 0, f.nlink, f.mtime, f.fileSize, 0, 0, 0, 0, f.name.length + 1, 0];
  fields.forEach((v, i) => putHex(out, at + MAGIC.length + 8 * i, v));
  const nameAt = at + HEADER_SIZE;
  for (let i = 0; i < f.name.length; i++) out[nameAt + i] = f.name.charCodeAt(i);
}
