import { Gzip, type DeflateOptions } from 'fflate';
import type { StreamCompressor } from './stream-compressor.ts';

export type GzipLevel = NonNullable<DeflateOptions['level']>;

/**
 * gzip through fflate's streaming deflate. The header carries no time and no file name, so the
 * output depends only on the input; memory stays at fflate's window plus one chunk's output.
 */
export function gzipCompressor(level: GzipLevel = 9): StreamCompressor {
  return async function* gzip(input) {
    let out: Uint8Array[] = [];
    const gz = new Gzip({ level, mtime: 0 }, (data) => {
      out.push(data);
    });
    for await (const chunk of input) {
      gz.push(chunk);
      if (out.length > 0) {
        const ready = out;
        out = [];
        yield* ready;
      }
    }
    gz.push(new Uint8Array(0), true);
    yield* out;
  };
}
