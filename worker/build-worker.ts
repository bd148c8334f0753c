// The orchestrator worker: resolves closures and builds images with the same core as the CLI, on a
// browser Platform (OPFS NAR cache, OPFS output file, codec workers). The page talks to it through comlink.
import { expose } from 'comlink';
import { buildImage, planBuild, type BuildPlan } from '../core/pipeline/build-image.ts';
import { parseConfig, type BuildConfig } from '../core/pipeline/config.ts';
import { inspectToplevel, type ToplevelReport } from '../core/pipeline/toplevel-inspect.ts';
import type { Toplevel } from '../core/nixos/toplevel.ts';
import type { Progress, ProgressListener, Stage } from '../core/pipeline/progress.ts';
import type { Fetch, HttpError } from '../core/cache/http.ts';
import { UnavailablePathsError } from '../core/cache/resolve.ts';
import { narCacheKey } from '../core/store/nar-fetch.ts';
import { toErrorData } from '../core/errors.ts';
import { createBrowserPlatform } from './browser-platform.ts';
import { cacheFetch, type OriginLogin } from './cache-fetch.ts';
import { offlineFetch } from './offline-fetch.ts';
import { fileEntries, opfsDir } from './opfs.ts';
import { opfsNarCache } from './opfs-nar-cache.ts';
import { createOpfsSink } from './opfs-sink.ts';
import { fileHandleSink } from './file-handle-sink.ts';

export interface ClosurePath {
  path: string;
  narSize: number;
  fileSize: number;
  /** Its verified NAR is in this browser's cache already. */
  cached: boolean;
  /** Inside /nix-store.squashfs of an ISO rather than under /nix/store. */
  inSquashfs: boolean;
}

export interface PlanView {
  fileName: string;
  paths: ClosurePath[];
}

export interface BuildResult {
  fileName: string;
  /** The finished file's name in OPFS `nix-imager/outputs/`; null when it went to a file the user picked. */
  outputName: string | null;
  bytes: number;
  storePaths: number;
  narBytes: number;
  downloadBytes: number;
  seconds: number;
  /** The trusted keys whose signatures the build relied on (full "name:base64"), with how many store paths each signed. */
  signers: { key: string; paths: number }[];
  /** Store paths no trusted key signed (possible only with requireSigs off). */
  unsigned: number;
}

/** A toplevel as the page shows it before an image is chosen. */
export interface ToplevelView extends Pick<ToplevelReport, 'liveLabel' | 'suits'> {
  toplevel: Toplevel;
  paths: ClosurePath[];
}

export interface CacheUsage {
  entries: number;
  bytes: number;
}

const narCache = opfsDir('nar').then(opfsNarCache);
const metadata = opfsDir('metadata');
/** Cache requests for one build: with the user's credentials, narinfos kept for offline builds. */
interface CacheAccess {
  fetch: Fetch;
  /** The first refusal (401/403, CORS) a cache answered with. */
  refusal(): HttpError | undefined;
}

async function cacheAccess(logins: readonly OriginLogin[]): Promise<CacheAccess> {
  let refusal: HttpError | undefined;
  return { fetch: offlineFetch(await metadata, cacheFetch(logins, (e) => (refusal ??= e))), refusal: () => refusal };
}
const outputs = opfsDir('outputs');
// Temporary files a closed tab left behind; files still being written elsewhere are locked and stay.
void narCache.then((c) => c.sweep());

let running: AbortController | undefined;
let lastPlan: { key: string; plan: BuildPlan } | undefined;

/** The config as the CLI would read it, with relative substituters resolved against the page. */
function configOf(json: unknown, baseUrl: string): BuildConfig {
  return parseConfig(json, { resolveSubstituter: (s) => new URL(s, baseUrl).href });
}

/**
 * At most one message per stage every 100 ms crosses to the page, plus each stage's last; flush()
 * sends what was held back (the final counts of stages whose total is unknown).
 */
function throttled(send: ProgressListener): { listener: ProgressListener; flush(): void } {
  const last = new Map<Stage, number>();
  const held = new Map<Stage, Progress>();
  return {
    listener(p) {
      const now = performance.now();
      const final = p.total > 0 && p.done >= p.total;
      if (!final && now - (last.get(p.stage) ?? -Infinity) < 100) {
        held.set(p.stage, p);
        return;
      }
      held.delete(p.stage);
      last.set(p.stage, now);
      send(p);
    },
    flush() {
      for (const p of held.values()) send(p);
      held.clear();
    },
  };
}

/** Who vouched for the closure: each signing key with its path count, and the unsigned rest. */
function signersOf(config: BuildConfig, plan: BuildPlan): Pick<BuildResult, 'signers' | 'unsigned'> {
  const counts = new Map<string, number>();
  let unsigned = 0;
  for (const { signedBy } of plan.resolved.values()) {
    if (signedBy === undefined) unsigned++;
    else counts.set(signedBy, (counts.get(signedBy) ?? 0) + 1);
  }
  const fullKey = (name: string) => config.trustedPublicKeys.find((k) => k.startsWith(`${name}:`)) ?? name;
  return { signers: [...counts].map(([name, paths]) => ({ key: fullKey(name), paths })), unsigned };
}

