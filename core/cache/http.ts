/** HTTP GET with time limits and bounded retries with back-off and jitter, for binary caches. */
import { NixImagerError } from '../errors.ts';
import { concatBytes } from '../io/bytes.ts';
import { authorizationFor, type CacheCredentials } from './credentials.ts';

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

export interface RetryOptions {
  /** Total tries, the first included. */
  attempts?: number;
  /**
   * Per-try time limit for the response headers, in ms; also the window of the body's rate check:
   * a body that brings fewer than `minBytesPerSecond` × this in any such window is stalled.
   */
  timeoutMs?: number;
  /** Slowest body accepted, in bytes per second (averaged over `timeoutMs`). */
  minBytesPerSecond?: number;
  /** First back-off delay, in ms; doubled each retry, with ±50% jitter. */
  backoffMs?: number;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Sent as Authorization to the host each was given for (see credentials.ts). */
  credentials?: CacheCredentials;
  /** What the platform tells a user refused with 401/403 (which setting takes credentials for `host`). */
  authHint?: (host: string) => string;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MIN_BYTES_PER_SECOND = 1024;

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

  /** The same failure (same class, URL and status), its message led by what was being fetched. */
  about(what: string): HttpError {
    const Same = this.constructor as new (message: string, url: string, status?: number) => HttpError;
    return new Same(`${what}: ${this.message}`, this.url, this.status);
  }
}

/** 401 or 403: the cache wants credentials, or refused the ones sent. No retry can help. */
export class CacheAuthError extends HttpError {
  override name = 'CacheAuthError';
}

function authError(url: string, status: number, sent: boolean, hint: RetryOptions['authHint']): CacheAuthError {
  const host = new URL(url).hostname;
  const what = sent ? `the cache refused the credentials given for ${host}` : `the cache wants credentials for ${host}, and none were given`;
  return new CacheAuthError(`${url}: HTTP ${status}: ${what}${hint ? `; ${hint(host)}` : ''}`, url, status);
}

/** The connection failed or stalled mid-body: worth another try, unlike bytes that arrived and are wrong. */
export class TransportError extends NixImagerError {
  override name = 'TransportError';
  readonly code = 'download';
  constructor(
    readonly url: string,
    readonly problem: string,
  ) {
    super(`${problem} (${url})`, { subject: url });
  }
}

/** A body that came too slowly (or not at all): a TransportError that no resume at the same offset is likely to cure. */
export class StalledError extends TransportError {
  override name = 'StalledError';
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

function headersFor(url: string, opts: RetryOptions): Record<string, string> | undefined {
  const auth = opts.credentials === undefined ? undefined : authorizationFor(url, opts.credentials);
  return auth === undefined ? opts.headers : { ...opts.headers, authorization: auth };
}

/**
 * GETs `url` and hands a 2xx or 404 response to `consume`; retries transport errors, timeouts,
 * 408/429/5xx and a TransportError from `consume` (a body that broke or stalled); anything else,
 * or running out of tries, throws HttpError.
 */
export async function fetchWithRetry<T>(fetch: Fetch, url: string, opts: RetryOptions, consume: (res: Response) => Promise<T>): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const backoffMs = opts.backoffMs ?? 250;
  let last = '';
  let lastStatus: number | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    opts.signal?.throwIfAborted();
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new Error(`no response in ${timeoutMs} ms`)), timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout.signal]) : timeout.signal;
    let wait: number | undefined;
    let res: Response | undefined;
    const headers = headersFor(url, opts);
    try {
      res = await fetch(url, { signal, headers });
    } catch (e) {
      // A fetch that throws an HttpError (the page's CORS or credentials refusal) says no retry helps.
      if (e instanceof HttpError) throw e;
      if (opts.signal?.aborted) throw opts.signal.reason;
      last = timeout.signal.aborted ? `no response in ${timeoutMs} ms` : e instanceof Error ? e.message : String(e);
      lastStatus = undefined;
    } finally {
      clearTimeout(timer);
    }
    if (res !== undefined) {
      if (res.ok || res.status === 404) {
        try {
          return await consume(res);
        } catch (e) {
          if (!(e instanceof TransportError)) throw e;
          last = e.message;
          lastStatus = undefined;
        }
      } else {
        await res.body?.cancel().catch(() => {});
        if (res.status === 401 || res.status === 403) throw authError(url, res.status, headers?.authorization !== undefined, opts.authHint);
        if (!transient(res.status)) throw new HttpError(`HTTP ${res.status} for ${url}`, url, res.status);
        last = `HTTP ${res.status}`;
        lastStatus = res.status;
        wait = retryAfterMs(res);
      }
    }
    if (attempt + 1 < attempts) await delay(wait ?? backoff(attempt, backoffMs), opts.signal);
  }
  throw new HttpError(`${url}: gave up after ${attempts} tries (${last})`, url, lastStatus);
}

