/**
 * A whole-output compressor (tar → tar.xz, tar.gz, …): chunks in, chunks out, bounded memory.
 * Output chunks are lent: one stays valid until the next is asked for (a compressor may write a
 * later block into its buffer), so a consumer that keeps chunks copies them.
 */
export type StreamCompressor = (input: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>;

export const identity: StreamCompressor = (input) => input;
