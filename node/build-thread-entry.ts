// worker_threads entry of `nix-imager build`: builds what node/build-in-thread.ts asks for,
// then closes its port so the thread ends.
import { parentPort, workerData } from 'node:worker_threads';
import { AbortedError, toErrorData } from '../core/errors.ts';
import { buildImage } from '../core/pipeline/build-image.ts';
import type { Progress, Stage } from '../core/pipeline/progress.ts';
import type { BuildReply, BuildRequest } from './build-in-thread.ts';
import { createDirectorySink } from './directory-sink.ts';
import { createFileSink } from './file-sink.ts';
import { createNodePlatform } from './platform.ts';

const port = parentPort;
if (!port) throw new Error('node/build-thread-entry.ts must run as a worker_threads worker');
const { config, output, configDir, cacheDir, progress } = workerData as BuildRequest;
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
  // A netboot build to `--output DIR/` unpacks its files there.
  const sink = output.endsWith('/') ? await createDirectorySink(output) : await createFileSink(output);
  post({ kind: 'done', summary: await buildImage(config, platform, sink, { signal: abort.signal, onProgress: progress ? onProgress : undefined }) });
} catch (e) {
  post({ kind: 'failed', error: toErrorData(e) });
} finally {
  await platform.dispose();
  port.close();
}
