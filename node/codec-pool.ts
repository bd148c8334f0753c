import { availableParallelism } from 'node:os';
import { wrap } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { CodecPool } from '../core/codec/pool.ts';
import { CodecWorkerError, poolOfWorkers } from '../core/codec/worker-pool.ts';
import type { CodecWorkerApi } from '../core/codec/codec-worker.ts';
import { nodeCodecs } from './codec-wasm.ts';
import { startWorker, workerEntry } from './start-worker.ts';

/** The codec worker's entry (node/codec-worker-entry.ts, bundled as dist/codec-worker.mjs). */
export const CODEC_WORKER_URL = workerEntry('codec-worker-entry', 'codec-worker');

/** A pool of worker_threads running codec jobs, each given the module this thread compiles from disk. */
export function createNodeCodecPool(threads = availableParallelism(), workerUrl: URL = CODEC_WORKER_URL): CodecPool {
  const workers = Array.from({ length: Math.max(1, threads) }, () => {
    const worker = startWorker(workerUrl);
    let closing = false;
    const failed = new Promise<never>((_, reject) => {
      worker.once('error', (e) => reject(new CodecWorkerError(e)));
      worker.once('exit', (code) => closing || reject(new CodecWorkerError(`worker exited with code ${code}`)));
    });
    const terminate = () => {
      closing = true;
      return worker.terminate();
    };
    return { api: wrap<CodecWorkerApi>(nodeEndpoint(worker)), terminate, failed };
  });
  return poolOfWorkers(workers, nodeCodecs);
}
