// Container formats (qcow2, VHD, VMDK, VDI) store an image as fixed-size blocks and leave out the
// ones that hold nothing. These two walk a SparseSource in such blocks: which ones the allocated
// ranges touch (known before streaming, so tables can go first), then those blocks' bytes in order.
import { chunkLength, isZeros, type SparseChunk, type SparseSource } from './sparse.ts';
import { NixImagerError } from '../errors.ts';

/** A container file streamed in order, Zeros where it may have holes. */
export interface ContainerImage {
  /** The file's size, when it is known before streaming (not for compressed formats). */
  readonly size?: number;
  chunks(): AsyncIterable<SparseChunk>;
}

/** Indices of the `blockSize` blocks that some allocated range touches, ascending. */
export function allocatedBlocks(source: SparseSource, blockSize: number): number[] {
  const out: number[] = [];
  for (const r of source.allocated()) {
    if (r.length === 0) continue;
    const first = Math.floor(r.offset / blockSize);
    const last = Math.floor((r.offset + r.length - 1) / blockSize);
    for (let b = Math.max(first, out.length > 0 ? out[out.length - 1]! + 1 : 0); b <= last; b++) out.push(b);
  }
  return out;
}

/** A block of the image: its index and `blockSize` bytes (the last one padded with zeros), or Zeros when the source gave only zeros for it. */
export interface ImageBlock {
  readonly index: number;
  readonly data: SparseChunk;
}

export class SparseSourceError extends NixImagerError {
  override name = 'SparseSourceError';
  readonly code = 'image';
}

/** Whether every byte is zero. */
export const isAllZero = (b: Uint8Array): boolean => {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
};

/**
 * The blocks listed in `wanted` (ascending), in order, from one pass over `source`. Bytes of the
 * other blocks are dropped, so they must be zero as allocated() promised; a source breaking that
 * is an error rather than silent data loss.
 */
export async function* blocksOf(source: SparseSource, blockSize: number, wanted: readonly number[]): AsyncGenerator<ImageBlock> {
  let pos = 0;
  let w = 0;
  // The block being gathered from several chunks, or null while the block so far is zeros only.
  let pending: Uint8Array | null = null;
  let pendingFill = 0;
  const current = () => Math.floor(pos / blockSize);
  for await (const chunk of source.chunks()) {
    let off = 0;
    const len = chunkLength(chunk);
    while (off < len) {
      const block = current();
      const inBlock = pos - block * blockSize;
      while (w < wanted.length && wanted[w]! < block) w++;
      const keep = w < wanted.length && wanted[w] === block;
      // A zero run skips at once to the next wanted block (a 1 TiB disk is mostly one Zeros chunk).
      const nextWanted = w < wanted.length ? wanted[w]! * blockSize : Infinity;
      const take = !keep && isZeros(chunk) ? Math.min(len - off, nextWanted - pos) : Math.min(len - off, blockSize - inBlock);
      if (!keep) {
        if (!isZeros(chunk) && !isAllZero(chunk.subarray(off, off + take))) throw new SparseSourceError(`the image has data at byte ${pos} outside its allocated ranges`);
      } else if (inBlock === 0 && take === blockSize) {
        yield { index: block, data: isZeros(chunk) ? { zeros: blockSize } : chunk.subarray(off, off + take) };
      } else {
        if (!isZeros(chunk)) {
          pending ??= new Uint8Array(blockSize);
          pending.set(chunk.subarray(off, off + take), inBlock);
        }
        pendingFill = inBlock + take;
        if (pendingFill === blockSize) {
          yield { index: block, data: pending ?? { zeros: blockSize } };
          pending = null;
          pendingFill = 0;
        }
      }
      off += take;
      pos += take;
    }
  }
  if (pos !== source.size) throw new SparseSourceError(`the image gave ${pos} bytes; its size is ${source.size}`);
  if (pendingFill > 0) yield { index: current(), data: pending ?? { zeros: blockSize } };
}
