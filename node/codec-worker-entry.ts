// worker_threads entry: the codec worker (worker/codec-worker.ts) over Node's MessagePort.
import { parentPort } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { serveCodecWorker } from '../worker/codec-worker.ts';

if (!parentPort) throw new Error('node/codec-worker-entry.ts must run as a worker_threads worker');
serveCodecWorker(nodeEndpoint(parentPort));
