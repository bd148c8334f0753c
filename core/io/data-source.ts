/** Bytes of known length that can be streamed (more than once) in order. */
export interface DataSource {
  readonly size: number;
  /** Yields the bytes in order; chunk sizes are arbitrary, their total is `size`. */
  stream(): AsyncIterable<Uint8Array>;
}

/** `parts` one after the other. */
export function concatSources(parts: readonly DataSource[]): DataSource {
  return {
    size: parts.reduce((n, p) => n + p.size, 0),
    async *stream() {
      for (const p of parts) yield* p.stream();
    },
  };
}

export function bytesSource(bytes: Uint8Array): DataSource {
  return {
    size: bytes.length,
    async *stream() {
      if (bytes.length > 0) yield bytes;
    },
  };
}

/** Random access to a stored file (a cached NAR, a local file, an OPFS entry). */
export interface RandomAccess {
  readonly size: number;
  /** Reads exactly `length` bytes at `offset` (fewer only at end of file). */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

const SLICE_CHUNK = 1 << 20;

/**
 * A window [offset, offset+size) of a random-access file, opened lazily on each stream.
 * A class, not a closure: a closure of 300 000 files holds one per file, and this is the smaller.
 */
class SliceSource implements DataSource {
  constructor(
    private readonly open: () => Promise<RandomAccess>,
    private readonly offset: number,
    readonly size: number,
  ) {}

  async *stream(): AsyncGenerator<Uint8Array> {
    const { open, offset, size } = this;
    const file = await open();
    try {
      for (let done = 0; done < size; ) {
        const n = Math.min(SLICE_CHUNK, size - done);
        const chunk = await file.read(offset + done, n);
        if (chunk.length !== n) throw new Error(`short read: wanted ${n} bytes at ${offset + done}, got ${chunk.length}`);
        yield chunk;
        done += n;
      }
    } finally {
      await file.close();
    }
  }
}

export function sliceSource(open: () => Promise<RandomAccess>, offset: number, size: number): DataSource {
  return new SliceSource(open, offset, size);
}

/**
 * Shares one open file among its concurrent users (the many small files of one NAR), so a
 * tree of thousands of files does not open, stat and close the same NAR thousands of times.
 * The file is closed when its last user closes it.
 */
export function sharedOpener(open: () => Promise<RandomAccess>): () => Promise<RandomAccess> {
  let shared: Promise<RandomAccess> | undefined;
  let users = 0;
  return async () => {
    users++;
    shared ??= open();
    let file: RandomAccess;
    try {
      file = await shared;
    } catch (e) {
      users--;
      shared = undefined;
      throw e;
    }
    let closed = false;
    return {
      size: file.size,
      read: (offset, length) => file.read(offset, length),
      async close() {
        if (closed) return;
        closed = true;
        if (--users === 0) {
          shared = undefined;
          await file.close();
        }
      },
    };
  };
}
