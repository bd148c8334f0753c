/** Strict standard base64 (with `=` padding), as Nix writes keys, signatures and SRI hashes. */
import { NixImagerError } from '../errors.ts';
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE_OF = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) VALUE_OF[ALPHABET.charCodeAt(i)] = i;

export class Base64Error extends NixImagerError {
  override name = 'Base64Error';
  readonly code = 'nar';
}

export function base64Encode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += ALPHABET[(n >> 18) & 63]! + ALPHABET[(n >> 12) & 63]!;
    out += i + 1 < bytes.length ? ALPHABET[(n >> 6) & 63]! : '=';
    out += i + 2 < bytes.length ? ALPHABET[n & 63]! : '=';
  }
  return out;
}

export function base64Decode(s: string): Uint8Array {
  if (s.length % 4 !== 0) throw new Base64Error(`base64 text has length ${s.length}, not a multiple of 4`);
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const at = i + k;
      let v: number;
      if (at >= s.length - pad) v = 0;
      else {
        const c = s.charCodeAt(at);
        v = c < 128 ? VALUE_OF[c]! : -1;
        if (v < 0) throw new Base64Error(`invalid character ${JSON.stringify(s[at])} in base64 text`);
      }
      n = (n << 6) | v;
    }
    const triple = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
    for (const b of triple) if (o < out.length) out[o++] = b;
  }
  // Canonical form only: the bits dropped by the padding must be zero.
  if (base64Encode(out) !== s) throw new Base64Error('base64 text is not in canonical form');
  return out;
}
