// worker_threads entry of the codec worker (core/codec/codec-worker.ts) over Node's MessagePort.
import { parentPort } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { serveCodecWorker } from '../core/codec/codec-worker.ts';

if (!parentPort) throw new Error('node/codec-worker-entry.ts must run as a worker_threads worker');
serveCodecWorker(nodeEndpoint(parentPort));
