import { Worker, type WorkerOptions } from 'node:worker_threads';

/** A worker_threads worker from a bundled .mjs, or from a .ts entry when running from source. */
export function startWorker(url: URL, options?: WorkerOptions): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  // Node 20 workers do not get tsx's loader from the inherited `--import tsx`: register it first.
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(url.href)}); });`, { ...options, eval: true });
}

/**
 * A worker entry of this directory: `source` (node/<source>.ts) when running from source, else the
 * bundle scripts/build-cli.mjs makes of it beside the CLI (dist/<bundle>.mjs).
 */
export function workerEntry(source: string, bundle: string): URL {
  return import.meta.url.endsWith('.ts') ? new URL(`./${source}.ts`, import.meta.url) : new URL(`./${bundle}.mjs`, import.meta.url);
}
