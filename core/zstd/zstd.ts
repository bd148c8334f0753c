// zstd with libzstd 1.5.4 in wasm (wasm/zstd-entry.c): streaming compression as
// `zstd --single-thread` writes it, one-shot frames as mksquashfs writes them, decoding of .nar.zst.
import type { StreamCompressor } from '../codec/stream-compressor.ts';
import { fetchedCodecs, type Codecs, type CodecsLoader } from '../codec/wasm-codecs.ts';
import type { CodecPool } from '../codec/pool.ts';
import { BlockBuffers, compressInOrder, cutBlocks, inFlightFor } from '../codec/block-pipeline.ts';
import { NixImagerError } from '../errors.ts';

export class ZstdError extends NixImagerError {
  override name = 'ZstdError';
  readonly code = 'image';
}

const CHUNK = 1 << 20;

function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < 1 || level > 22) throw new ZstdError(`zstd level must be an integer 1-22, got ${level}`);
}

function errorName(w: Codecs, code: number): string {
  const p = w.x.zs_error_name(code);
  const mem = w.memory;
  let end = p;
  while (mem[end] !== 0) end++;
  return new TextDecoder().decode(mem.subarray(p, end));
}

/** A libzstd stream in a Codecs instance, with its linear-memory buffers. */
class ZstdCoder {
  readonly inBuf: number;
  readonly outBuf: number;
  private constructor(
    readonly w: Codecs,
    readonly ptr: number,
  ) {
    this.inBuf = w.alloc(CHUNK);
    this.outBuf = w.alloc(CHUNK);
  }
  static async open(codecs: CodecsLoader, make: (w: Codecs) => number, what: string): Promise<ZstdCoder> {
    const w = await codecs.instance();
    const ptr = make(w);
    if (ptr === 0) throw new ZstdError(`libzstd could not set up the ${what}`);
    return new ZstdCoder(w, ptr);
  }
  /** Throws ZstdError if `r` is a libzstd error code; else returns it. */
  check(r: number, what: string): number {
    if (this.w.x.zs_is_error(r)) throw new ZstdError(`${what}: ${errorName(this.w, r)}`);
    return r;
  }
  end(): void {
    this.w.x.zs_end(this.ptr);
    this.w.x.xz_free(this.inBuf);
    this.w.x.xz_free(this.outBuf);
  }
}

export interface ZstdCompressorOptions {
  /** Compress blocks in parallel here (one frame per block); without it, one frame streamed in this thread. */
  pool?: CodecPool;
  /** Input bytes per frame with a pool, default 32 MiB (4 × the level-19 window). */
  blockSize?: number;
  /** Most pool workers used at once (default: all of the pool). */
  threads?: number;
  /** This thread's codecs, for what is encoded here (default: fetched beside the module). */
  codecs?: CodecsLoader;
}

/**
 * bytes → .zst at `level`, with XXH64 checksums. Without a pool: one frame, no content size,
 * byte-identical to `zstd -<level> --single-thread` reading a pipe, streamed in this thread.
 * With a pool: one frame per `blockSize` bytes, each byte-identical to `zstd -<level>
 * --single-thread` of that block as a file; the same bytes for any number of workers.
 */
export function zstdCompressor(level = 19, opts: ZstdCompressorOptions = {}): StreamCompressor {
  checkLevel(level);
  const blockSize = opts.blockSize ?? 32 << 20;
  if (!(Number.isSafeInteger(blockSize) && blockSize > 0)) throw new ZstdError(`zstd block size must be a positive integer, got ${blockSize}`);
  const pool = opts.pool;
  if (pool)
    return async function* frames(input) {
      const job = { codec: 'zstd', level, checksum: true } as const;
      const buffers = new BlockBuffers(zstdBound(blockSize));
      const blocks = cutBlocks(input, blockSize, buffers);
      for await (const { output } of compressInOrder(pool, job, blocks, inFlightFor(pool, opts.threads), buffers)) yield output;
    };
  return async function* compress(input) {
    const c = await ZstdCoder.open(opts.codecs ?? fetchedCodecs, (w) => w.x.zs_compressor_new(level, 1), 'zstd compressor');
    const { x } = c.w;
    try {
      const pass = (data: Uint8Array, end: boolean): Uint8Array[] => {
        const out: Uint8Array[] = [];
        let offset = 0;
        do {
          const n = Math.min(CHUNK, data.length - offset);
          c.w.memory.set(data.subarray(offset, offset + n), c.inBuf);
          offset += n;
          const last = end && offset === data.length;
          for (let pos = 0; ; ) {
            const left = c.check(x.zs_compress(c.ptr, c.inBuf + pos, n - pos, c.outBuf, CHUNK, last ? 1 : 0), 'zstd compression');
            pos += x.zs_in_used(c.ptr);
            const produced = x.zs_out_used(c.ptr);
            if (produced > 0) out.push(c.w.copyOut(c.outBuf, produced));
            if (last ? left === 0 : pos === n && produced < CHUNK) break;
          }
        } while (offset < data.length);
        return out;
      };
      for await (const chunk of input) yield* pass(chunk, false);
      yield* pass(new Uint8Array(0), true);
    } finally {
      c.end();
    }
  };
}

