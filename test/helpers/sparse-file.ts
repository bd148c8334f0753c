import { open } from 'node:fs/promises';
import { isZeros, type SparseChunk, type SparseSource } from '../../core/io/sparse.ts';
import type { SparseData } from '../../core/ext4/ext4-writer.ts';

/** Writes a sparse image to `path`, its zero runs left as holes; checks chunk lengths add up to `size`. */
export async function writeSparseFile(source: SparseSource, path: string): Promise<void> {
  const file = await open(path, 'w');
  try {
    let at = 0;
    for await (const c of source.chunks()) {
      if (isZeros(c)) at += c.zeros;
      else {
        await file.write(c, 0, c.length, at);
        at += c.length;
      }
    }
    if (at !== source.size) throw new Error(`chunks gave ${at} bytes, size says ${source.size}`);
    await file.truncate(at);
  } finally {
    await file.close();
  }
}

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
