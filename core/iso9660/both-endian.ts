/** Field encoders of ECMA-119: numbers in little, big and both byte orders, padded strings, dates. */

export const SECTOR = 2048;

export function sectors(bytes: number): number {
  return Math.ceil(bytes / SECTOR);
}

export function le16(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v & 0xff;
  buf[at + 1] = (v >>> 8) & 0xff;
}

export function be16(buf: Uint8Array, at: number, v: number): void {
  buf[at] = (v >>> 8) & 0xff;
  buf[at + 1] = v & 0xff;
}

export function le32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v & 0xff;
  buf[at + 1] = (v >>> 8) & 0xff;
  buf[at + 2] = (v >>> 16) & 0xff;
  buf[at + 3] = (v >>> 24) & 0xff;
}

export function be32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = (v >>> 24) & 0xff;
  buf[at + 1] = (v >>> 16) & 0xff;
  buf[at + 2] = (v >>> 8) & 0xff;
  buf[at + 3] = v & 0xff;
}

/** Little-endian then big-endian copy (ECMA-119 7.2.3). */
export function both16(buf: Uint8Array, at: number, v: number): void {
  le16(buf, at, v);
  be16(buf, at + 2, v);
}

/** Little-endian then big-endian copy (ECMA-119 7.3.3). */
export function both32(buf: Uint8Array, at: number, v: number): void {
  le32(buf, at, v);
  be32(buf, at + 4, v);
}

export function le64(buf: Uint8Array, at: number, v: bigint): void {
  for (let i = 0; i < 8; i++) buf[at + i] = Number((v >> BigInt(8 * i)) & 0xffn);
}

/** Bytes of a binary string (one char per byte) at `at`. */
export function putBytes(buf: Uint8Array, at: number, s: string): void {
  for (let i = 0; i < s.length; i++) buf[at + i] = s.charCodeAt(i);
}

/** A one-byte-per-char string, space-padded to `width` (a-/d-character fields). */
export function putPadded(buf: Uint8Array, at: number, width: number, s: string): void {
  buf.fill(0x20, at, at + width);
  putBytes(buf, at, s.slice(0, width));
}

/** A string as UCS-2 big endian, padded with UCS-2 spaces to `width` bytes (Joliet descriptor fields). */
export function putUcs2Padded(buf: Uint8Array, at: number, width: number, s: string): void {
  for (let i = 0; i + 1 < width; i += 2) be16(buf, at + i, 0x20);
  for (let i = 0; i < s.length && 2 * i + 1 < width; i++) be16(buf, at + 2 * i, s.charCodeAt(i));
}

/** The 7-byte recording date of a directory record (ECMA-119 9.1.5), UTC. */
export function putShortDate(buf: Uint8Array, at: number, epochSeconds: number): void {
  const d = new Date(epochSeconds * 1000);
  buf[at] = d.getUTCFullYear() - 1900;
  buf[at + 1] = d.getUTCMonth() + 1;
  buf[at + 2] = d.getUTCDate();
  buf[at + 3] = d.getUTCHours();
  buf[at + 4] = d.getUTCMinutes();
  buf[at + 5] = d.getUTCSeconds();
  buf[at + 6] = 0;
}

/** The 17-byte volume descriptor date (ECMA-119 8.4.26.1), UTC; undefined gives the "not specified" form. */
export function putLongDate(buf: Uint8Array, at: number, epochSeconds: number | undefined): void {
  if (epochSeconds === undefined) {
    putBytes(buf, at, '0000000000000000');
    buf[at + 16] = 0;
    return;
  }
  const d = new Date(epochSeconds * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  const text =
    String(d.getUTCFullYear()).padStart(4, '0') +
    two(d.getUTCMonth() + 1) + two(d.getUTCDate()) + two(d.getUTCHours()) + two(d.getUTCMinutes()) + two(d.getUTCSeconds()) + '00';
  putBytes(buf, at, text);
  buf[at + 16] = 0;
}
