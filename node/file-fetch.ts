import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Fetch } from '../core/cache/http.ts';

/** fetch() that also serves file:// URLs from disk (404 when missing), as binary caches on disk need. */
export const fetchWithFiles: Fetch = async (url, init) => {
  if (!url.startsWith('file:')) return fetch(url, init);
  const path = fileURLToPath(url);
  try {
    const st = await stat(path);
    if (!st.isFile()) return new Response(null, { status: 404 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return new Response(null, { status: 404 });
    throw e;
  }
  const body = Readable.toWeb(createReadStream(path, { highWaterMark: 1 << 20, signal: init?.signal ?? undefined })) as ReadableStream<Uint8Array>;
  return new Response(body, { status: 200 });
};
