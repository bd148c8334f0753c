import { ed25519 } from '@noble/curves/ed25519.js';
import { base64Decode, base64Encode, Base64Error } from './base64.ts';
import { formatNixHash } from './hash.ts';
import type { NarInfo } from './narinfo.ts';
import { NixImagerError } from '../errors.ts';

export const CACHE_NIXOS_ORG_KEY = 'cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=';

export interface PublicKey {
  name: string;
  /** 32-byte ed25519 public key. */
  key: Uint8Array;
}

export interface SecretKey {
  name: string;
  /** 64 bytes as libsodium keeps them: the 32-byte seed, then the public key. */
  key: Uint8Array;
}

export class SignatureKeyError extends NixImagerError {
  override name = 'SignatureKeyError';
  readonly code = 'signature';
}

function parseNamedKey(text: string, kind: string, size: number): { name: string; key: Uint8Array } {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new SignatureKeyError(`${kind} ${JSON.stringify(text)} is not of the form "name:base64"`);
  const name = text.slice(0, colon);
  let key: Uint8Array;
  try {
    key = base64Decode(text.slice(colon + 1).trim());
  } catch (e) {
    if (e instanceof Base64Error) throw new SignatureKeyError(`${kind} "${name}": ${e.message}`);
    throw e;
  }
  if (key.length !== size) throw new SignatureKeyError(`${kind} "${name}" is ${key.length} bytes, an ed25519 ${kind} is ${size}`);
  return { name, key };
}

export function parsePublicKey(text: string): PublicKey {
  return parseNamedKey(text, 'public key', 32);
}

export function parseSecretKey(text: string): SecretKey {
  return parseNamedKey(text, 'secret key', 64);
}

/** `name:base64(signature)`, as a narinfo's Sig line holds it. */
export function signFingerprint(secret: SecretKey, fingerprint: string): string {
  const sig = ed25519.sign(new TextEncoder().encode(fingerprint), secret.key.subarray(0, 32));
  return `${secret.name}:${base64Encode(sig)}`;
}

/** What a narinfo signature signs. Nix keeps references as a set, so they are signed sorted and without repeats. */
export function narInfoFingerprint(info: Pick<NarInfo, 'storePath' | 'narHash' | 'narSize' | 'references'>): string {
  const refs = [...new Set(info.references)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `1;${info.storePath};${formatNixHash(info.narHash)};${info.narSize};${refs.join(',')}`;
}

export type VerifyResult = { ok: true; keyName: string } | { ok: false; reason: string };

/** Checks one ed25519 signature; throwing counts as "does not verify". */
export type Ed25519Verify = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

/** The portable verifier; a platform may give a faster one (Node's crypto checks ~20x faster). */
export const portableEd25519Verify: Ed25519Verify = (signature, message, key) => ed25519.verify(signature, message, key);

function verifies(verify: Ed25519Verify, signature: Uint8Array, message: Uint8Array, key: Uint8Array): boolean {
  try {
    return verify(signature, message, key);
  } catch {
    // A key or signature that is no curve point cannot verify anything.
    return false;
  }
}

/** Valid when some Sig is a good signature by one of `keys` (matched by name, as Nix does). */
export function verifyNarInfo(info: NarInfo, keys: PublicKey[], verify: Ed25519Verify = portableEd25519Verify): VerifyResult {
  if (info.sigs.length === 0) return { ok: false, reason: 'no signature' };
  const message = new TextEncoder().encode(narInfoFingerprint(info));
  const untrusted: string[] = [];
  const bad: string[] = [];
  for (const sig of info.sigs) {
    const colon = sig.indexOf(':');
    const name = colon < 0 ? sig : sig.slice(0, colon);
    const key = colon < 0 ? undefined : keys.find((k) => k.name === name);
    if (key === undefined) {
      untrusted.push(name);
      continue;
    }
    let bytes: Uint8Array | undefined;
    try {
      bytes = base64Decode(sig.slice(colon + 1));
    } catch (e) {
      if (!(e instanceof Base64Error)) throw e;
    }
    if (bytes?.length === 64 && verifies(verify, bytes, message, key.key)) return { ok: true, keyName: name };
    bad.push(name);
  }
  const reasons = [
    ...bad.map((n) => `bad signature by key ${n}`),
    ...untrusted.map((n) => `signed by untrusted key ${n}`),
  ];
  return { ok: false, reason: reasons.join('; ') };
}
