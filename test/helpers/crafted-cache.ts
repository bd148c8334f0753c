// A one-path binary cache written from given bytes: the NAR and the file the narinfo points at
// (compressed, padded, a bomb…), with a narinfo validly signed by a synthetic key, so that only
// the check meant to catch a hostile body can catch it.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatNixHash } from '../../core/nix/hash.ts';
import { nix32Encode } from '../../core/nix/nix32.ts';
import { narInfoFingerprint, signFingerprint } from '../../core/nix/signature.ts';
import { syntheticKey } from './synthetic-cache.ts';
import { writeNar, type NarNode } from './nar-builder.ts';

export interface CraftedCache {
  dir: string;
  /** The NAR cache key of the NAR (nix32 of its NarHash). */
  narKey: string;
  url: string;
  storePath: string;
  publicKey: string;
  /** The NAR file's path relative to the cache. */
  narFile: string;
}

export interface CraftOptions {
  /** The NAR the narinfo describes (NarHash, NarSize). Default: a one-file NAR. */
  nar?: Uint8Array;
  /** The bytes served as the NAR file. Default: `nar` itself. */
  file?: Uint8Array;
  compression?: string;
  /** Write FileSize/FileHash lines (of `file`). Default true. */
  fileFields?: boolean;
  /** NarSize to claim instead of the NAR's length (signed as claimed). */
  narSizeOverride?: number;
  /** Store paths the narinfo says it references (signed as given; they need not exist). */
  references?: string[];
  name?: string;
}

const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

export const smallNar = (contents = 'hello\n'): Uint8Array => writeNar({ type: 'regular', contents: new TextEncoder().encode(contents) } satisfies NarNode);

/** Writes the cache into a fresh temporary directory (the caller removes `dir`'s parent when done, or leaves it to the OS). */
export async function craftedCache(opts: CraftOptions = {}): Promise<CraftedCache> {
  const nar = opts.nar ?? smallNar();
  const file = opts.file ?? nar;
  const compression = opts.compression ?? 'none';
  const keys = syntheticKey(4242);
  const dir = join(await mkdtemp(join(tmpdir(), 'nix-imager-crafted-')), 'cache');
  await mkdir(join(dir, 'nar'), { recursive: true });
  await writeFile(join(dir, 'nix-cache-info'), 'StoreDir: /nix/store\n');
  const storePath = `/nix/store/${nix32Encode(sha256(file).subarray(0, 20))}-${opts.name ?? 'crafted'}`;
  const ext = compression === 'none' ? '' : compression === 'zstd' ? '.zst' : `.${compression}`;
  const narFile = `nar/${nix32Encode(sha256(file))}.nar${ext}`;
  await writeFile(join(dir, narFile), file);
  const info = { storePath, narHash: { algo: 'sha256' as const, digest: sha256(nar) }, narSize: opts.narSizeOverride ?? nar.length, references: opts.references ?? [] };
  const lines = [
    `StorePath: ${storePath}`,
    `URL: ${narFile}`,
    `Compression: ${compression}`,
    ...(opts.fileFields === false ? [] : [`FileHash: sha256:${nix32Encode(sha256(file))}`, `FileSize: ${file.length}`]),
    `NarHash: ${formatNixHash(info.narHash)}`,
    `NarSize: ${info.narSize}`,
    `References: ${info.references.map((r) => r.slice('/nix/store/'.length)).join(' ')}`,
    `Sig: ${signFingerprint(keys.secretKey, narInfoFingerprint(info))}`,
  ];
  await writeFile(join(dir, `${storePath.slice(11, 43)}.narinfo`), lines.map((l) => `${l}\n`).join(''));
  return { dir, narKey: nix32Encode(info.narHash.digest), url: pathToFileURL(dir).href, storePath, publicKey: keys.publicKey, narFile };
}

/** A tarball config of `cache`'s one path. */
export function craftedConfig(cache: { url: string; storePath: string; publicKey: string }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    format: 'tarball',
    substituters: [cache.url],
    trustedPublicKeys: [cache.publicKey],
    storeContents: [{ object: cache.storePath, symlink: 'none' }],
    compression: 'none',
    ...extra,
  };
}
