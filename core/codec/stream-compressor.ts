/** A whole-output compressor (tar → tar.xz, tar.gz, …): chunks in, chunks out, bounded memory. */
export type StreamCompressor = (input: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>;

export const identity: StreamCompressor = (input) => input;
