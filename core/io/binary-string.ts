/**
 * File names and symlink targets are raw bytes in Nix (anything but `/` and NUL).
 * The image tree keeps them as "binary strings": one char per byte (0-255), so
 * `<` on them is byte order (strcmp), `.length` is the byte length, and nothing is lost
 * for names that are not UTF-8.
 */
export type BinaryString = string;

const utf8 = new TextEncoder();

export function bytesToBinary(bytes: Uint8Array): BinaryString {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]);
  }
  return s;
}

export function binaryToBytes(s: BinaryString): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** A JS (UTF-16) string as the binary string of its UTF-8 bytes. */
export function textToBinary(text: string): BinaryString {
  return bytesToBinary(utf8.encode(text));
}

/** The UTF-8 text of a binary string, with U+FFFD for bytes that are not UTF-8. */
export function binaryToText(s: BinaryString): string {
  return new TextDecoder().decode(binaryToBytes(s));
}

/** Byte-wise comparison, as strcmp and Nix's NAR order. */
export function compareBinary(a: BinaryString, b: BinaryString): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
