import type { RandomAccess } from '../io/data-source.ts';

/** A writer for one cache entry: invisible to readers until commit(). */
export interface NarCacheWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the entry visible atomically (rename), after every byte was verified. */
  commit(): Promise<void>;
  /** Discards the partial entry. */
  abort(): Promise<void>;
}

/**
 * Uncompressed NARs keyed by the nix32 of their NarHash (so the key says what the bytes must hash to).
 * Node keeps them in a directory, browsers in the Origin Private File System.
 */
export interface NarCache {
  open(key: string): Promise<RandomAccess | null>;
  create(key: string): Promise<NarCacheWriter>;
  remove(key: string): Promise<void>;
}
