import type { ResolvedPath } from '../cache/resolve.ts';
import type { NarInfo } from '../nix/narinfo.ts';
import { HttpError, StalledError, TransportError } from '../cache/http.ts';
import { isAbort, NixImagerError } from '../errors.ts';
import { decompressorFor } from '../cache/decompress.ts';
import type { StreamCompressor } from '../codec/stream-compressor.ts';
import { readNar, type NarEntry } from '../nix/nar-reader.ts';
import { createSha256, type Sha256 } from '../primitives/sha256.ts';
import type { CodecsLoader } from '../codec/wasm-codecs.ts';
import { nix32Encode } from '../nix/nix32.ts';
import { hashEquals, type NixHash } from '../nix/hash.ts';
import { sharedOpener, type RandomAccess } from '../io/data-source.ts';
import { randomAccessChunks } from '../io/streams.ts';
import type { NarCache, NarCacheWriter } from './nar-cache.ts';
import { decodeNarRecord, encodeNarRecord } from './nar-record.ts';

/** A verified NAR in the cache, with its listing (file contents located by offset). */
export interface StoredNar {
  storePath: string;
  entries: NarEntry[];
  open: () => Promise<RandomAccess>;
}

export class NarVerificationError extends NixImagerError {
  override name = 'NarVerificationError';
  readonly code = 'verification';
  constructor(
    readonly storePath: string,
    what: string,
  ) {
    super(`${storePath}: ${what}`, { subject: storePath });
  }
}

export interface FetchNarOptions {
  signal?: AbortSignal;
  /** Tries for a download broken by the network (not for bytes that fail verification). */
  attempts?: number;
  /** Called with byte counts as they pass: compressed download and uncompressed NAR. */
  onBytes?: (downloaded: number, unpacked: number) => void;
  /** The hash for FileHash and NarHash (default: the portable one). */
  sha256?: () => Sha256;
  /** This thread's codecs, for decompressing the download (default: fetched beside the module). */
  codecs?: CodecsLoader;
}

export function narCacheKey(narHash: NixHash): string {
  return nix32Encode(narHash.digest);
}

async function* tap(input: AsyncIterable<Uint8Array>, sink: (chunk: Uint8Array) => void | Promise<void>): AsyncGenerator<Uint8Array> {
  for await (const chunk of input) {
    await sink(chunk);
    yield chunk;
  }
}

