import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { HoleSink, SeekableSink } from '../core/io/sink.ts';
import { isZeros, type SparseChunk } from '../core/io/sparse.ts';

/** A file written under `temp`, fsynced and renamed to `final` only by commit(); abort() deletes it. */
export interface AtomicFile {
  write(chunk: Uint8Array): Promise<void>;
  /** Leaves `length` bytes as a hole (they read as zeros). */
  skip(length: number): void;
  writeAt(offset: number, bytes: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export async function openAtomicFile(temp: string, final: string): Promise<AtomicFile> {
  const handle = await open(temp, 'wx', 0o644);
  let size = 0;
  let finished = false;
  const writeAll = async (bytes: Uint8Array, position: number) => {
    for (let done = 0; done < bytes.length; ) done += (await handle.write(bytes, done, bytes.length - done, position + done)).bytesWritten;
  };
  return {
    async write(chunk) {
      await writeAll(chunk, size);
      size += chunk.length;
    },
    skip(length) {
      size += length;
    },
    async writeAt(offset, bytes) {
      if (offset + bytes.length > size) throw new Error(`writeAt past the end of ${final}`);
      await writeAll(bytes, offset);
    },
    async commit() {
      if (finished) return;
      finished = true;
      await handle.truncate(size);
      await handle.sync();
      await handle.close();
      await rename(temp, final);
    },
    async abort() {
      if (finished) return;
      finished = true;
      await handle.close().catch(() => {});
      await unlink(temp).catch(() => {});
    },
  };
}

/**
 * Writes to a temporary name beside `path` and renames it over `path` only on close(),
 * so a failed or interrupted build never leaves a half-written file under the output name.
 */
const tempBeside = (path: string) => join(dirname(path), `.${basename(path)}.part-${process.pid}-${Date.now().toString(36)}`);

export async function createFileSink(path: string): Promise<SeekableSink & HoleSink> {
  const file = await openAtomicFile(tempBeside(path), path);
  return { write: file.write, writeAt: file.writeAt, skip: async (n) => file.skip(n), close: file.commit, abort: file.abort };
}

/** Writes a sparse image to `path` with its Zeros runs as holes, under a temporary name until complete. */
export async function writeSparseFile(path: string, chunks: AsyncIterable<SparseChunk>): Promise<void> {
  const file = await openAtomicFile(tempBeside(path), path);
  try {
    for await (const c of chunks) {
      if (isZeros(c)) file.skip(c.zeros);
      else await file.write(c);
    }
    await file.commit();
  } catch (e) {
    await file.abort();
    throw e;
  }
}
