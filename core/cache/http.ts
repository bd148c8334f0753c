/** HTTP GET with a timeout and bounded retries with back-off and jitter, for binary caches. */
import { NixImagerError } from '../errors.ts';

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

export interface RetryOptions {
  /** Total tries, the first included. */
  attempts?: number;
  /** Per-try time limit for the response headers, in ms. */
  timeoutMs?: number;
  /** First back-off delay, in ms; doubled each retry, with ±50% jitter. */
  backoffMs?: number;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** A request that failed for good: refused, or still failing when the retries ran out. */
export class HttpError extends NixImagerError {
  override name = 'HttpError';
  readonly code = 'download';
  constructor(
    message: string,
    readonly url: string,
    /** The last HTTP status, when the server answered at all. */
    readonly status?: number,
  ) {
    super(message, { subject: url });
  }
}

function transient(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function backoff(attempt: number, baseMs: number): number {
  return baseMs * 2 ** attempt * (0.5 + Math.random());
}

function retryAfterMs(res: Response): number | undefined {
  const h = res.headers.get('retry-after');
  if (h === null) return undefined;
  const secs = Number(h);
  if (Number.isFinite(secs)) return Math.min(secs, 60) * 1000;
  const at = Date.parse(h);
  return Number.isFinite(at) ? Math.min(Math.max(at - Date.now(), 0), 60_000) : undefined;
}

/**
 * GETs `url`: resolves with a 2xx or 404 response (the caller reads the body), retries
 * transport errors, timeouts, 408/429/5xx; anything else, or running out of tries, throws HttpError.
 */
export async function getWithRetry(fetch: Fetch, url: string, opts: RetryOptions = {}): Promise<Response> {
  const attempts = opts.attempts ?? 5;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const backoffMs = opts.backoffMs ?? 250;
  let last = '';
  let lastStatus: number | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    opts.signal?.throwIfAborted();
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new Error(`no response in ${timeoutMs} ms`)), timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout.signal]) : timeout.signal;
    let wait: number | undefined;
    try {
      const res = await fetch(url, { signal, headers: opts.headers });
      if (res.ok || res.status === 404) return res;
      await res.body?.cancel().catch(() => {});
      if (!transient(res.status)) throw new HttpError(`HTTP ${res.status} for ${url}`, url, res.status);
      last = `HTTP ${res.status}`;
      lastStatus = res.status;
      wait = retryAfterMs(res);
    } catch (e) {
      if (e instanceof HttpError) throw e;
      if (opts.signal?.aborted) throw opts.signal.reason;
      last = timeout.signal.aborted ? `no response in ${timeoutMs} ms` : e instanceof Error ? e.message : String(e);
      lastStatus = undefined;
    } finally {
      clearTimeout(timer);
    }
    if (attempt + 1 < attempts) await delay(wait ?? backoff(attempt, backoffMs), opts.signal);
  }
  throw new HttpError(`${url}: gave up after ${attempts} tries (${last})`, url, lastStatus);
}
