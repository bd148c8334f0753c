// worker_threads entry of `nix-imager build`: builds what node/build-in-thread.ts asks for,
// then closes its port so the thread ends.
import { parentPort, workerData } from 'node:worker_threads';
import { AbortedError, toErrorData } from '../core/errors.ts';
import { buildImage } from '../core/pipeline/build-image.ts';
import type { Progress, Stage } from '../core/pipeline/progress.ts';
import type { BuildReply, BuildRequest } from './build-in-thread.ts';
import { dirname } from 'node:path';
import { createOutputSink, OUTPUT_TEMP } from './file-sink.ts';
import { sweepStale } from './stale-temporaries.ts';
import { createNodePlatform } from './platform.ts';
import { authHint } from './cache-credentials.ts';

const port = parentPort;
if (!port) throw new Error('node/build-thread-entry.ts must run as a worker_threads worker');
const { config, output, configDir, cacheDir, http, progress } = workerData as BuildRequest;
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
const platform = createNodePlatform({ configDir, cacheDir, threads: config.threads });
try {
  if (output !== '-') await sweepStale(dirname(output), OUTPUT_TEMP);
  const sink = await createOutputSink(output);
  post({ kind: 'done', summary: await buildImage(config, platform, sink, { signal: abort.signal, http: { ...http, authHint }, onProgress: progress ? onProgress : undefined }) });
} catch (e) {
  post({ kind: 'failed', error: toErrorData(e) });
} finally {
  await platform.dispose();
  port.close();
}
