import { sha256 } from '@noble/hashes/sha2.js';

/** An incremental SHA-256; the platform may plug a faster one in (node:crypto, hash-wasm). */
export interface Sha256 {
  update(b: Uint8Array): void;
  digest(): Uint8Array;
}

function nobleSha256(): Sha256 {
  const h = sha256.create();
  return { update: (b) => void h.update(b), digest: () => h.digest() };
}

let factory: () => Sha256 = nobleSha256;

export function createSha256(): Sha256 {
  return factory();
}

/** Plugs in another implementation; returns the one it replaces. */
export function setSha256Factory(f: () => Sha256): () => Sha256 {
  const previous = factory;
  factory = f;
  return previous;
}
