/**
 * Where an image goes. Nothing written counts until `close()` resolves;
 * `abort()` discards everything (no half-written file under the output name).
 */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(reason?: unknown): Promise<void>;
}

/** A sink that can also patch bytes already written (squashfs writes its superblock last). */
export interface SeekableSink extends ByteSink {
  /** Overwrites bytes at `offset`, which must lie within what was already written. */
  writeAt(offset: number, bytes: Uint8Array): Promise<void>;
}

/** A sink that can leave a run of zeros as a hole (a file on a file system with sparse files). */
export interface HoleSink extends ByteSink {
  skip(length: number): Promise<void>;
}
