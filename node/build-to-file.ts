import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildImage, type BuildSummary, type CacheRequestOptions } from '../core/pipeline/build-image.ts';
import { parseConfig } from '../core/pipeline/config.ts';
import type { ProgressListener } from '../core/pipeline/progress.ts';
import { createDirectorySink } from './directory-sink.ts';
import { createOutputSink, OUTPUT_TEMP } from './file-sink.ts';
import { sweepStale } from './stale-temporaries.ts';
import { createNodePlatform } from './platform.ts';

export interface BuildToFileOptions {
  /** Where relative substituters and local sources are found (the config file's directory); default: the working directory. */
  configDir?: string;
  /** The NAR cache; default: $NIX_IMAGER_CACHE, else $XDG_CACHE_HOME/nix-imager, else ~/.cache/nix-imager. */
  cacheDir?: string;
  /** Compression workers, 0 = one per core; default: the config's "threads". */
  threads?: number;
  /** Time limits and credentials for the substituters. */
  http?: CacheRequestOptions;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export function defaultCacheDir(): string {
  const fromEnv = process.env['NIX_IMAGER_CACHE'];
  if (fromEnv) return fromEnv;
  return join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'nix-imager');
}

/** A substituter as written in a config: a URL, or a path relative to the config's directory. */
export function substituterUrl(s: string, configDir: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(s)) return s;
  return pathToFileURL(resolve(configDir, s)).href;
}

/**
 * Builds the image `config` (the JSON of a config file) describes into `outputPath`, as
 * `nix-imager build` does: the file appears there only when complete; on failure nothing is left.
 * `-` is standard output, an existing device or FIFO is written into (see createOutputSink).
 * A netboot build to a path ending in "/" writes its files into that directory.
 */
export async function buildToFile(config: unknown, outputPath: string, opts: BuildToFileOptions = {}): Promise<BuildSummary> {
  const configDir = resolve(opts.configDir ?? '.');
  const parsed = parseConfig(config, { resolveSubstituter: (s) => substituterUrl(s, configDir) });
  const platform = createNodePlatform({ configDir, cacheDir: resolve(opts.cacheDir ?? defaultCacheDir()), threads: opts.threads ?? parsed.threads });
  try {
    const output = outputPath === '-' ? outputPath : resolve(outputPath);
    if (output !== '-') await sweepStale(dirname(output), OUTPUT_TEMP);
    // A netboot build to `--output DIR/` unpacks its files there.
    const sink = outputPath.endsWith('/') ? await createDirectorySink(output) : await createOutputSink(output, opts.signal);
    return await buildImage(parsed, platform, sink, { signal: opts.signal, onProgress: opts.onProgress, http: opts.http });
  } finally {
    await platform.dispose();
  }
}
