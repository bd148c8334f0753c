import { isZeros, type SparseChunk } from '../../core/io/sparse.ts';
import type { SparseData } from '../../core/ext4/ext4-writer.ts';

/** A file of `size` bytes holding `pieces` at their offsets and zeros elsewhere (a file with holes). */
export function sparseData(size: number, pieces: { offset: number; bytes: Uint8Array }[]): SparseData {
  const sorted = [...pieces].sort((a, b) => a.offset - b.offset);
  async function* chunks(): AsyncGenerator<SparseChunk> {
    let at = 0;
    for (const p of sorted) {
      if (p.offset > at) yield { zeros: p.offset - at };
      yield p.bytes;
      at = p.offset + p.bytes.length;
    }
    if (size > at) yield { zeros: size - at };
  }
  return {
    size,
    allocated: () => sorted.map((p) => ({ offset: p.offset, length: p.bytes.length })),
    chunks,
    async *stream() {
      for await (const c of chunks()) yield isZeros(c) ? new Uint8Array(c.zeros) : c;
    },
  };
}
