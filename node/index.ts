// Node adapters ("nix-imager/node"): build a config to a file as the CLI does, or assemble a Platform of your own.
export { buildToFile, defaultCacheDir, substituterUrl } from './build-to-file.ts';
export type { BuildToFileOptions } from './build-to-file.ts';
export { createNodePlatform, nodeEd25519Verify, nodeSha256 } from './platform.ts';
export type { NodePlatformOptions } from './platform.ts';
export { createNodeCodecPool } from './codec-pool.ts';
export { nodeCodecs } from './codec-wasm.ts';
export { createFileSink } from './file-sink.ts';
export { narCacheDir } from './nar-cache-dir.ts';
export { fetchWithFiles } from './file-fetch.ts';
