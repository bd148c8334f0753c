/**
 * Where an image goes. Nothing written counts until `close()` resolves;
 * `abort()` discards everything (no half-written file under the output name).
 */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(reason?: unknown): Promise<void>;
}

/** Collects everything in memory: for tests and small outputs only. */
export class MemorySink implements ByteSink {
  private parts: Uint8Array[] = [];
  private length = 0;
  closed = false;

  async write(chunk: Uint8Array): Promise<void> {
    this.parts.push(chunk.slice());
    this.length += chunk.length;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  async abort(): Promise<void> {
    this.parts = [];
    this.length = 0;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** A sink that can also patch bytes already written (squashfs writes its superblock last). */
export interface SeekableSink extends ByteSink {
  /** Overwrites bytes at `offset`, which must lie within what was already written. */
  writeAt(offset: number, bytes: Uint8Array): Promise<void>;
}
