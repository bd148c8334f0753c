import type { StreamCompressor } from '../codec/stream-compressor.ts';
import { identity } from '../codec/stream-compressor.ts';
import { xzDecompressor } from '../xz/xz-decompressor.ts';
import { zstdDecompressor } from '../zstd/zstd.ts';
import { NixImagerError } from '../errors.ts';
import type { CodecsLoader } from '../codec/wasm-codecs.ts';

export class UnsupportedCompressionError extends NixImagerError {
  override name = 'UnsupportedCompressionError';
  readonly code = 'nar';
}

/** The decoder for a narinfo's `Compression:` value. */
export function decompressorFor(compression: string, storePath: string, codecs?: CodecsLoader): StreamCompressor {
  switch (compression) {
    case 'none':
      return identity;
    case 'xz':
      return xzDecompressor(codecs);
    case 'zstd':
      return zstdDecompressor(codecs);
    default:
      throw new UnsupportedCompressionError(`${storePath}: NAR compression "${compression}" is not supported (xz, zstd and none are)`);
  }
}
