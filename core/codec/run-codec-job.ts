import { zlibSync } from 'fflate';
import type { CodecJob } from './pool.ts';
import type { CodecsLoader } from './wasm-codecs.ts';
import { encodeXzBlock, encodeXzStream } from '../xz/xz-encode.ts';
import { encodeXzBuffer } from '../xz/encode-buffer.ts';
import { encodeZstdBuffer } from '../zstd/zstd.ts';

/**
 * Runs one job in this thread (a pool worker, or in-process). With `room` (data's buffer,
 * handed over), block jobs write their output into it instead of a new buffer.
 */
export async function runCodecJob(codecs: CodecsLoader, job: CodecJob, data: Uint8Array, room?: ArrayBuffer): Promise<Uint8Array> {
  switch (job.codec) {
    case 'zlib':
      return zlibSync(data, { level: job.level as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 });
    case 'xz-block':
      return encodeXzBlock(await codecs.instance(), data, job, job.blockSize, room);
    case 'xz-stream':
      return encodeXzStream(await codecs.instance(), data, job);
    case 'xz':
      return encodeXzBuffer(await codecs.instance(), data, job);
    case 'zstd':
      return encodeZstdBuffer(await codecs.instance(), data, job.level, job.checksum ?? false, room);
  }
}
