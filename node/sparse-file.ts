import { isZeros, type SparseChunk, type SparseSource } from '../core/io/sparse.ts';
import { openAtomicFile, tempBeside } from './file-sink.ts';

/** Writes sparse chunks to `path`, zero runs left as holes, under a temporary name until complete; returns the bytes. */
export async function writeSparseChunks(path: string, chunks: AsyncIterable<SparseChunk>): Promise<number> {
  const file = await openAtomicFile(tempBeside(path), path);
  let at = 0;
  try {
    for await (const c of chunks) {
      if (isZeros(c)) file.skip(c.zeros);
      else await file.write(c);
      at += isZeros(c) ? c.zeros : c.length;
    }
    await file.commit();
    return at;
  } catch (e) {
    await file.abort();
    throw e;
  }
}

/** Writes a sparse image to `path`, its zero runs left as holes; checks chunk lengths add up to `size`. */
export async function writeSparseFile(source: SparseSource, path: string): Promise<void> {
  const at = await writeSparseChunks(path, source.chunks());
  if (at !== source.size) throw new Error(`chunks gave ${at} bytes, size says ${source.size}`);
}
