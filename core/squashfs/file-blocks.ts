import type { DataSource } from '../io/data-source.ts';
import { SquashfsError } from './squashfs-error.ts';

/**
 * A file's bytes cut into `blockSize` blocks (the last one shorter), each in its own buffer.
 * Fails when the stream does not hold exactly `source.size` bytes.
 */
export async function* fileBlocks(source: DataSource, blockSize: number, path: string): AsyncGenerator<Uint8Array> {
  const size = source.size;
  let seen = 0;
  let block = new Uint8Array(Math.min(blockSize, size));
  let fill = 0;
  for await (const chunk of source.stream()) {
    if (seen + chunk.length > size) throw new SquashfsError(`${path}: data is longer than its size ${size}`);
    seen += chunk.length;
    for (let at = 0; at < chunk.length; ) {
      const n = Math.min(block.length - fill, chunk.length - at);
      block.set(chunk.subarray(at, at + n), fill);
      fill += n;
      at += n;
      if (fill === block.length) {
        yield block;
        block = new Uint8Array(Math.min(blockSize, size - seen + (chunk.length - at)));
        fill = 0;
      }
    }
  }
  if (seen !== size) throw new SquashfsError(`${path}: data ended after ${seen} of ${size} bytes`);
}

/** Whether two sources hold the same bytes (sizes already equal). */
export async function sameBytes(a: DataSource, b: DataSource, blockSize: number, path: string): Promise<boolean> {
  const left = fileBlocks(a, blockSize, path);
  const right = fileBlocks(b, blockSize, path);
  try {
    for (;;) {
      const [x, y] = await Promise.all([left.next(), right.next()]);
      if (x.done || y.done) return x.done === y.done;
      if (!equalBytes(x.value, y.value)) return false;
    }
  } finally {
    await left.return(undefined);
    await right.return(undefined);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether a block is all zero bytes (stored as a hole: size word 0, no data). */
export function isZeroBlock(block: Uint8Array): boolean {
  const words = block.byteOffset % 4 === 0 ? new Int32Array(block.buffer, block.byteOffset, block.length >>> 2) : new Int32Array(0);
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  for (let i = words.length * 4; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/**
 * A fast non-cryptographic digest of a file's `size` and first `bytes` that picks duplicate
 * candidates, which are then compared byte for byte. A small integer, so that a map of one per
 * file costs no string (300 000 files made 300 000 key strings).
 */
export function contentKey(size: number, bytes: Uint8Array): number {
  let a = 0x811c9dc5 ^ size;
  let b = 0x9747b28c ^ Math.floor(size / 2 ** 32);
  const words = bytes.byteOffset % 4 === 0 ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2) : new Int32Array(0);
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!;
    a = Math.imul(a ^ v, 0x01000193);
    b = Math.imul(b + v, 0x5bd1e995) ^ (b >>> 13);
  }
  for (let i = words.length * 4; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i]!, 0x01000193);
    b = Math.imul(b + bytes[i]!, 0x5bd1e995) ^ (b >>> 13);
  }
  return (a ^ Math.imul(b, 0x27d4eb2d)) & 0x3fffffff;
}
