import type { NarInfo } from '../nix/narinfo.ts';
import { verifyNarInfo, type Ed25519Verify, type PublicKey } from '../nix/signature.ts';
import type { BinaryCache } from './binary-cache.ts';
import { HttpError } from './http.ts';
import { isAbort, NixImagerError, summarise } from '../errors.ts';


export interface ResolvedPath {
  info: NarInfo;
  cache: BinaryCache;
  /** The trusted key whose signature verified, or undefined: unsigned by any trusted key (accepted without requireSigs). */
  signedBy?: string;
}

export interface ResolveOptions {
  trustedKeys: PublicKey[];
  requireSigs: boolean;
  /** The signature check (default: the portable one). */
  verify?: Ed25519Verify;
  /** Narinfo look-ups in flight at once. */
  concurrency?: number;
  /** Also resolve everything the roots reference, transitively (a closure). */
  closure?: boolean;
  signal?: AbortSignal;
  onProgress?: (resolved: number, known: number) => void;
}

export class UnavailablePathsError extends NixImagerError {
  override name = 'UnavailablePathsError';
  /** 'signature' when every cache had the paths but no trusted key signed them. */
  readonly code: 'missing-path' | 'signature';
  constructor(
    readonly failures: { path: string; reasons: string[] }[],
    untrusted = false,
  ) {
    super(
      `${failures.length} store path${failures.length === 1 ? '' : 's'} could not be substituted: ` +
        summarise(failures.map((f) => `${f.path} (${f.reasons.join('; ')})`)),
      { subject: failures[0]?.path },
    );
    this.code = untrusted ? 'signature' : 'missing-path';
  }
}

/** Why one cache could not supply one path. */
type Refusal = 'unreachable' | 'absent' | 'untrusted';

/**
 * Finds a trusted narinfo for every root (and, with `closure`, everything it references),
 * asking the caches in order. A cache whose narinfo is unsigned, signed by an untrusted key or
 * malformed is skipped for that path, as Nix skips such substitutes; every path that no cache
 * can supply is reported at once.
 */
export async function resolvePaths(roots: string[], caches: BinaryCache[], opts: ResolveOptions): Promise<Map<string, ResolvedPath>> {
  const resolved = new Map<string, ResolvedPath>();
  const failures: { path: string; reasons: string[] }[] = [];
  const refusals = new Set<Refusal>();
  let unreachable: unknown;
  const seen = new Set<string>();
  const queue: string[] = [];
  const enqueue = (p: string) => {
    if (!seen.has(p)) {
      seen.add(p);
      queue.push(p);
    }
  };
  roots.forEach(enqueue);

  async function resolveOne(path: string): Promise<void> {
    const reasons: string[] = [];
    for (const cache of caches) {
      let info: NarInfo | null;
      try {
        info = await cache.narInfo(path, opts.signal);
      } catch (e) {
        if (isAbort(e) || opts.signal?.aborted) throw e;
        reasons.push(`${cache.url}: ${e instanceof Error ? e.message : String(e)}`);
        refusals.add('unreachable');
        unreachable ??= e;
        continue;
      }
      if (info === null) {
        reasons.push(`not in ${cache.url}`);
        refusals.add('absent');
        continue;
      }
      // Checked without requireSigs too, so the user learns which key (if any) they relied on.
      const check = verifyNarInfo(info, opts.trustedKeys, opts.verify);
      if (opts.requireSigs && !check.ok) {
        reasons.push(`${cache.url}: ${check.reason}`);
        refusals.add('untrusted');
        continue;
      }
      resolved.set(path, { info, cache, signedBy: check.ok ? check.keyName : undefined });
      if (opts.closure) info.references.forEach(enqueue);
      return;
    }
    failures.push({ path, reasons });
  }

  const limit = Math.max(1, opts.concurrency ?? 128);
  const running = new Set<Promise<void>>();
  let error: unknown;
  while ((queue.length > 0 || running.size > 0) && error === undefined) {
    while (queue.length > 0 && running.size < limit) {
      const p = resolveOne(queue.shift()!)
        .catch((e) => {
          error ??= e;
        })
        .finally(() => {
          running.delete(p);
          opts.onProgress?.(resolved.size, seen.size);
        });
      running.add(p);
    }
    if (running.size > 0) await Promise.race(running);
  }
  if (error !== undefined) {
    await Promise.allSettled(running);
    throw error;
  }
  if (failures.length > 0) {
    // One kind of refusal everywhere is that kind of failure: no cache answered, or none was trusted.
    if (refusals.size === 1 && refusals.has('unreachable') && unreachable instanceof HttpError) {
      const first = failures.map((f) => f.path).sort()[0]!;
      throw unreachable.about(failures.length === 1 ? first : `${first} (and ${failures.length - 1} more store paths)`);
    }
    throw new UnavailablePathsError(failures.sort((a, b) => (a.path < b.path ? -1 : 1)), refusals.size === 1 && refusals.has('untrusted'));
  }
  return resolved;
}
