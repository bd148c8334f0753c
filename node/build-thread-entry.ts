// worker_threads entry of `nix-imager build`: builds what node/build-in-thread.ts asks for,
// then closes its port so the thread ends.
import { parentPort, workerData } from 'node:worker_threads';
import { AbortedError, toErrorData } from '../core/errors.ts';
import type { Progress, Stage } from '../core/pipeline/progress.ts';
import type { BuildReply, BuildRequest } from './build-in-thread.ts';
import { buildToFile } from './build-to-file.ts';
import { authHint } from './cache-credentials.ts';

const port = parentPort;
if (!port) throw new Error('node/build-thread-entry.ts must run as a worker_threads worker');
const { json, output, configDir, cacheDir, threads, http, progress } = workerData as BuildRequest;
const abort = new AbortController();
port.on('message', (m) => {
  if (m === 'abort') abort.abort(new AbortedError('interrupted'));
});
const post = (m: BuildReply) => port.postMessage(m);
// The latest of each stage, at most every 100 ms: the main thread redraws no more often.
const latest = new Map<Stage, Progress>();
let posted = 0;
const onProgress = (p: Progress) => {
  latest.set(p.stage, p);
  if (Date.now() - posted < 100) return;
  posted = Date.now();
  post({ kind: 'progress', progress: [...latest.values()] });
  latest.clear();
};
try {
  post({ kind: 'done', summary: await buildToFile(json, output, { configDir, cacheDir, threads, http: { ...http, authHint }, signal: abort.signal, onProgress: progress ? onProgress : undefined }) });
} catch (e) {
  post({ kind: 'failed', error: toErrorData(e) });
} finally {
  port.close();
}
