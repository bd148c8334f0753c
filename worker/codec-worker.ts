// Browser module-worker entry of the codec worker (core/codec/codec-worker.ts): serves itself on load.
import { serveCodecWorker } from '../core/codec/codec-worker.ts';

serveCodecWorker();