/** ZSTD_COMPRESSBOUND: the most a frame of `n` bytes can take. */
export function zstdBound(n: number): number {
  const small = 128 << 10;
  return n + (n >>> 8) + (n < small ? (small - n) >>> 11 : 0);
}

/**
 * One frame with the content size: without checksum as mksquashfs writes a squashfs zstd block
 * (ZSTD_compressCCtx); with it as `zstd --single-thread` compresses a file. With `room` (data's
 * own buffer, handed over), the frame is written into it when it fits.
 */
export function encodeZstdBuffer(w: Codecs, data: Uint8Array, level: number, checksum = false, room?: ArrayBuffer): Uint8Array {
  checkLevel(level);
  const cap = w.x.zs_bound(data.length);
  const input = w.put(data);
  const out = w.alloc(cap);
  try {
    const encode = checksum ? w.x.zs_compress_frame : w.x.zs_compress_buffer;
    const r = encode(level, input, data.length, out, cap);
    if (w.x.zs_is_error(r)) throw new ZstdError(`zstd compression of ${data.length} bytes: ${errorName(w, r)}`);
    if (room === undefined || room.byteLength < r) return w.copyOut(out, r);
    const frame = new Uint8Array(room, 0, r);
    frame.set(w.view(out, r));
    return frame;
  } finally {
    w.x.xz_free(input);
    w.x.xz_free(out);
  }
}

/** zstdEncodeBuffer in this thread (a pool runs it as the 'zstd' CodecJob). */
export async function zstdEncodeBuffer(data: Uint8Array, level: number, codecs: CodecsLoader = fetchedCodecs): Promise<Uint8Array> {
  return encodeZstdBuffer(await codecs.instance(), data, level);
}

/**
 * .zst → bytes (a `.nar.zst`): one or more frames, checksums verified when present.
 * Corrupt data, a truncated last frame or trailing garbage throws ZstdError.
 */
export const zstdDecompressor = (codecs: CodecsLoader = fetchedCodecs): StreamCompressor =>
  async function* decompress(input) {
    const c = await ZstdCoder.open(codecs, (w) => w.x.zs_decompressor_new(), 'zstd decompressor');
    const { x } = c.w;
    let consumed = 0;
    // 0 once the last frame is complete; nothing read yet counts as incomplete.
    let pending = 1;
    try {
      for await (const data of input) {
        for (let offset = 0; offset < data.length; ) {
          const n = Math.min(CHUNK, data.length - offset);
          c.w.memory.set(data.subarray(offset, offset + n), c.inBuf);
          for (let pos = 0; ; ) {
            const r = x.zs_decompress(c.ptr, c.inBuf + pos, n - pos, c.outBuf, CHUNK);
            pending = c.check(r, `zstd decoding failed after ${consumed + offset + pos} input bytes`);
            pos += x.zs_in_used(c.ptr);
            const produced = x.zs_out_used(c.ptr);
            if (produced > 0) yield c.w.copyOut(c.outBuf, produced);
            if (pos === n && produced < CHUNK) break;
          }
          offset += n;
        }
        consumed += data.length;
      }
      if (pending !== 0) throw new ZstdError(`zstd data is truncated: it ends inside a frame after ${consumed} bytes`);
    } finally {
      c.end();
    }
  };
