import { transfer, type Remote } from 'comlink';
import type { CodecJob, CodecPool } from './pool.ts';
import type { CodecsLoader } from './wasm-codecs.ts';
import type { CodecWorkerApi } from './codec-worker.ts';
import { fromErrorData, NixImagerError } from '../errors.ts';

/** A started codec worker, however the platform makes one. */
export interface CodecWorkerHandle {
  api: Remote<CodecWorkerApi>;
  terminate(): Promise<unknown> | void;
  /** Rejects if the worker dies or fails to load: its pending calls would otherwise never settle. */
  failed?: Promise<never>;
}

export class CodecWorkerError extends NixImagerError {
  override name = 'CodecWorkerError';
  readonly code = 'io';
  constructor(reason: unknown) {
    super(`codec worker failed: ${reason instanceof Error ? reason.message : String(reason)}`);
  }
}

export class CodecPoolClosedError extends NixImagerError {
  override name = 'CodecPoolClosedError';
  readonly code = 'io';
  constructor() {
    super('codec pool is closed');
  }
}

/** Hands jobs to idle workers in arrival order; each worker runs one job at a time, with the module `codecs` compiled here. */
export function poolOfWorkers(workers: CodecWorkerHandle[], codecs: CodecsLoader): CodecPool {
  // A worker's death rejects the calls it has pending. Not Promise.race with `failed`: a promise that
  // never settles keeps every race's result alive through its reactions (a leaked block per call).
  const pending = workers.map(() => new Set<(e: unknown) => void>());
  const death: unknown[] = workers.map(() => undefined);
  workers.forEach((w, i) =>
    w.failed?.catch((e: unknown) => {
      death[i] = e ?? new CodecWorkerError('worker died');
      for (const reject of pending[i]!) reject(death[i]);
    }),
  );
  const settle = <T>(i: number, call: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (death[i] !== undefined) return reject(death[i]);
      pending[i]!.add(reject);
      call.then(resolve, reject).finally(() => pending[i]!.delete(reject));
    });
  const ready = workers.map((w, i) => settle(i, codecs.module().then((m) => w.api.init(m))));
  const idle = workers.map((_, i) => i);
  const waiting: (() => void)[] = [];
  let closed = false;

  async function acquire(): Promise<number> {
    while (idle.length === 0) await new Promise<void>((resume) => waiting.push(resume));
    return idle.shift()!;
  }
  function release(i: number): void {
    idle.push(i);
    waiting.shift()?.();
  }

  return {
    size: workers.length,
    async compress(job: CodecJob, data: Uint8Array, handOver = false): Promise<Uint8Array> {
      if (closed) throw new CodecPoolClosedError();
      // Only a buffer the data covers whole, or one the caller gives up, can be transferred; a view of a larger one is copied.
      const owned = data.buffer instanceof ArrayBuffer && (handOver || (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength));
      const payload = owned ? data : new Uint8Array(data); // a copy even for a Node Buffer, whose slice() is a view
      const i = await acquire();
      try {
        if (closed) throw new CodecPoolClosedError();
        await ready[i];
        return await settle(i, workers[i]!.api.compress(job, transfer(payload, [payload.buffer])).catch((e: unknown) => Promise.reject(fromErrorData(e))));
      } finally {
        release(i);
      }
    },
    async close() {
      closed = true;
      await Promise.all(workers.map((w) => w.terminate()));
      for (const resume of waiting.splice(0)) resume();
    },
  };
}
