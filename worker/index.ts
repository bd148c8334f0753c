// Browser adapters ("nix-imager/web"), for a page or worker that runs the pipeline itself: the OPFS NAR
// cache, OPFS sinks, module codec workers, and a Platform made of them.
export { createBrowserPlatform } from './browser-platform.ts';
export type { BrowserPlatformOptions } from './browser-platform.ts';
export { opfsNarCache } from './opfs-nar-cache.ts';
export type { OpfsNarCache } from './opfs-nar-cache.ts';
export { createOpfsSink } from './opfs-sink.ts';
export type { OpfsSink } from './opfs-sink.ts';
export { opfsDir } from './opfs.ts';
export { offlineFetch } from './offline-fetch.ts';
export { poolOfWorkers } from '../core/codec/worker-pool.ts';
export type { CodecWorkerHandle } from '../core/codec/worker-pool.ts';
