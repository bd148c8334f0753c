import type { SeekableSink } from '../core/io/sink.ts';
import { moveOver, removeIfExists, syncHandle, tempName } from './opfs.ts';

export interface OpfsSink extends SeekableSink {
  /** The file under its final name, once close() resolved. */
  readonly file: FileSystemFileHandle;
}

/**
 * Streams to `dir/<temp name>` through a sync access handle (memory stays bounded by one chunk)
 * and renames it to `name` only on close(); abort() deletes it, so no half file is ever under `name`.
 */
export async function createOpfsSink(dir: FileSystemDirectoryHandle, name: string): Promise<OpfsSink> {
  const temp = tempName(name);
  const file = await dir.getFileHandle(temp, { create: true });
  const handle = await syncHandle(file, 'readwrite');
  let position = 0;
  let finished = false;
  const put = (bytes: Uint8Array, at: number) => {
    const n = handle.write(bytes, { at });
    if (n !== bytes.length) throw new Error(`${name}: wrote ${n} of ${bytes.length} bytes at ${at} (storage full?)`);
  };
  return {
    file,
    async write(chunk) {
      put(chunk, position);
      position += chunk.length;
    },
    async writeAt(offset, bytes) {
      if (offset + bytes.length > position) throw new Error(`${name}: writeAt past the end (${offset}+${bytes.length} > ${position})`);
      put(bytes, offset);
    },
    async close() {
      if (finished) return;
      finished = true;
      handle.flush();
      handle.close();
      await moveOver(file, dir, name);
    },
    async abort() {
      if (finished) return;
      finished = true;
      handle.close();
      await removeIfExists(dir, temp);
    },
  };
}