/** Parses and hashes a NAR stream; throws NarVerificationError unless it is exactly what `info` promises. */
async function verifyNar(
  storePath: string,
  nar: AsyncIterable<Uint8Array>,
  expected: { narHash: NixHash; narSize: number },
  sha256: () => Sha256,
): Promise<NarEntry[]> {
  const hash = sha256();
  let size = 0;
  const entries: NarEntry[] = [];
  const hashed = tap(nar, (chunk) => {
    hash.update(chunk);
    size += chunk.length;
  });
  try {
    for await (const entry of readNar(hashed)) entries.push(entry);
  } catch (e) {
    if (isAbort(e) || e instanceof NarVerificationError || e instanceof TransportError || isLocal(e)) throw e;
    throw new NarVerificationError(storePath, `bad NAR: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (size !== expected.narSize) throw new NarVerificationError(storePath, `NarSize mismatch: the narinfo says ${expected.narSize} bytes, the NAR has ${size}`);
  const got = hash.digest();
  if (!hashEquals({ algo: 'sha256', digest: got }, expected.narHash)) {
    throw new NarVerificationError(storePath, `NarHash mismatch: the narinfo says sha256:${nix32Encode(expected.narHash.digest)}, the NAR hashes to sha256:${nix32Encode(got)}`);
  }
  return entries;
}

/**
 * Returns the verified NAR of `resolved`, from the NAR cache when a valid entry is there,
 * else downloaded, decompressed, checked (FileHash, FileSize, NarHash, NarSize, NAR rules)
 * and only then committed to the cache. A cache entry is trusted without hashing while its
 * verification record (nar-record.ts) matches the narinfo and the file's stamp; otherwise it is
 * verified again in full, and dropped if it fails.
 * An entry removed while the build uses it (another process clearing the cache, the page's Clear
 * button) is downloaded and verified again when next opened: only verified bytes are ever read.
 */
export async function fetchNar(resolved: ResolvedPath, narCache: NarCache, opts: FetchNarOptions = {}): Promise<StoredNar> {
  const { info } = resolved;
  const key = narCacheKey(info.narHash);
  const open = sharedOpener(async () => {
    const file = await narCache.open(key);
    if (file !== null) return file;
    // Same NarHash, same bytes: the listing taken from the first copy holds for this one.
    await download(resolved, key, narCache, opts);
    const again = await narCache.open(key);
    if (again === null) throw new NarVerificationError(info.storePath, 'the NAR cache entry was removed twice while the build used it');
    return again;
  });

  const recorded = await recordedEntries(narCache, key, info);
  if (recorded !== null) {
    opts.onBytes?.(0, info.narSize);
    return { storePath: info.storePath, entries: recorded, open };
  }
  // Taken before reading: a change made while (or after) the bytes are hashed then fails the record's check.
  const stamp = (await narCache.records?.stamp(key)) ?? null;
  const cached = await narCache.open(key);
  if (cached !== null) {
    let entries: NarEntry[] | undefined;
    try {
      entries = await verifyNar(info.storePath, randomAccessChunks(cached), info, opts.sha256 ?? createSha256);
    } catch (e) {
      if (!(e instanceof NarVerificationError)) throw e;
    } finally {
      // Before any removal: OPFS refuses to remove a file a sync access handle holds open.
      await cached.close();
    }
    if (entries !== undefined) {
      await remember(narCache, key, info, stamp, entries);
      opts.onBytes?.(0, info.narSize);
      return { storePath: info.storePath, entries, open };
    }
    await narCache.remove(key);
  }
  return { storePath: info.storePath, entries: await download(resolved, key, narCache, opts), open };
}

/** The listing recorded when this entry was last verified, if the narinfo and the file still match that record. */
async function recordedEntries(narCache: NarCache, key: string, info: NarInfo): Promise<NarEntry[] | null> {
  const records = narCache.records;
  if (records === undefined) return null;
  const [text, stamp] = await Promise.all([records.read(key), records.stamp(key)]);
  const record = text === null ? null : decodeNarRecord(text);
  if (record === null || stamp === null) return null;
  const same = record.stamp === stamp && record.narSize === info.narSize && record.narHash === nix32Encode(info.narHash.digest);
  return same ? record.entries : null;
}

/** Records a full verification of the entry as it was at `stamp`. */
async function remember(narCache: NarCache, key: string, info: NarInfo, stamp: string | null, entries: NarEntry[]): Promise<void> {
  if (narCache.records === undefined || stamp === null) return;
  const text = encodeNarRecord({ narHash: nix32Encode(info.narHash.digest), narSize: info.narSize, stamp, entries });
  // Best effort: without the record the next build verifies the entry again, nothing worse.
  await narCache.records.write(key, text).catch(() => {});
}

/** Downloads and verifies the NAR into the cache entry `key` (tries for a broken network, not for wrong bytes). */
async function download(resolved: ResolvedPath, key: string, narCache: NarCache, opts: FetchNarOptions): Promise<NarEntry[]> {
  const { info } = resolved;
  // Before any download: an unknown Compression cannot succeed on any try.
  const decompress = decompressorFor(info.compression, info.storePath, opts.codecs);
  const attempts = opts.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    const writer = await narCache.create(key);
    try {
      const entries = await downloadInto(resolved, decompress, writer, opts);
      await writer.commit();
      await remember(narCache, key, info, (await narCache.records?.stamp(key)) ?? null, entries);
      return entries;
    } catch (e) {
      await writer.abort();
      if (e instanceof NarVerificationError || isAbort(e) || isLocal(e) || opts.signal?.aborted || attempt >= attempts) throw naming(info.storePath, e);
    }
  }
}

/** This platform's files failed (a full disk under the NAR cache): not the binary cache's fault, and no retry helps. */
const isLocal = (e: unknown) => e instanceof NixImagerError && e.code === 'io';

/** A download that failed for good stays a download error (a cache outage is not tampering), now naming the store path too. */
function naming(storePath: string, e: unknown): unknown {
  if (e instanceof HttpError) return new HttpError(`${storePath}: download failed: ${e.message}`, e.url, e.status);
  if (e instanceof TransportError) return new TransportError(e.url, `${storePath}: download failed: ${e.problem}`);
  return e;
}

async function downloadInto(resolved: ResolvedPath, decompress: StreamCompressor, writer: NarCacheWriter, opts: FetchNarOptions): Promise<NarEntry[]> {
  const { info, cache } = resolved;
  const sha256 = opts.sha256 ?? createSha256;
  const body = await cache.narBody(info, opts.signal);
  const fileHash = sha256();
  let fileSize = 0;
  let unpacked = 0;
  const compressed = tap(resumableBody(resolved, body, opts.signal), (chunk) => {
    fileHash.update(chunk);
    fileSize += chunk.length;
    opts.onBytes?.(chunk.length, 0);
  });
  const nar = tap(decompressChecked(decompress(compressed), info.storePath, info.compression), async (chunk) => {
    unpacked += chunk.length;
    if (unpacked > info.narSize) throw new NarVerificationError(info.storePath, `NAR is larger than the narinfo's NarSize ${info.narSize}`);
    opts.onBytes?.(0, chunk.length);
    await writer.write(chunk);
  });
  const entries = await verifyNar(info.storePath, nar, info, sha256);
  if (info.fileSize !== undefined && fileSize !== info.fileSize) {
    throw new NarVerificationError(info.storePath, `FileSize mismatch: the narinfo says ${info.fileSize} bytes, ${fileSize} were downloaded`);
  }
  if (info.fileHash !== undefined) {
    const got = fileHash.digest();
    if (!hashEquals({ algo: 'sha256', digest: got }, info.fileHash)) {
      throw new NarVerificationError(info.storePath, `FileHash mismatch: the narinfo says sha256:${nix32Encode(info.fileHash.digest)}, the download hashes to sha256:${nix32Encode(got)}`);
    }
  }
  return entries;
}

