import { open, readFile, type FileHandle } from 'node:fs/promises';
import { sliceSource, type DataSource, type RandomAccess } from '../core/io/data-source.ts';

/** Opens a file for positioned reads; `knownSize` saves the fstat when the caller has it. */
export async function openRandomAccess(path: string | Buffer, knownSize?: number): Promise<RandomAccess> {
  const handle = await open(path, 'r');
  return randomAccessOf(handle, knownSize ?? (await handle.stat()).size);
}

/** Positioned reads of an open file of `size` bytes; close() closes the handle. */
export function randomAccessOf(handle: FileHandle, size: number): RandomAccess {
  return {
    size,
    async read(offset, length) {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await handle.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === length ? buf : buf.subarray(0, got);
    },
    close: () => handle.close(),
  };
}

/** Files up to this size are read in one call: open/read/close round trips dominate small files. */
const SMALL_FILE = 1 << 20;

/** A local file as a DataSource of the given size (the size seen when the tree was built). */
export function fileSource(path: string | Buffer, size: number): DataSource {
  if (size > SMALL_FILE) return sliceSource(() => openRandomAccess(path, size), 0, size);
  return {
    size,
    async *stream() {
      const bytes = await readFile(path);
      if (bytes.length !== size) throw new Error(`${path.toString()} changed size while the image was written (${size} → ${bytes.length} bytes)`);
      if (size > 0) yield new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    },
  };
}
