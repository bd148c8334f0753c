import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import type { CodecPool } from '../core/codec/pool.ts';
import { isAbsolute, join, resolve } from 'node:path';
import type { Platform } from '../core/pipeline/build-image.ts';
import { setSha256Factory } from '../core/primitives/sha256.ts';
import { setEd25519Verifier } from '../core/nix/signature.ts';
import { fetchWithFiles } from './file-fetch.ts';
import { createFileSink } from './file-sink.ts';
import { openRandomAccess } from './fs-random-access.ts';
import { nodeFromDisk } from './fs-tree.ts';
import { narCacheDir } from './nar-cache-dir.ts';
import { createNodeCodecPool } from './codec-pool.ts';
import { useNodeCodecs } from './codec-wasm.ts';

// NAR decompression runs liblzma/libzstd in this thread too.
useNodeCodecs();

// node:crypto hashes ~10x faster than the portable implementation.
setSha256Factory(() => {
  const h = createHash('sha256');
  return { update: (b) => void h.update(b), digest: () => new Uint8Array(h.digest()) };
});

// …and checks ed25519 signatures ~20x faster than the portable implementation.
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const publicKeys = new Map<string, KeyObject>();
setEd25519Verifier((signature, message, raw) => {
  const id = Buffer.from(raw).toString('hex');
  let key = publicKeys.get(id);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' });
    publicKeys.set(id, key);
  }
  return verify(null, message, key, signature);
});

export interface NodePlatformOptions {
  configDir: string;
  cacheDir: string;
  threads: number;
}

export interface NodePlatform extends Platform {
  dispose(): Promise<void>;
}

export function createNodePlatform(opts: NodePlatformOptions): NodePlatform {
  let scratchDir: Promise<string> | undefined;
  // Workers start only when a build compresses something.
  let pool: CodecPool | undefined;
  return {
    fetch: fetchWithFiles,
    narCache: narCacheDir(join(opts.cacheDir, 'nar')),
    get codecPool() {
      // More workers than cores compress no faster, and each holds ~150 MiB at xz -6.
      pool ??= createNodeCodecPool(Math.min(opts.threads || availableParallelism(), availableParallelism()));
      return pool;
    },
    async localNode(path) {
      const full = isAbsolute(path) ? path : resolve(opts.configDir, path);
      try {
        return nodeFromDisk(Buffer.from(full));
      } catch (e) {
        throw new Error(`local source ${full}: ${(e as Error).message}`);
      }
    },
    async scratchFile(name) {
      scratchDir ??= mkdtemp(join(tmpdir(), 'nix-imager-'));
      const path = join(await scratchDir, name);
      const sink = await createFileSink(path);
      return { sink, open: () => openRandomAccess(path), remove: () => rm(path, { force: true }) };
    },
    async dispose() {
      await pool?.close();
      if (scratchDir) await rm(await scratchDir, { recursive: true, force: true });
    },
  };
}
