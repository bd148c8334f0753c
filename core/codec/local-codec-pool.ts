import type { CodecJob, CodecPool } from './pool.ts';
import { runCodecJob } from './run-codec-job.ts';
import type { CodecsLoader } from './wasm-codecs.ts';

/** A pool of one that runs jobs in this thread, one after the other (threads = 1, tests). */
export function createLocalCodecPool(codecs: CodecsLoader): CodecPool {
  let queue: Promise<unknown> = Promise.resolve();
  return {
    size: 1,
    compress(job: CodecJob, data: Uint8Array, handOver = false): Promise<Uint8Array> {
      const result = queue.then(() => runCodecJob(codecs, job, data, handOver ? data.buffer as ArrayBuffer : undefined));
      queue = result.catch(() => undefined);
      return result;
    },
    async close() {
      await queue;
    },
  };
}
