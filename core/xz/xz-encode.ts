// xz encoding jobs that run in one thread (a pool worker or in-process).
import type { Codecs } from '../codec/wasm-codecs.ts';
import { CHECK_SIZE, LzmaCoder, LZMA_STREAM_END, XZ_INCOMPRESSIBLE, expectOk, type EncoderOptions } from './liblzma.ts';
import { XzError, lzmaRetMessage } from './xz-error.ts';
import { concatBytes as concat } from '../io/bytes.ts';


/** Runs `coder` over all of `data` to the end; returns the last lzma_ret and everything it wrote. */
function codeAll(coder: LzmaCoder, data: Uint8Array): { ret: number; parts: Uint8Array[]; total: number } {
  const parts: Uint8Array[] = [];
  let total = 0;
  const ret = coder.code(data, true, (c) => {
    parts.push(c);
    total += c.length;
  });
  return { ret, parts, total };
}

/** A whole .xz stream of `data` with the plain stream encoder: byte-identical to `xz -T1`. */
export function encodeXzStream(w: Codecs, data: Uint8Array, o: EncoderOptions): Uint8Array {
  const coder = LzmaCoder.encoder(w, o);
  try {
    const { ret, parts, total } = codeAll(coder, data);
    expectOk(ret, 'xz encoder');
    return concat(parts, total);
  } finally {
    coder.end();
  }
}

const LZMA2_CHUNK_MAX = 1 << 16;

/**
 * One block of the parallel writer, as liblzma's multithreaded encoder writes it: header
 * with both sizes (space reserved for a full `blockSize` block), LZMA2 data, padding, check.
 * Data that does not compress is stored in LZMA2 uncompressed chunks, as liblzma does.
 */
export function encodeXzBlock(w: Codecs, data: Uint8Array, o: EncoderOptions, blockSize: number): Uint8Array {
  if (data.length === 0 || data.length > blockSize)
    throw new XzError(`xz block of ${data.length} bytes does not fit block size ${blockSize}`);
  const coder = LzmaCoder.blockEncoder(w, o, blockSize);
  try {
    const { ret, parts, total } = codeAll(coder, data);
    if (ret === XZ_INCOMPRESSIBLE) return storeBlock(coder, data, o);
    if (ret !== LZMA_STREAM_END) throw new XzError(`xz block encoder: ${lzmaRetMessage(ret)}`);
    const scratch = w.alloc(1024);
    try {
      const headerSize = w.x.xz_block_header(coder.ptr, scratch);
      if (headerSize === 0) throw new XzError('xz block encoder: could not write the block header');
      return concat([w.copyOut(scratch, headerSize), ...parts], headerSize + total);
    } finally {
      w.x.xz_free(scratch);
    }
  } finally {
    coder.end();
  }
}

function storeBlock(coder: LzmaCoder, data: Uint8Array, o: EncoderOptions): Uint8Array {
  const w = coder.w;
  const scratch = w.alloc(1024);
  const chunk = w.alloc(LZMA2_CHUNK_MAX);
  try {
    const headerSize = w.x.xz_uncompressed_header(coder.ptr, BigInt(data.length), scratch);
    if (headerSize === 0) throw new XzError('xz block encoder: could not write the stored block header');
    const chunks = Math.ceil(data.length / LZMA2_CHUNK_MAX);
    const lzma2Size = data.length + 3 * chunks + 1;
    const padding = (4 - ((headerSize + lzma2Size) % 4)) % 4;
    const out = new Uint8Array(headerSize + lzma2Size + padding + CHECK_SIZE[o.check]);
    out.set(w.copyOut(scratch, headerSize), 0);
    let at = headerSize;
    for (let i = 0; i < data.length; i += LZMA2_CHUNK_MAX) {
      const piece = data.subarray(i, i + LZMA2_CHUNK_MAX);
      // Control byte 1 = uncompressed chunk with dictionary reset (first), 2 = without.
      out[at] = i === 0 ? 1 : 2;
      out[at + 1] = (piece.length - 1) >> 8;
      out[at + 2] = (piece.length - 1) & 0xff;
      out.set(piece, at + 3);
      at += 3 + piece.length;
      w.memory.set(piece, chunk);
      w.x.xz_check_update(coder.ptr, chunk, piece.length);
    }
    at += 1 + padding; // end marker 0x00 and zero padding
    const checkSize = w.x.xz_check_finish(coder.ptr, scratch);
    out.set(w.copyOut(scratch, checkSize), at);
    return out;
  } finally {
    w.x.xz_free(scratch);
    w.x.xz_free(chunk);
  }
}
