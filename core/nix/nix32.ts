/**
 * Nix's base-32: its own alphabet (no e, o, u, t) and its own bit order — the string is
 * written from the most significant 5-bit group of the little-endian bit stream down.
 */
import { NixImagerError } from '../errors.ts';
export const NIX32_ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';

const DIGIT_OF = new Int8Array(128).fill(-1);
for (let i = 0; i < NIX32_ALPHABET.length; i++) DIGIT_OF[NIX32_ALPHABET.charCodeAt(i)] = i;

export class Nix32Error extends NixImagerError {
  override name = 'Nix32Error';
  readonly code = 'nar';
}

/** Length of the nix32 text of `byteLength` bytes. */
export function nix32Length(byteLength: number): number {
  return Math.ceil((byteLength * 8) / 5);
}

export function nix32Encode(bytes: Uint8Array): string {
  const len = nix32Length(bytes.length);
  let out = '';
  for (let n = len - 1; n >= 0; n--) {
    const b = n * 5;
    const i = b >> 3;
    const j = b & 7;
    const lo = bytes[i]! >> j;
    const hi = i + 1 < bytes.length ? bytes[i + 1]! << (8 - j) : 0;
    out += NIX32_ALPHABET[(lo | hi) & 0x1f];
  }
  return out;
}

export function isNix32Char(c: string): boolean {
  const code = c.charCodeAt(0);
  return code < 128 && DIGIT_OF[code]! >= 0;
}

/** Decodes nix32 text; rejects characters outside the alphabet and set bits beyond the last byte. */
export function nix32Decode(s: string): Uint8Array {
  const size = Math.floor((s.length * 5) / 8);
  const out = new Uint8Array(size);
  for (let n = 0; n < s.length; n++) {
    const ch = s.charCodeAt(s.length - n - 1);
    const digit = ch < 128 ? DIGIT_OF[ch]! : -1;
    if (digit < 0) throw new Nix32Error(`invalid character ${JSON.stringify(s[s.length - n - 1])} in nix32 string "${s}"`);
    const b = n * 5;
    const i = b >> 3;
    const j = b & 7;
    // Bits that fall past the last byte must be zero, else the text is not the encoding of any byte string.
    const lowBits = digit << j;
    const carry = lowBits >> 8;
    if (i < size) out[i] |= lowBits & 0xff;
    else if (lowBits !== 0) throw new Nix32Error(`nix32 string "${s}" has non-zero bits past its last byte`);
    if (i + 1 < size) out[i + 1] |= carry;
    else if (carry !== 0) throw new Nix32Error(`nix32 string "${s}" has non-zero bits past its last byte`);
  }
  return out;
}
