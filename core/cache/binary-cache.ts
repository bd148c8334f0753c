import { parseCacheInfo } from '../nix/cache-info.ts';
import { parseNarInfo, type NarInfo } from '../nix/narinfo.ts';
import { parseStorePath, DEFAULT_STORE_DIR } from '../nix/store-path.ts';
import { cappedText, fetchWithRetry, getWithRetry, HttpError, pacedBody, TransportError, type Fetch, type RetryOptions } from './http.ts';

/** Narinfos are a few KiB (a path with thousands of references: tens of KiB); more is refused unread. */
export const MAX_NARINFO_BYTES = 1 << 20;
export const MAX_CACHE_INFO_BYTES = 64 << 10;

/** The same failure, its message leading with the store path it was about (a narinfo's URL names only the hash). */
function naming(storePath: string, e: unknown): unknown {
  if (e instanceof TransportError) return new (e.constructor as typeof TransportError)(e.url, `${storePath}: ${e.problem}`);
  if (e instanceof HttpError) return new (e.constructor as typeof HttpError)(`${storePath}: ${e.message}`, e.url, e.status);
  return e;
}

/** One substituter: a binary cache reached over http(s):// or file:// (through the platform's fetch). */
export class BinaryCache {
  readonly url: string;
  private info: Promise<{ storeDir: string }> | undefined;

  constructor(
    url: string,
    private readonly fetch: Fetch,
    private readonly retry: RetryOptions = {},
  ) {
    this.url = url.replace(/\/+$/, '');
  }

  /** `nix-cache-info`; a cache without one is taken to serve /nix/store, as Nix does for file caches. */
  cacheInfo(): Promise<{ storeDir: string }> {
    this.info ??= this.text('nix-cache-info', 'nix-cache-info', MAX_CACHE_INFO_BYTES).then((text) =>
      text === null ? { storeDir: DEFAULT_STORE_DIR } : parseCacheInfo(text),
    );
    return this.info;
  }

  /** The narinfo of `storePath`, or null when this cache does not have it. */
  async narInfo(storePath: string, signal?: AbortSignal): Promise<NarInfo | null> {
    const { storeDir } = await this.cacheInfo();
    const { hashPart } = parseStorePath(storePath, storeDir);
    const text = await this.text(`${hashPart}.narinfo`, 'narinfo', MAX_NARINFO_BYTES, signal).catch((e: unknown) => {
      throw naming(storePath, e);
    });
    return text === null ? null : parseNarInfo(text, { storeDir, expectedStorePath: storePath });
  }

  /** A small file of the cache as text (null when absent), its body read inside the retries. */
  private text(path: string, what: string, maxBytes: number, signal?: AbortSignal): Promise<string | null> {
    const url = `${this.url}/${path}`;
    const opts = { ...this.retry, signal };
    return fetchWithRetry(this.fetch, url, opts, async (res) => {
      if (res.status !== 404) return cappedText(res, url, what, maxBytes, opts);
      await res.body?.cancel().catch(() => {});
      return null;
    });
  }

  /** The NAR's (possibly compressed) body. `info.url` was checked by parseNarInfo to stay inside the cache. */
  async narBody(info: NarInfo, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
    const url = `${this.url}/${info.url}`;
    const res = await getWithRetry(this.fetch, url, { ...this.retry, signal });
    return this.bodyOf(info, url, res, signal);
  }

  /**
   * The rest of the NAR's body from byte `offset` on (`Range: bytes=offset-`), to resume a broken
   * download; null when the server did not answer 206 with exactly that range of a file of
   * FileSize bytes (then only a download from the start is sound).
   */
  async narBodyFrom(info: NarInfo, offset: number, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array> | null> {
    const url = `${this.url}/${info.url}`;
    let res: Response;
    try {
      res = await getWithRetry(this.fetch, url, { ...this.retry, signal, headers: { ...this.retry.headers, range: `bytes=${offset}-` } });
    } catch (e) {
      if (e instanceof HttpError && e.status === 416) return null;
      throw e;
    }
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    const total = range?.[3] === '*' ? undefined : Number(range?.[3]);
    if (res.status !== 206 || range === null || Number(range[1]) !== offset || (info.fileSize !== undefined && total !== info.fileSize)) {
      await res.body?.cancel().catch(() => {});
      return null;
    }
    return this.bodyOf(info, url, res, signal);
  }

  private async bodyOf(info: NarInfo, url: string, res: Response, signal: AbortSignal | undefined): Promise<AsyncIterable<Uint8Array>> {
    if (res.status === 404 || res.body === null) {
      await res.body?.cancel().catch(() => {});
      throw new HttpError(`${info.storePath}: the cache lists it but has no NAR at ${url} (HTTP ${res.status})`, url, res.status);
    }
    return pacedBody(res.body, url, { ...this.retry, signal });
  }
}
