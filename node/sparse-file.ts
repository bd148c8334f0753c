import { open } from 'node:fs/promises';
import { isZeros, type SparseSource } from '../core/io/sparse.ts';

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
