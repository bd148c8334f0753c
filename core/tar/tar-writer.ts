import { walk, type ImageDir, type ImageNode } from '../image/tree.ts';
import type { BinaryString } from '../io/binary-string.ts';
import { binaryToText } from '../io/binary-string.ts';
import { Batcher } from '../io/batcher.ts';
import { readAhead } from '../io/read-ahead.ts';
import { TarError } from './tar-error.ts';
import { BLOCK, RECORD, headerSize, putHeaders, type HeaderFields } from './tar-header.ts';

export interface TarOptions {
  /** Seconds since the epoch stamped on every member (tar --mtime=@N); default 1, as make-system-tarball.sh. */
  mtime?: number;
}

/** Symlinks have no mode in the tree; on Linux they are always 0777, which GNU tar records. */
const SYMLINK_MODE = 0o777;

function memberFields(path: BinaryString, node: ImageNode, mtime: number): HeaderFields {
  switch (node.kind) {
    case 'dir':
      return { name: `${path}/`, mode: node.mode & 0o7777, size: 0, mtime, type: '5' };
    case 'file':
      return { name: path, mode: node.mode & 0o7777, size: node.data.size, mtime, type: '0' };
    case 'symlink':
      return { name: path, mode: SYMLINK_MODE, size: 0, mtime, type: '2', linkname: node.target };
  }
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function checkMtime(mtime: number): void {
  if (!Number.isSafeInteger(mtime) || mtime < 0) throw new TarError(`mtime ${mtime} is not a non-negative integer number of seconds`);
}

/**
 * The archive `cd DIR && tar --sort=name --mtime=@N --owner=0 --group=0 --numeric-owner -c <top-level names>`
 * writes for this tree (GNU tar 1.34, format gnu), byte for byte: members in walk() order, file data
 * streamed from each DataSource, two zero blocks, and zeros up to a whole 10240-byte record.
 */
export async function* tarStream(root: ImageDir, opts: TarOptions = {}): AsyncGenerator<Uint8Array> {
  const mtime = opts.mtime ?? 1;
  checkMtime(mtime);
  const out = new Batcher();
  let total = 0;
  for (const { item: { path, node }, data } of readAhead(walk(root), (e) => (e.node.kind === 'file' ? e.node.data : undefined))) {
    const fields = memberFields(path, node, mtime);
    const size = headerSize(fields);
    const { buffer, at } = out.reserve(size);
    putHeaders(buffer, at, fields);
    total += size;
    if (node.kind !== 'file') continue;
    const expected = node.data.size;
    let got = 0;
    for await (const chunk of data ? await data : node.data.stream()) {
      got += chunk.length;
      if (got > expected) break;
      out.put(chunk);
      if (out.pending) yield* out.take();
    }
    if (got !== expected) {
      throw new TarError(`file ${JSON.stringify(binaryToText(path))}: its data source yielded ${got > expected ? 'more than' : got} bytes, but its size is ${expected}`);
    }
    total += expected + padding(expected);
    out.zeros(padding(expected));
    if (out.pending) yield* out.take();
  }
  out.zeros(endPadding(total));
  out.flush();
  yield* out.take();
}

/** End of archive: two zero blocks, then zeros up to the end of the record. */
function endPadding(membersBytes: number): number {
  const withEnd = membersBytes + 2 * BLOCK;
  return withEnd + ((RECORD - (withEnd % RECORD)) % RECORD) - membersBytes;
}

/** The exact byte length tarStream will produce for this tree (any mtime), without reading any file. */
export function tarSize(root: ImageDir): number {
  let total = 0;
  for (const { path, node } of walk(root)) {
    const fields = memberFields(path, node, 0);
    total += headerSize(fields) + fields.size + padding(fields.size);
  }
  return total + endPadding(total);
}
