// The codec worker: runs CodecJobs for a pool (core/codec/worker-pool.ts). Each platform has a thin
// entry that serves it: worker/codec-worker.ts (a browser module worker), node/codec-worker-entry.ts (worker_threads).
import { expose, transfer, type Endpoint } from 'comlink';
import type { CodecJob } from './pool.ts';
import { runCodecJob } from './run-codec-job.ts';
import { codecsLoader, type CodecsLoader } from './wasm-codecs.ts';
import { toErrorData } from '../errors.ts';

/** This worker's codecs: the module the pool's thread compiled and sent (init). */
let codecs: CodecsLoader | undefined;

const codecWorkerApi = {
  init(module: WebAssembly.Module): void {
    codecs = codecsLoader(async () => module);
  },
  /** `data`'s buffer was transferred here whole: block jobs write their output into it, and it goes back. */
  async compress(job: CodecJob, data: Uint8Array): Promise<Uint8Array> {
    // A failure goes back as ErrorData (comlink would keep only an Error's name and message).
    let out = await runCodecJob(codecs!, job, data, data.buffer as ArrayBuffer).catch((e: unknown) => {
      throw toErrorData(e);
    });
    if (out.buffer !== data.buffer && (out.byteOffset !== 0 || out.byteLength !== out.buffer.byteLength)) out = new Uint8Array(out);
    return transfer(out, [out.buffer]);
  },
};
export type CodecWorkerApi = typeof codecWorkerApi;

export function serveCodecWorker(endpoint?: Endpoint): void {
  expose(codecWorkerApi, endpoint);
}
