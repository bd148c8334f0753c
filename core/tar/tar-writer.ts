import { walk, type ImageDir, type ImageNode } from '../image/tree.ts';
import type { BinaryString } from '../io/binary-string.ts';
import { binaryToText } from '../io/binary-string.ts';
import { TarError } from './tar-error.ts';
import { BLOCK, RECORD, headerBytes, headerSize, type HeaderFields } from './tar-header.ts';

export interface TarOptions {
  /** Seconds since the epoch stamped on every member (tar --mtime=@N); default 1, as make-system-tarball.sh. */
  mtime?: number;
}

/** Headers and small files are gathered into chunks of this size; larger pieces of file data pass through as they come. */
const CHUNK = 256 * 1024;
const PASS_THROUGH = 64 * 1024;

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

/** Batches small pieces into fresh chunks (never reused after being yielded) and lets big ones through. */
class Batcher {
  private chunk = new Uint8Array(CHUNK);
  private used = 0;

  *put(bytes: Uint8Array): Generator<Uint8Array> {
    if (bytes.length >= PASS_THROUGH) {
      yield* this.flush();
      yield bytes;
      return;
    }
    let at = 0;
    while (at < bytes.length) {
      const n = Math.min(bytes.length - at, CHUNK - this.used);
      this.chunk.set(bytes.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
      if (this.used === CHUNK) yield* this.flush();
    }
  }

  /** Appends `n` zero bytes (the chunk is fresh, so they are already zero). */
  *zeros(n: number): Generator<Uint8Array> {
    while (n > 0) {
      const k = Math.min(n, CHUNK - this.used);
      this.used += k;
      n -= k;
      if (this.used === CHUNK) yield* this.flush();
    }
  }

  *flush(): Generator<Uint8Array> {
    if (this.used === 0) return;
    yield this.chunk.subarray(0, this.used);
    this.chunk = new Uint8Array(CHUNK);
    this.used = 0;
  }
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
  for (const { path, node } of walk(root)) {
    const fields = memberFields(path, node, mtime);
    const header = headerBytes(fields);
    total += header.length;
    yield* out.put(header);
    if (node.kind !== 'file') continue;
    const expected = node.data.size;
    let got = 0;
    for await (const chunk of node.data.stream()) {
      got += chunk.length;
      if (got > expected) break;
      yield* out.put(chunk);
    }
    if (got !== expected) {
      throw new TarError(`file ${JSON.stringify(binaryToText(path))}: its data source yielded ${got > expected ? 'more than' : got} bytes, but its size is ${expected}`);
    }
    total += expected + padding(expected);
    yield* out.zeros(padding(expected));
  }
  yield* out.zeros(endPadding(total));
  yield* out.flush();
}

/** End of archive: two zero blocks, then zeros up to the end of the record. */
function endPadding(membersBytes: number): number {
  const withEnd = membersBytes + 2 * BLOCK;
  return withEnd + ((RECORD - (withEnd % RECORD)) % RECORD) - membersBytes;
}

/** The exact byte length tarStream will produce for this tree and options, without reading any file. */
export function tarSize(root: ImageDir, opts: TarOptions = {}): number {
  const mtime = opts.mtime ?? 1;
  let total = 0;
  for (const { path, node } of walk(root)) {
    const fields = memberFields(path, node, mtime);
    total += headerSize(fields) + fields.size + (node.kind === 'file' ? padding(fields.size) : 0);
  }
  return total + endPadding(total);
}
