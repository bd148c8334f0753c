import type { StreamCompressor } from '../codec/stream-compressor.ts';
import { fetchedCodecs, type CodecsLoader } from '../codec/wasm-codecs.ts';
import { LzmaCoder, LZMA_OK, LZMA_STREAM_END } from './liblzma.ts';
import { XzError, lzmaRetMessage } from './xz-error.ts';

/**
 * .xz → bytes (a `.nar.xz`), with liblzma in this thread: one or more concatenated
 * streams (stream padding allowed), every check verified. Corrupt, truncated or trailing
 * data throws XzError once it is found; the output is only complete if no error is thrown.
 */
export const xzDecompressor = (codecs: CodecsLoader = fetchedCodecs): StreamCompressor =>
  async function* decompress(input) {
    const coder = LzmaCoder.decoder(await codecs.instance());
    let consumed = 0;
    const fail = (ret: number): never => {
      throw new XzError(`xz decoding failed after ${consumed} input bytes: ${lzmaRetMessage(ret)}`);
    };
    try {
      // One output chunk at a time: the consumer stops a bomb after the first chunk too many.
      for await (const chunk of input) {
        const ret = yield* coder.steps(chunk, false);
        consumed += chunk.length;
        if (ret !== LZMA_OK) fail(ret);
      }
      const ret = yield* coder.steps(new Uint8Array(0), true);
      if (ret !== LZMA_STREAM_END) fail(ret);
    } finally {
      coder.end();
    }
  };
