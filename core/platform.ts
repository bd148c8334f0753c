import type { Fetch } from './cache/http.ts';
import type { CodecPool } from './codec/pool.ts';
import { fetchedCodecs, type CodecsLoader } from './codec/wasm-codecs.ts';
import { NixImagerError } from './errors.ts';
import type { ImageNode } from './image/tree.ts';
import type { RandomAccess } from './io/data-source.ts';
import type { SeekableSink } from './io/sink.ts';
import { portableEd25519Verify, type Ed25519Verify } from './nix/signature.ts';
import { createSha256, type Sha256 } from './primitives/sha256.ts';
import type { NarCache } from './store/nar-cache.ts';
import type { SqliteLoader } from './nixdb/nix-database.ts';

/** Everything a build takes from where it runs (Node, a browser worker, an embedder's own code). */
export interface Platform {
  fetch: Fetch;
  narCache: NarCache;
  /** A file or directory that is not in the store (next to the config, or dropped by the user). */
  localNode(path: string): Promise<ImageNode>;
  /** Scratch space for an intermediate image (the squashfs inside an ISO). */
  scratchFile(name: string): Promise<ScratchFile>;
  /** Incremental SHA-256 for FileHash and NarHash. */
  sha256(): Sha256;
  ed25519Verify: Ed25519Verify;
  /** This thread's codecs module: NAR decompression, and compression done in this thread. */
  codecs: CodecsLoader;
  /** Workers to compress on, started on first call; undefined compresses in this thread. */
  codecPool(): CodecPool | undefined;
  /** SQLite compiled to WebAssembly, for the Nix database of a disk image; none by default. */
  sqlite?: SqliteLoader;
  /** Stops the workers and removes scratch files. */
  dispose(): Promise<void>;
}

export interface ScratchFile {
  sink: SeekableSink;
  open(): Promise<RandomAccess>;
  remove(): Promise<void>;
}

class PlatformError extends NixImagerError {
  override name = 'PlatformError';
  readonly code = 'io';
}

/**
 * A Platform from the parts a caller has: a fetch and a NAR cache at least. The rest default to the
 * portable implementations, this thread for codecs, and no local files or scratch space.
 */
export function platformWith(parts: Pick<Platform, 'fetch' | 'narCache'> & Partial<Platform>): Platform {
  return {
    localNode: async (path) => {
      throw new PlatformError(`local source ${path}: this platform has no local files`, { subject: path });
    },
    scratchFile: async (name) => {
      throw new PlatformError(`scratch file ${name}: this platform has no scratch space (an ISO with squashfsContents needs it)`);
    },
    sha256: createSha256,
    ed25519Verify: portableEd25519Verify,
    codecs: fetchedCodecs,
    codecPool: () => undefined,
    dispose: async () => {},
    ...parts,
  };
}