/** Range requests per download after the connection broke mid-body. */
const MAX_RESUMES = 5;

/**
 * The most bytes a download may have: FileSize when the narinfo gives it, else what NarSize
 * allows (xz and zstd add well under 1/64 to incompressible data).
 */
function downloadLimit(info: NarInfo): number {
  if (info.fileSize !== undefined) return info.fileSize;
  return info.compression === 'none' ? info.narSize : info.narSize + Math.floor(info.narSize / 64) + 65_536;
}

/**
 * The (compressed) NAR download, never past downloadLimit() (bytes beyond it are not read: the
 * hashes then decide). When the body breaks off or ends short of FileSize, the rest is asked for
 * with `Range: bytes=N-` and joined on, so the hashes taken downstream cover the whole file; a
 * server that does not resume exactly there makes this a TransportError (start over). A stalled
 * body is not resumed: the server that stalled once is given a fresh try instead.
 */
async function* resumableBody(resolved: ResolvedPath, first: AsyncIterable<Uint8Array>, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
  const { info, cache } = resolved;
  const url = `${cache.url}/${info.url}`;
  const limit = downloadLimit(info);
  let body = first;
  let received = 0;
  for (let resumes = 0; ; resumes++) {
    let broken: string;
    try {
      for await (const chunk of body) {
        const piece = chunk.length > limit - received ? chunk.subarray(0, limit - received) : chunk;
        received += piece.length;
        if (piece.length > 0) yield piece;
        if (received >= limit) return;
      }
      if (info.fileSize === undefined || received >= info.fileSize) return;
      broken = `the body ended after ${received} of ${info.fileSize} bytes`;
    } catch (e) {
      if (isAbort(e) || signal?.aborted || e instanceof StalledError) throw e;
      broken = e instanceof Error ? e.message : String(e);
    }
    if (received === 0 || resumes >= MAX_RESUMES) throw new TransportError(url, broken);
    const rest = await cache.narBodyFrom(info, received, signal).catch((e: unknown) => {
      if (isAbort(e)) throw e;
      throw new TransportError(url, `${broken}; resuming at byte ${received} failed: ${e instanceof Error ? e.message : String(e)}`);
    });
    if (rest === null) throw new TransportError(url, `${broken}; the server did not resume the download at byte ${received}`);
    body = rest;
  }
}

/** Decompressor failures are verification failures of this path (corrupt or truncated download). */
async function* decompressChecked(input: AsyncIterable<Uint8Array>, storePath: string, compression: string): AsyncGenerator<Uint8Array> {
  try {
    yield* input;
  } catch (e) {
    if (isAbort(e) || e instanceof NarVerificationError || e instanceof TransportError) throw e;
    throw new NarVerificationError(storePath, `${compression} decompression failed (corrupt or truncated download): ${e instanceof Error ? e.message : String(e)}`);
  }
}
