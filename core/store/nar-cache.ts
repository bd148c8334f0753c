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
  /** Removes the entry and its record. */
  remove(key: string): Promise<void>;
  /** Where verification records are kept; without them every build verifies every cached NAR again. */
  records?: NarRecords;
}

/** Verification records (core/store/nar-record.ts), one per entry, kept beside it. */
export interface NarRecords {
  /**
   * The committed entry's identity now, as a string that changes whenever its bytes may have
   * (Node: size, mtime, ctime, device, inode; OPFS: size, lastModified); null when there is none.
   */
  stamp(key: string): Promise<string | null>;
  read(key: string): Promise<string | null>;
  /** Replaces the record atomically: a reader sees the old one, the new one, or none. */
  write(key: string, text: string): Promise<void>;
}
