import { sha256 } from '@noble/hashes/sha2.js';

/** An incremental SHA-256; a platform may give a faster one (node:crypto) for NAR hashing. */
export interface Sha256 {
  update(b: Uint8Array): void;
  digest(): Uint8Array;
}

/** The portable implementation. */
export function createSha256(): Sha256 {
  const h = sha256.create();
  return { update: (b) => void h.update(b), digest: () => h.digest() };
}
