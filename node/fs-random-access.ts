import { open } from 'node:fs/promises';
import { sliceSource, type DataSource, type RandomAccess } from '../core/io/data-source.ts';

export async function openRandomAccess(path: string | Buffer): Promise<RandomAccess> {
  const handle = await open(path, 'r');
  const { size } = await handle.stat();
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

/** A local file as a DataSource of the given size (the size seen when the tree was built). */
export function fileSource(path: string | Buffer, size: number): DataSource {
  return sliceSource(() => openRandomAccess(path), 0, size);
}
