import type { SeekableSink } from '../core/io/sink.ts';

/**
 * Streams into a file the user picked (File System Access API), with no copy in OPFS: the browser
 * writes beside the file and swaps it in on close(); abort() discards what was written.
 */
export async function fileHandleSink(handle: FileSystemFileHandle): Promise<SeekableSink> {
  const writable = await handle.createWritable({ keepExistingData: false });
  let position = 0;
  return {
    async write(chunk) {
      await writable.write({ type: 'write', position, data: chunk as Uint8Array<ArrayBuffer> });
      position += chunk.length;
    },
    async writeAt(offset, bytes) {
      if (offset + bytes.length > position) throw new Error(`${handle.name}: writeAt past the end (${offset}+${bytes.length} > ${position})`);
      await writable.write({ type: 'write', position: offset, data: bytes as Uint8Array<ArrayBuffer> });
    },
    close: () => writable.close(),
    abort: (reason) => writable.abort(reason),
  };
}
