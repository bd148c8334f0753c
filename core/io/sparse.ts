// Disk-sized images (FAT, ext4, a partitioned disk) are mostly unused space. Their writers lay out
// first, so they know before streaming which byte ranges can hold data; containers (qcow2, VHD,
// VMDK, VDI) need that map to write their tables ahead of the data in one pass, and file sinks
// leave the rest as holes.

/** A run of `zeros` bytes that the writer knows to be unused. */
export interface Zeros {
  readonly zeros: number;
}

export type SparseChunk = Uint8Array | Zeros;

/** A byte range [offset, offset + length). */
export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

/** An image of known size streamed in order, with its unused space as zero runs. */
export interface SparseSource {
  readonly size: number;
  /**
   * The ranges that may hold non-zero bytes: sorted, disjoint, known before streaming. Every byte
   * outside them reads as zero; `chunks()` gives those bytes as `Zeros` runs.
   */
  allocated(): readonly ByteRange[];
  /** The whole image in order: chunk lengths add up to `size`. */
  chunks(): AsyncIterable<SparseChunk>;
}

export const isZeros = (c: SparseChunk): c is Zeros => !(c instanceof Uint8Array);

export const chunkLength = (c: SparseChunk): number => (isZeros(c) ? c.zeros : c.length);

const ZERO_CHUNK = 1 << 20;

/** The same bytes with zero runs spelled out, in chunks of at most 1 MiB (one shared zero buffer: read, never keep). */
export async function* denseChunks(source: Pick<SparseSource, 'chunks'>): AsyncGenerator<Uint8Array> {
  const zero = new Uint8Array(ZERO_CHUNK);
  for await (const c of source.chunks()) {
    if (!isZeros(c)) {
      yield c;
      continue;
    }
    for (let left = c.zeros; left > 0; left -= ZERO_CHUNK) yield left >= ZERO_CHUNK ? zero : zero.subarray(0, left);
  }
}
