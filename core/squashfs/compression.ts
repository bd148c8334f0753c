import { zlibSync } from 'fflate';
import type { CodecJob, CodecPool } from '../codec/pool.ts';
import { xzEncodeBuffer } from '../xz/encode-buffer.ts';
import { zstdEncodeBuffer } from '../zstd/zstd.ts';
import { CompressionId, METADATA_SIZE } from './format.ts';
import { LeBuilder } from './le-builder.ts';
import { SquashfsError } from './squashfs-error.ts';
import type { CodecsLoader } from '../codec/wasm-codecs.ts';

/** Compresses one block (data, fragment or metadata); the writer keeps the raw block when this does not shrink it. */
export type BlockCompress = (data: Uint8Array) => Promise<Uint8Array>;

export type SquashfsCompression =
  | { codec: 'gzip'; level?: number }
  /** As mksquashfs -comp xz: preset 6, CRC32 check, dictionary = block size; with bcj each block is compressed with and without the filter and the smaller kept. */
  | { codec: 'xz'; preset?: number; bcj?: 'x86' | null; dictSize?: number }
  | { codec: 'zstd'; level?: number };

/** mksquashfs' defaults: gzip 9 (window 15), zstd 15. */
const GZIP_LEVEL = 9;
const GZIP_WINDOW = 15;
const ZSTD_LEVEL = 15;
const XZ_PRESET = 6;
const XZ_FILTER_X86 = 1;

export function compressionId(c: SquashfsCompression): number {
  return CompressionId[c.codec];
}

export function validateCompression(c: SquashfsCompression, blockSize: number): void {
  const bad = (what: string) => new SquashfsError(`compression ${c.codec}: ${what}`);
  switch (c.codec) {
    case 'gzip':
      if (c.level !== undefined && !(Number.isInteger(c.level) && c.level >= 1 && c.level <= 9)) throw bad(`level ${c.level} is not 1-9`);
      return;
    case 'zstd':
      if (c.level !== undefined && !(Number.isInteger(c.level) && c.level >= 1 && c.level <= 22)) throw bad(`level ${c.level} is not 1-22`);
      return;
    case 'xz': {
      if (c.preset !== undefined && !(Number.isInteger(c.preset) && c.preset >= 0 && c.preset <= 9)) throw bad(`preset ${c.preset} is not 0-9`);
      const dict = c.dictSize ?? blockSize;
      // squashfs readers accept 2^n and 2^n + 2^(n-1) dictionaries, at least 8 KiB and at most the block size.
      const low = dict & (dict - 1);
      const shapeOk = low === 0 || dict === (low | (low >> 1));
      if (!Number.isInteger(dict) || dict < 8192 || dict > blockSize || !shapeOk) throw bad(`dictionary size ${dict} is not 2^n or 2^n+2^(n-1) between 8 KiB and the block size`);
      return;
    }
  }
}

/**
 * The compressor options mksquashfs stores after the superblock, or null when all are its defaults
 * (then it stores none and leaves the COMP_OPT flag clear).
 */
export function compressorOptions(c: SquashfsCompression, blockSize: number): Uint8Array | null {
  const b = new LeBuilder();
  switch (c.codec) {
    case 'gzip':
      if ((c.level ?? GZIP_LEVEL) === GZIP_LEVEL) return null;
      b.u32(c.level!).u16(GZIP_WINDOW).u16(0);
      break;
    case 'zstd':
      if ((c.level ?? ZSTD_LEVEL) === ZSTD_LEVEL) return null;
      b.u32(c.level!);
      break;
    case 'xz': {
      const dict = c.dictSize ?? blockSize;
      const filters = c.bcj === 'x86' ? XZ_FILTER_X86 : 0;
      if (dict === blockSize && filters === 0) return null;
      b.u32(dict).u32(filters);
      break;
    }
  }
  return b.contents().slice();
}

/** Data and fragment blocks, and metadata blocks: mksquashfs' xz compresses the latter with an 8 KiB dictionary and no BCJ. */
export interface BlockCompressors {
  data: BlockCompress;
  metadata: BlockCompress;
}

/** The block compressors for `c`: on `pool`'s workers when given, else in this thread. */
export function blockCompressors(c: SquashfsCompression, blockSize: number, pool?: CodecPool, codecs?: CodecsLoader): BlockCompressors {
  const run = (job: CodecJob, local: BlockCompress): BlockCompress =>
    // The pool may transfer (detach) what it is given; the writer still needs the raw block.
    pool ? (data) => pool.compress(job, data.slice()) : local;
  const same = (f: BlockCompress): BlockCompressors => ({ data: f, metadata: f });
  switch (c.codec) {
    case 'gzip': {
      const level = (c.level ?? GZIP_LEVEL) as 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
      return same(run({ codec: 'zlib', level }, async (data) => zlibSync(data, { level })));
    }
    case 'zstd': {
      const level = c.level ?? ZSTD_LEVEL;
      return same(run({ codec: 'zstd', level }, (data) => zstdEncodeBuffer(data, level, codecs)));
    }
    case 'xz': {
      const xz = (dictSize: number, bcj: 'x86' | null) => {
        const job = { codec: 'xz', preset: c.preset ?? XZ_PRESET, check: 'crc32', dictSize, bcj } as const;
        return run(job, (data) => xzEncodeBuffer(data, job, codecs));
      };
      const plain = xz(c.dictSize ?? blockSize, null);
      const metadata = xz(METADATA_SIZE, null);
      if (c.bcj !== 'x86') return { data: plain, metadata };
      const x86 = xz(c.dictSize ?? blockSize, 'x86');
      const best: BlockCompress = async (data) => {
        const [a, b] = await Promise.all([plain(data), x86(data)]);
        return b.length < a.length ? b : a;
      };
      return { data: best, metadata };
    }
  }
}
