import { wrap } from 'comlink';
import { platformWith, type Platform, type ScratchFile } from '../core/platform.ts';
import { fetchedCodecs } from '../core/codec/wasm-codecs.ts';
import type { Fetch } from '../core/cache/http.ts';
import type { CodecPool } from '../core/codec/pool.ts';
import { poolOfWorkers } from '../core/codec/worker-pool.ts';
import type { CodecWorkerApi } from '../core/codec/codec-worker.ts';
import { droppedFileNode } from './local-files.ts';
import { opfsDir, removeIfExists } from './opfs.ts';
import type { OpfsNarCache } from './opfs-nar-cache.ts';
import { opfsRandomAccess } from './opfs-random-access.ts';
import { createOpfsSink } from './opfs-sink.ts';
import { browserSqlite } from './sqlite-wasm.ts';
import { wasmSha256 } from './wasm-sha256.ts';

export interface BrowserPlatformOptions {
  fetch: Fetch;
  narCache: OpfsNarCache;
  /** Files dropped into the page, by name: what "local" content sources refer to. */
  files: Map<string, Blob>;
  /** Codec workers; 0 means one per logical core. */
  threads: number;
}

/** The browser side of core's Platform: OPFS for the NAR cache and scratch files, module workers for codecs, WebAssembly SHA-256. */
export async function createBrowserPlatform(opts: BrowserPlatformOptions): Promise<Platform> {
  // One scratch directory per build: two tabs building at once never share a file.
  const scratchId = crypto.randomUUID();
  const scratchParent = await opfsDir('scratch');
  const scratchDir = await scratchParent.getDirectoryHandle(scratchId, { create: true });
  let pool: CodecPool | undefined;
  return platformWith({
    sha256: await wasmSha256(),
    fetch: opts.fetch,
    narCache: opts.narCache,
    sqlite: browserSqlite,
    codecPool() {
      pool ??= poolOfWorkers(
        Array.from({ length: Math.max(1, opts.threads || navigator.hardwareConcurrency || 2) }, () => {
          const worker = new Worker(new URL('./codec-worker.ts', import.meta.url), { type: 'module', name: 'codec' });
          return { api: wrap<CodecWorkerApi>(worker), terminate: () => worker.terminate() };
        }),
        fetchedCodecs,
      );
      return pool;
    },
    async localNode(path) {
      return droppedFileNode(opts.files, path);
    },
    async scratchFile(name): Promise<ScratchFile> {
      const sink = await createOpfsSink(scratchDir, name);
      return { sink, open: () => opfsRandomAccess(sink.file), remove: () => removeIfExists(scratchDir, name) };
    },
    async dispose() {
      await pool?.close();
      await scratchParent.removeEntry(scratchId, { recursive: true }).catch(() => {});
    },
  });
}
