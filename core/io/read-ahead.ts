import type { DataSource } from './data-source.ts';

/**
 * Small files are read a few at a time ahead of the writer: each file's open, read and close
 * are round trips (a thread pool on Node, OPFS or a NAR slice in a browser), and waiting for
 * them one after the other, not the bytes, is what costs on a tree of many small files.
 */
export const SMALL_FILE = 256 * 1024;
export const AHEAD_FILES = 32;
const AHEAD_BYTES = 8 * 1024 * 1024;
const AHEAD_ENTRIES = 4096;

export interface Prefetched<T> {
  item: T;
  /**
   * A small file's chunks, already being read (at most one chunk past its size, for the writer to
   * see a lie). Kept as yielded: a source must not reuse a chunk's buffer once it has yielded it.
   */
  data?: Promise<Uint8Array[]>;
}

async function collect(source: DataSource): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  let got = 0;
  for await (const chunk of source.stream()) {
    chunks.push(chunk);
    got += chunk.length;
    if (got > source.size) break;
  }
  return chunks;
}

/**
 * The items in order, with the data of small files (`sourceOf` says which DataSource an item has)
 * started early: at most AHEAD_FILES files and AHEAD_BYTES ahead.
 */
export function* readAhead<T>(items: Iterator<T>, sourceOf: (item: T) => DataSource | undefined): Generator<Prefetched<T>> {
  const queue: { entry: Prefetched<T>; size: number }[] = [];
  let files = 0;
  let bytes = 0;
  let ended = false;
  for (;;) {
    while (!ended && files < AHEAD_FILES && bytes < AHEAD_BYTES && queue.length < AHEAD_ENTRIES) {
      const next = items.next();
      if (next.done) {
        ended = true;
        break;
      }
      const entry: Prefetched<T> = { item: next.value };
      const source = sourceOf(next.value);
      let size = 0;
      if (source !== undefined && source.size <= SMALL_FILE) {
        entry.data = collect(source);
        // a failure is thrown where the writer awaits it; until then (or if it never does) it is not unhandled
        entry.data.catch(() => {});
        files++;
        size = source.size;
        bytes += size;
      }
      queue.push({ entry, size });
    }
    const head = queue.shift();
    if (head === undefined) return;
    if (head.entry.data !== undefined) {
      files--;
      bytes -= head.size;
    }
    yield head.entry;
  }
}
