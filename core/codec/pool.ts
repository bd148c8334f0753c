import type { XzCheck } from '../xz/liblzma.ts';

/** A compression job a pool worker can run: plain data, so it can be posted to a worker. */
export type CodecJob =
  /** One block of a multi-block .xz stream (core/xz/xz-encode.ts encodeXzBlock). */
  | { codec: 'xz-block'; preset: number; extreme?: boolean; check: XzCheck; blockSize: number }
  /** A whole .xz stream with no sizes in its block header, as `xz -T1` writes it. */
  | { codec: 'xz-stream'; preset: number; extreme?: boolean; check: XzCheck }
  /** A whole .xz stream with both sizes in its block header, as mksquashfs writes it (xzEncodeBuffer). */
  | { codec: 'xz'; preset: number; extreme?: boolean; check: XzCheck; dictSize?: number; bcj?: 'x86' | null }
  /**
   * One zstd frame with the content size (zstdEncodeBuffer, as mksquashfs); with `checksum`,
   * also an XXH64 checksum, as `zstd --single-thread` compresses a file (parallel zstdCompressor blocks).
   */
  | { codec: 'zstd'; level: number; checksum?: boolean }
  /** zlib (RFC 1950) as squashfs gzip blocks hold it. */
  | { codec: 'zlib'; level: number };

/** Workers that compress whole buffers. */
export interface CodecPool {
  /**
   * Runs `job` over `data` on a free worker. `data`'s ArrayBuffer is transferred (the caller
   * must not use it afterwards) when `data` covers all of it, or when `handOver` says the caller
   * gives it up whole (a block buffer with room for the output, which may then be written into
   * it); otherwise `data` is copied.
   */
  compress(job: CodecJob, data: Uint8Array, handOver?: boolean): Promise<Uint8Array>;
  /** How many jobs run at once. */
  readonly size: number;
  close(): Promise<void>;
}