async function planFor(config: BuildConfig, caches: CacheAccess, signal: AbortSignal, onProgress?: ProgressListener): Promise<BuildPlan> {
  const key = JSON.stringify(config);
  if (lastPlan?.key === key) return lastPlan.plan;
  let plan: BuildPlan;
  try {
    plan = await planBuild(config, caches.fetch, { signal, onProgress });
  } catch (e) {
    // Paths "missing" because a cache refused this page: the refusal is what the user can act on.
    throw e instanceof UnavailablePathsError ? (caches.refusal() ?? e) : e;
  }
  lastPlan = { key, plan };
  return plan;
}

function start(): AbortController {
  if (running) throw new Error('a build is already running in this tab; cancel it first');
  running = new AbortController();
  return running;
}

export const buildWorkerApi = {
  /**
   * Resolves the closure (narinfo only, nothing downloaded) and says which NARs are cached. `logins`
   * are private caches' credentials, each sent to its origin only.
   */
  async plan(json: unknown, baseUrl: string, logins: OriginLogin[], onProgress?: ProgressListener): Promise<PlanView> {
    const controller = start();
    try {
      const config = configOf(json, baseUrl);
      const progress = onProgress && throttled(onProgress);
      const plan = await planFor(config, await cacheAccess(logins), controller.signal, progress?.listener);
      progress?.flush();
      const cache = await narCache;
      const squashfs = new Set(plan.squashfsClosure);
      const paths = await Promise.all(
        [...plan.resolved.values()].map(async ({ info }) => ({
          path: info.storePath,
          narSize: info.narSize,
          fileSize: info.fileSize ?? 0,
          cached: await cache.has(narCacheKey(info.narHash)),
          inSquashfs: squashfs.has(info.storePath) && !plan.imageClosure.includes(info.storePath),
        })),
      );
      return { fileName: config.fileName, paths };
    } finally {
      running = undefined;
    }
  },

  /** Reads the config's toplevel from its caches: the closure's narinfos and the toplevel's own NAR. */
  async inspect(json: unknown, baseUrl: string, logins: OriginLogin[], onProgress?: ProgressListener): Promise<ToplevelView> {
    const controller = start();
    try {
      const config = configOf(json, baseUrl);
      const caches = await cacheAccess(logins);
      const platform = await createBrowserPlatform({ fetch: caches.fetch, narCache: await narCache, files: new Map(), threads: 1 });
      try {
        const progress = onProgress && throttled(onProgress);
        const report = await inspectToplevel(config, platform, { signal: controller.signal, onProgress: progress?.listener }).catch((e: unknown) => {
          throw e instanceof UnavailablePathsError ? (caches.refusal() ?? e) : e;
        });
        progress?.flush();
        const cache = await narCache;
        const paths = await Promise.all(
          report.closure.map(async ({ info }) => ({ path: info.storePath, narSize: info.narSize, fileSize: info.fileSize ?? 0, cached: await cache.has(narCacheKey(info.narHash)), inSquashfs: false })),
        );
        return { toplevel: report.toplevel, liveLabel: report.liveLabel, suits: report.suits, paths };
      } finally {
        await platform.dispose();
      }
    } finally {
      running = undefined;
    }
  },

  /** Builds the image into `target` (a file the user picked), else into OPFS `outputs/<fileName>` (temp name until complete). */
  async build(json: unknown, baseUrl: string, files: Map<string, Blob>, logins: OriginLogin[], onProgress?: ProgressListener, target?: FileSystemFileHandle): Promise<BuildResult> {
    const controller = start();
    const started = performance.now();
    try {
      const config = configOf(json, baseUrl);
      const progress = onProgress && throttled(onProgress);
      const caches = await cacheAccess(logins);
      const plan = await planFor(config, caches, controller.signal, progress?.listener);
      const dir = await outputs;
      await removeOtherOutputs(dir);
      const platform = await createBrowserPlatform({ fetch: caches.fetch, narCache: await narCache, files, threads: config.threads });
      try {
        const sink = target ? await fileHandleSink(target) : await createOpfsSink(dir, config.fileName);
        const summary = await buildImage(config, platform, sink, { signal: controller.signal, onProgress: progress?.listener, plan });
        progress?.flush();
        return { ...summary, ...signersOf(config, plan), outputName: target ? null : config.fileName, seconds: (performance.now() - started) / 1000 };
      } finally {
        await platform.dispose();
      }
    } finally {
      running = undefined;
    }
  },

  /** Stops the running build or resolution: downloads, codec workers, and the output file (deleted). */
  cancel(): void {
    running?.abort(new DOMException('the build was cancelled', 'AbortError'));
  },

  async cacheUsage(): Promise<CacheUsage> {
    return (await narCache).usage();
  },

  async clearCache(): Promise<void> {
    if (running) throw new Error('cannot clear the cache while a build is running');
    await (await narCache).clear();
    lastPlan = undefined;
  },
};
export type BuildWorkerApi = typeof buildWorkerApi;

/** Keeps one finished image at a time: outputs are large, and the last one is what the page offers. */
async function removeOtherOutputs(dir: FileSystemDirectoryHandle): Promise<void> {
  const names: string[] = [];
  for await (const f of fileEntries(dir)) names.push(f.name);
  for (const name of names) await dir.removeEntry(name).catch(() => {});
}

/** The API with each failure sent as ErrorData: comlink would keep only an Error's name and message. */
function reportingErrors<T extends Record<string, (...args: never[]) => unknown>>(api: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(api)) {
    out[name] = async (...args: never[]) => {
      try {
        return await method(...args);
      } catch (e) {
        throw toErrorData(e);
      }
    };
  }
  return out as T;
}

expose(reportingErrors(buildWorkerApi));