/** GETs `url`: resolves with a 2xx or 404 response (the caller reads the body); see fetchWithRetry. */
export function getWithRetry(fetch: Fetch, url: string, opts: RetryOptions = {}): Promise<Response> {
  return fetchWithRetry(fetch, url, opts, async (res) => res);
}

/**
 * The chunks of a response body, checked for pace: fewer than `minBytesPerSecond` × `timeoutMs`
 * bytes in any `timeoutMs` window (no bytes at all included) is a StalledError naming `url`.
 * An abort of `signal` cancels the body at once.
 */
export async function* pacedBody(body: ReadableStream<Uint8Array>, url: string, opts: RetryOptions): AsyncGenerator<Uint8Array> {
  const windowMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const wanted = Math.max(1, Math.floor(((opts.minBytesPerSecond ?? DEFAULT_MIN_BYTES_PER_SECOND) * windowMs) / 1000));
  const { signal } = opts;
  signal?.throwIfAborted();
  const reader = body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: ((why: 'window' | 'abort') => void) | undefined;
  const onAbort = () => wake?.('abort');
  signal?.addEventListener('abort', onAbort, { once: true });
  let done = false;
  try {
    let windowStart = Date.now();
    let windowBytes = 0;
    // Read again only once the consumer asks: a read started before a yield could fail unobserved.
    let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
    for (;;) {
      pending ??= reader.read();
      const tick = new Promise<'window' | 'abort'>((resolve) => {
        wake = resolve;
        timer = setTimeout(() => resolve('window'), Math.max(0, windowStart + windowMs - Date.now()));
      });
      const r = await Promise.race([pending, tick]);
      clearTimeout(timer);
      if (r === 'abort') throw signal!.reason;
      if (r === 'window') {
        if (windowBytes < wanted) {
          throw new StalledError(url, `the download stalled (${windowBytes} bytes in ${windowMs / 1000} s, at least ${wanted} wanted)`);
        }
        windowStart = Date.now();
        windowBytes = 0;
        continue;
      }
      if (r.done) {
        done = true;
        return;
      }
      windowBytes += r.value.length;
      pending = undefined;
      yield r.value;
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

export class BodyTooLargeError extends HttpError {
  override name = 'BodyTooLargeError';
}

/**
 * The whole body, at most `maxBytes` (a cache could send gigabytes before any signature is
 * checked); more is a BodyTooLargeError, a stall a StalledError.
 */
export async function cappedBytes(res: Response, url: string, what: string, maxBytes: number, opts: RetryOptions): Promise<Uint8Array> {
  const tooLarge = () => new BodyTooLargeError(`${url}: the ${what} is larger than ${maxBytes} bytes, the most nix-imager reads for one`, url);
  if (Number(res.headers.get('content-length') ?? 0) > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (res.body === null) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of pacedBody(res.body, url, opts)) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    parts.push(chunk);
  }
  return concatBytes(parts);
}

/** The body as text, at most `maxBytes` (see cappedBytes). */
export async function cappedText(res: Response, url: string, what: string, maxBytes: number, opts: RetryOptions): Promise<string> {
  return new TextDecoder().decode(await cappedBytes(res, url, what, maxBytes, opts));
}
