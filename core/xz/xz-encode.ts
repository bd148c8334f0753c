// xz encoding jobs that run in one thread (a pool worker or in-process).
import type { Codecs } from '../codec/wasm-codecs.ts';
import { CHECK_SIZE, LzmaCoder, LZMA_STREAM_END, XZ_INCOMPRESSIBLE, expectOk, type EncoderOptions } from './liblzma.ts';
import { XzError, lzmaRetMessage } from './xz-error.ts';
import { concatBytes as concat } from '../io/bytes.ts';

/** A whole .xz stream of `data` with the plain stream encoder: byte-identical to `xz -T1`. */
export function encodeXzStream(w: Codecs, data: Uint8Array, o: EncoderOptions): Uint8Array {
  const coder = LzmaCoder.encoder(w, o);
  try {
    const parts: Uint8Array[] = [];
    expectOk(coder.code(data, true, (c) => parts.push(c)), 'xz encoder');
    return concat(parts);
  } finally {
    coder.end();
  }
}

const LZMA2_CHUNK_MAX = 1 << 16;
/** LZMA_BLOCK_HEADER_SIZE_MAX and LZMA_CHECK_SIZE_MAX. */
const BLOCK_HEADER_MAX = 1024;
const CHECK_MAX = 64;

/** LZMA2 data of `n` bytes stored in uncompressed chunks (3-byte header per 64 KiB), end marker included. */
function lzma2StoredSize(n: number): number {
  return n + 3 * Math.ceil(n / LZMA2_CHUNK_MAX) + 1;
}

/**
 * Room encodeXzBlock needs for a block of up to `blockSize` bytes: liblzma's block bound
 * (lzma_block_buffer_bound) plus the header's worth it writes the data after before moving it.
 */
export function xzBlockCapacity(blockSize: number): number {
  return 2 * BLOCK_HEADER_MAX + lzma2StoredSize(blockSize) + 3 + CHECK_MAX;
}

/**
 * One block of the parallel writer, as liblzma's multithreaded encoder writes it: header
 * with both sizes (space reserved for a full `blockSize` block), LZMA2 data, padding, check.
 * Data that does not compress is stored in LZMA2 uncompressed chunks, as liblzma does.
 * With `room` (data's own buffer, handed over) of xzBlockCapacity() bytes, the block is
 * written into it once the input is in linear memory: no buffer is allocated per block.
 */
export function encodeXzBlock(w: Codecs, data: Uint8Array, o: EncoderOptions, blockSize: number, room?: ArrayBuffer): Uint8Array {
  if (data.length === 0 || data.length > blockSize)
    throw new XzError(`xz block of ${data.length} bytes does not fit block size ${blockSize}`);
  const capacity = xzBlockCapacity(blockSize);
  const input = w.put(data);
  const coder = LzmaCoder.blockEncoder(w, o, blockSize);
  try {
    const out = room !== undefined && room.byteLength >= capacity ? new Uint8Array(room, 0, capacity) : new Uint8Array(capacity);
    // The header's size is known only at the end: the data goes after the largest possible one, then moves.
    let at = BLOCK_HEADER_MAX;
    const ret = coder.codeInMemory(input, data.length, true, (view) => {
      out.set(view, at);
      at += view.length;
    });
    if (ret === XZ_INCOMPRESSIBLE) return storeBlock(coder, input, data.length, o, out);
    if (ret !== LZMA_STREAM_END) throw new XzError(`xz block encoder: ${lzmaRetMessage(ret)}`);
    const scratch = w.alloc(BLOCK_HEADER_MAX);
    try {
      const headerSize = w.x.xz_block_header(coder.ptr, scratch);
      if (headerSize === 0) throw new XzError('xz block encoder: could not write the block header');
      out.copyWithin(headerSize, BLOCK_HEADER_MAX, at);
      out.set(w.view(scratch, headerSize), 0);
      return out.subarray(0, headerSize + at - BLOCK_HEADER_MAX);
    } finally {
      w.x.xz_free(scratch);
    }
  } finally {
    coder.end();
    w.x.xz_free(input);
  }
}

/** The `length` bytes at `input` (linear memory) as a block of LZMA2 uncompressed chunks, written into `out`. */
function storeBlock(coder: LzmaCoder, input: number, length: number, o: EncoderOptions, out: Uint8Array): Uint8Array {
  const w = coder.w;
  const scratch = w.alloc(BLOCK_HEADER_MAX);
  try {
    const headerSize = w.x.xz_uncompressed_header(coder.ptr, BigInt(length), scratch);
    if (headerSize === 0) throw new XzError('xz block encoder: could not write the stored block header');
    const lzma2Size = lzma2StoredSize(length);
    const padding = (4 - ((headerSize + lzma2Size) % 4)) % 4;
    const total = headerSize + lzma2Size + padding + CHECK_SIZE[o.check];
    out.set(w.view(scratch, headerSize), 0);
    let at = headerSize;
    for (let i = 0; i < length; i += LZMA2_CHUNK_MAX) {
      const n = Math.min(LZMA2_CHUNK_MAX, length - i);
      // Control byte 1 = uncompressed chunk with dictionary reset (first), 2 = without.
      out[at] = i === 0 ? 1 : 2;
      out[at + 1] = (n - 1) >> 8;
      out[at + 2] = (n - 1) & 0xff;
      out.set(w.view(input + i, n), at + 3);
      at += 3 + n;
    }
    out.fill(0, at, at + 1 + padding); // end marker 0x00 and zero padding
    at += 1 + padding;
    w.x.xz_check_update(coder.ptr, input, length);
    const checkSize = w.x.xz_check_finish(coder.ptr, scratch);
    out.set(w.view(scratch, checkSize), at);
    return out.subarray(0, total);
  } finally {
    w.x.xz_free(scratch);
  }
}
