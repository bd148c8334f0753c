import type { StreamCompressor } from '../codec/stream-compressor.ts';
import type { CodecPool } from '../codec/pool.ts';
import { createLocalCodecPool } from '../codec/local-codec-pool.ts';
import { BlockBuffers, compressInOrder, cutBlocks, inFlightFor } from '../codec/block-pipeline.ts';
import { fetchedCodecs, type CodecsLoader } from '../codec/wasm-codecs.ts';
import { LzmaCoder, checkPreset, expectOk, type XzCheck } from './liblzma.ts';
import { blockRecord, streamHeader, streamTail, type IndexRecord } from './xz-format.ts';
import { XzError } from './xz-error.ts';
import { xzBlockCapacity } from './xz-encode.ts';

export interface XzCompressorOptions {
  /** 0-9, default 6. */
  preset?: number;
  extreme?: boolean;
  /**
   * Input bytes per block, default as `xz -T0`: 3 × the preset's dictionary, at least 1 MiB.
   * Infinity: one block, encoded in this thread as it streams (no buffering).
   */
  blockSize?: number;
  /** Most pool workers used at once (default: all of the pool). */
  threads?: number;
  /** Where blocks are encoded; default: this thread. */
  pool?: CodecPool;
  /** This thread's codecs, for what is encoded here (default: fetched beside the module). */
  codecs?: CodecsLoader;
}

const DICT_LOG2 = [18, 20, 21, 22, 22, 23, 23, 24, 25, 26];

/** liblzma's default multithreaded block size for a preset (lzma_lzma2_block_size). */
export function defaultBlockSize(preset: number): number {
  checkPreset(preset);
  return Math.max(3 * 2 ** DICT_LOG2[preset]!, 1 << 20);
}

const CHECK: XzCheck = 'crc64';

/**
 * tar → tar.xz: one .xz stream with CRC64. Input up to one block gives the bytes of
 * `xz -<preset> -T1`; longer input is cut into blocks encoded in parallel on the pool
 * and written in order, as liblzma's multithreaded encoder lays them out. The output
 * does not depend on the number of workers.
 */
export function xzCompressor(opts: XzCompressorOptions = {}): StreamCompressor {
  const preset = opts.preset ?? 6;
  const extreme = opts.extreme ?? false;
  checkPreset(preset);
  const blockSize = opts.blockSize ?? defaultBlockSize(preset);
  if (blockSize !== Infinity && !(Number.isSafeInteger(blockSize) && blockSize > 0))
    throw new XzError(`xz block size must be a positive integer or Infinity, got ${blockSize}`);
  if (blockSize === Infinity) return (input) => encodeUnsplit(input, preset, extreme, opts.codecs ?? fetchedCodecs);
  return (input) => encodeBlocks(input, preset, extreme, blockSize, opts);
}

async function* encodeUnsplit(input: AsyncIterable<Uint8Array>, preset: number, extreme: boolean, codecs: CodecsLoader): AsyncIterable<Uint8Array> {
  const coder = LzmaCoder.encoder(await codecs.instance(), { preset, extreme, check: CHECK });
  try {
    for await (const chunk of input) {
      const out: Uint8Array[] = [];
      expectOk(coder.code(chunk, false, (c) => out.push(c)), 'xz encoder');
      yield* out;
    }
    const out: Uint8Array[] = [];
    expectOk(coder.code(new Uint8Array(0), true, (c) => out.push(c)), 'xz encoder');
    yield* out;
  } finally {
    coder.end();
  }
}

async function* encodeBlocks(
  input: AsyncIterable<Uint8Array>, preset: number, extreme: boolean, blockSize: number, opts: XzCompressorOptions,
): AsyncIterable<Uint8Array> {
  const pool = opts.pool ?? createLocalCodecPool(opts.codecs ?? fetchedCodecs);
  try {
    const buffers = new BlockBuffers(xzBlockCapacity(blockSize));
    const blocks = cutBlocks(input, blockSize, buffers);
    const first = await blocks.next();
    const second = first.done ? first : await blocks.next();
    if (second.done) {
      // One block at most: the plain stream encoder, as single-threaded xz.
      yield await pool.compress({ codec: 'xz-stream', preset, extreme, check: CHECK }, first.done ? new Uint8Array(0) : first.value, true);
      return;
    }
    const job = { codec: 'xz-block', preset, extreme, check: CHECK, blockSize } as const;
    const records: IndexRecord[] = [];
    yield streamHeader(CHECK);
    for await (const { size, output } of compressInOrder(pool, job, chain([first.value, second.value], blocks), inFlightFor(pool, opts.threads), buffers)) {
      records.push(blockRecord(output, CHECK, size));
      yield output;
    }
    yield streamTail(CHECK, records);
  } finally {
    if (!opts.pool) await pool.close();
  }
}

async function* chain<T>(head: T[], rest: AsyncIterable<T>): AsyncGenerator<T> {
  yield* head;
  yield* rest;
}
