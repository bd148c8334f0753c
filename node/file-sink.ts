import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { SeekableSink } from '../core/io/sink.ts';

/**
 * Writes to a temporary name beside `path` and renames it over `path` only on close(),
 * so a failed or interrupted build never leaves a half-written file under the output name.
 */
export async function createFileSink(path: string): Promise<SeekableSink> {
  const temp = join(dirname(path), `.${basename(path)}.part-${process.pid}-${Date.now().toString(36)}`);
  const handle = await open(temp, 'wx', 0o644);
  let position = 0;
  let finished = false;
  return {
    async write(chunk) {
      let done = 0;
      while (done < chunk.length) {
        const { bytesWritten } = await handle.write(chunk, done, chunk.length - done, position);
        done += bytesWritten;
        position += bytesWritten;
      }
    },
    async writeAt(offset, bytes) {
      if (offset + bytes.length > position) throw new Error(`writeAt past the end of ${path}`);
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, offset + done);
        done += bytesWritten;
      }
    },
    async close() {
      if (finished) return;
      finished = true;
      await handle.sync();
      await handle.close();
      await rename(temp, path);
    },
    async abort() {
      if (finished) return;
      finished = true;
      await handle.close().catch(() => {});
      await unlink(temp).catch(() => {});
    },
  };
}
