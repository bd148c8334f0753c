import { walk, type ImageDir, type ImageNode } from '../image/tree.ts';
import type { BinaryString } from '../io/binary-string.ts';
import { binaryToText } from '../io/binary-string.ts';
import { readAhead } from '../io/read-ahead.ts';
import { TarError } from './tar-error.ts';
import { BLOCK, RECORD, headerSize, putHeaders, type HeaderFields } from './tar-header.ts';

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

/**
 * Batches small pieces into fresh chunks (never reused once taken) and lets big ones through.
 * Plain methods, not generators: delegating to a generator from an async generator costs
 * promise ticks per member even when nothing is ready.
 */
class Batcher {
  private chunk = new Uint8Array(CHUNK);
  private used = 0;
  private ready: Uint8Array[] = [];

  put(bytes: Uint8Array): void {
    if (bytes.length >= PASS_THROUGH) {
      this.flush();
      this.ready.push(bytes);
      return;
    }
    let at = 0;
    while (at < bytes.length) {
      const n = Math.min(bytes.length - at, CHUNK - this.used);
      this.chunk.set(bytes.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
      if (this.used === CHUNK) this.flush();
    }
  }

  /**
   * Room for `n` bytes, zeroed and contiguous: in the current chunk, or a new one when it lacks room.
   * Fill it before the next take(): a chunk that the reservation filled is already queued.
   */
  reserve(n: number): { buffer: Uint8Array; at: number } {
    if (n > CHUNK - this.used) {
      this.flush();
      if (n > CHUNK) this.chunk = new Uint8Array(n);
    }
    const at = this.used;
    this.used += n;
    if (this.used >= CHUNK) {
      const buffer = this.chunk;
      this.flush();
      return { buffer, at };
    }
    return { buffer: this.chunk, at };
  }

  /** Appends `n` zero bytes (the chunk is fresh, so they are already zero). */
  zeros(n: number): void {
    while (n > 0) {
      const k = Math.min(n, CHUNK - this.used);
      this.used += k;
      n -= k;
      if (this.used === CHUNK) this.flush();
    }
  }

  flush(): void {
    if (this.used === 0) return;
    this.ready.push(this.chunk.subarray(0, this.used));
    this.chunk = new Uint8Array(CHUNK);
    this.used = 0;
  }

  /** The chunks completed so far, handed over. */
  take(): Uint8Array[] {
    const ready = this.ready;
    this.ready = [];
    return ready;
  }

  get pending(): boolean {
    return this.ready.length > 0;
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
