import type { WalkEntry } from '../image/tree.ts';
import type { DataSource } from '../io/data-source.ts';

/**
 * Small files are read a few at a time ahead of the writer: each file's open, read and close
 * are round trips (a thread pool on Node, OPFS or a NAR slice in a browser), and waiting for
 * them one after the other, not the bytes, is what costs on a tree of many small files.
 */
export const SMALL_FILE = 256 * 1024;
export const AHEAD_FILES = 32;
const AHEAD_BYTES = 8 * 1024 * 1024;
const AHEAD_ENTRIES = 4096;

export interface Member extends WalkEntry {
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

/** The entries in order, small files' data started early: at most AHEAD_FILES files and AHEAD_BYTES ahead. */
export function* readAhead(entries: Iterator<WalkEntry>): Generator<Member> {
  const queue: Member[] = [];
  let files = 0;
  let bytes = 0;
  let ended = false;
  for (;;) {
    while (!ended && files < AHEAD_FILES && bytes < AHEAD_BYTES && queue.length < AHEAD_ENTRIES) {
      const next = entries.next();
      if (next.done) {
        ended = true;
        break;
      }
      const member: Member = next.value;
      const { node } = member;
      if (node.kind === 'file' && node.data.size <= SMALL_FILE) {
        member.data = collect(node.data);
        // a failure is thrown where the writer awaits it; until then (or if it never does) it is not unhandled
        member.data.catch(() => {});
        files++;
        bytes += node.data.size;
      }
      queue.push(member);
    }
    const member = queue.shift();
    if (member === undefined) return;
    if (member.data !== undefined && member.node.kind === 'file') {
      files--;
      bytes -= member.node.data.size;
    }
    yield member;
  }
}
