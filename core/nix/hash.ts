import { base64Decode, Base64Error } from './base64.ts';
import { nix32Decode, nix32Encode, nix32Length, Nix32Error } from './nix32.ts';
import { NixImagerError } from '../errors.ts';

export type HashAlgo = 'sha256' | 'sha1' | 'sha512' | 'md5';

export interface NixHash {
  algo: HashAlgo;
  digest: Uint8Array;
}

export class NixHashError extends NixImagerError {
  override name = 'NixHashError';
  readonly code = 'nar';
}

const DIGEST_SIZE: Record<HashAlgo, number> = { md5: 16, sha1: 20, sha256: 32, sha512: 64 };

function isAlgo(s: string): s is HashAlgo {
  return Object.hasOwn(DIGEST_SIZE, s);
}

function decodeBase16(s: string): Uint8Array {
  if (!/^[0-9a-fA-F]*$/.test(s)) throw new NixHashError(`invalid base16 digest "${s}"`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function decodeOrThrow(text: string, what: string, decode: (s: string) => Uint8Array): Uint8Array {
  try {
    return decode(text);
  } catch (e) {
    if (e instanceof Nix32Error || e instanceof Base64Error || e instanceof NixHashError) {
      throw new NixHashError(`hash "${text}" is not valid ${what}: ${e.message}`);
    }
    throw e;
  }
}

/**
 * Parses `algo:<base16|nix32|base64>` (the encoding told apart by length, as Nix does)
 * and SRI `algo-<base64>`.
 */
export function parseNixHash(s: string): NixHash {
  const colon = s.indexOf(':');
  const dash = s.indexOf('-');
  const sri = colon < 0 && dash > 0;
  const sep = sri ? dash : colon;
  if (sep < 0) throw new NixHashError(`hash "${s}" has no algorithm prefix (expected e.g. "sha256:" or "sha256-")`);
  const algo = s.slice(0, sep);
  if (!isAlgo(algo)) throw new NixHashError(`hash "${s}" has unknown algorithm "${algo}"`);
  const text = s.slice(sep + 1);
  const size = DIGEST_SIZE[algo];
  const base64Len = Math.ceil(size / 3) * 4;
  let digest: Uint8Array;
  if (sri) {
    if (text.length !== base64Len) throw new NixHashError(`SRI hash "${s}" has ${text.length} base64 characters, ${algo} needs ${base64Len}`);
    digest = decodeOrThrow(text, 'base64', base64Decode);
  } else if (text.length === size * 2) {
    digest = decodeOrThrow(text, 'base16', decodeBase16);
  } else if (text.length === nix32Length(size)) {
    digest = decodeOrThrow(text, 'nix32', nix32Decode);
  } else if (text.length === base64Len) {
    digest = decodeOrThrow(text, 'base64', base64Decode);
  } else {
    throw new NixHashError(`hash "${s}" has a digest of ${text.length} characters, which is no encoding of a ${algo} hash`);
  }
  if (digest.length !== size) throw new NixHashError(`hash "${s}" decodes to ${digest.length} bytes, ${algo} has ${size}`);
  return { algo, digest };
}

/** `algo:<nix32>`, as narinfos and closureInfo's registration write hashes. */
export function formatNixHash(h: NixHash): string {
  return `${h.algo}:${nix32Encode(h.digest)}`;
}

/** `algo:<base16>`, as the Nix database (ValidPaths.hash) holds hashes. */
export function formatNixHashBase16(h: NixHash): string {
  let hex = '';
  for (const b of h.digest) hex += b.toString(16).padStart(2, '0');
  return `${h.algo}:${hex}`;
}

export function hashEquals(a: NixHash, b: NixHash): boolean {
  if (a.algo !== b.algo || a.digest.length !== b.digest.length) return false;
  for (let i = 0; i < a.digest.length; i++) if (a.digest[i] !== b.digest[i]) return false;
  return true;
}
