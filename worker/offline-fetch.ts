import { sha256 } from '@noble/hashes/sha2.js';
import { MAX_NARINFO_BYTES } from '../core/cache/binary-cache.ts';
import { cappedBytes, HttpError, type Fetch } from '../core/cache/http.ts';
import { fileIfExists, moveOver, tempName } from './opfs.ts';

/** Binary cache metadata: small, signed (narinfo) or harmless (nix-cache-info), worth keeping for offline builds. */
const isMetadata = (url: string) => /\.narinfo$|\/nix-cache-info$/.test(new URL(url).pathname);

function keyOf(url: string): string {
  return Array.from(sha256(new TextEncoder().encode(url)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * `fetch` that remembers every narinfo and nix-cache-info it got in an OPFS directory and answers
 * from there when the network is gone, so a closure fetched once can be built again offline (the
 * NARs come from the NAR cache; narinfo signatures are checked again as usual).
 */
export function offlineFetch(dir: FileSystemDirectoryHandle, fetchImpl: Fetch = (u, i) => fetch(u, i)): Fetch {
  return async (url, init) => {
    if (!isMetadata(url)) return fetchImpl(url, init);
    let res: Response;
    try {
      res = await fetchImpl(url, init);
    } catch (e) {
      // A refusal (401, a CORS policy) is the cache's answer, not a missing network: it stands.
      if (init?.signal?.aborted || e instanceof HttpError) throw e;
      const saved = await fileIfExists(dir, keyOf(url));
      if (saved === null) throw e;
      return new Response(await saved.getFile(), { status: 200 });
    }
    if (res.status !== 200) return res;
    // Capped as BinaryCache caps it: a cache could send a narinfo without end.
    const body = (await cappedBytes(res, url, 'narinfo or nix-cache-info', MAX_NARINFO_BYTES, { signal: init?.signal ?? undefined })) as Uint8Array<ArrayBuffer>;
    const temp = await dir.getFileHandle(tempName('meta'), { create: true });
    const w = await temp.createWritable();
    await w.write(body);
    await w.close();
    await moveOver(temp, dir, keyOf(url));
    return new Response(body, { status: 200, headers: res.headers });
  };
}
