import type { RandomAccess } from '../core/io/data-source.ts';
import { syncHandle } from './opfs.ts';

/** Reads an OPFS file through a read-only sync access handle (several may be open on one file). */
export async function opfsRandomAccess(file: FileSystemFileHandle): Promise<RandomAccess> {
  const handle = await syncHandle(file, 'read-only');
  const size = handle.getSize();
  return {
    size,
    async read(offset, length) {
      const buf = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
      const n = handle.read(buf, { at: offset });
      return n === buf.length ? buf : buf.subarray(0, n);
    },
    async close() {
      handle.close();
    },
  };
}
