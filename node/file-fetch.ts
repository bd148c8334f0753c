import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Fetch } from '../core/cache/http.ts';

// Keep-alive sockets, many per host: a closure's narinfo look-ups are thousands of tiny requests,
// and node:http costs about half of what Node's fetch() costs per request.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

const MAX_REDIRECTS = 20;

function headersOf(raw: http.IncomingHttpHeaders): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(raw)) {
    if (Array.isArray(v)) v.forEach((x) => h.append(k, x));
    else if (v !== undefined) h.set(k, v);
  }
  return h;
}

function request(url: URL, init: RequestInit | undefined): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const protocol = url.protocol as keyof typeof agents;
    const mod = protocol === 'https:' ? https : http;
    const req = mod.get(url, { agent: agents[protocol], headers: init?.headers as Record<string, string> | undefined, signal: init?.signal ?? undefined }, resolve);
    req.on('error', reject);
  });
}

function withoutAuthorization(headers: HeadersInit | undefined): Record<string, string> {
  return Object.fromEntries([...new Headers(headers)].filter(([k]) => k !== 'authorization'));
}

/** GET over node:http(s), following redirects like fetch(); the body streams as a Web stream. */
async function httpFetch(href: string, init?: RequestInit): Promise<Response> {
  let url = new URL(href);
  for (let hops = 0; ; hops++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`unsupported URL scheme in ${url.href}`);
    const res = await request(url, init);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status >= 300 && status < 400 && status !== 304 && location !== undefined) {
      res.resume();
      if (hops >= MAX_REDIRECTS) throw new TypeError(`too many redirects from ${href}`);
      const next = new URL(location, url);
      // Credentials are for the origin they were given for, as fetch() does it: never carried to another.
      if (next.origin !== url.origin) init = { ...init, headers: withoutAuthorization(init?.headers) };
      url = next;
      continue;
    }
    const empty = status === 204 || status === 304;
    if (empty) res.resume();
    const body = empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
    return new Response(body, { status, statusText: res.statusMessage ?? '', headers: headersOf(res.headers) });
  }
}

/** fetch() for binary caches from Node: file:// from disk (404 when missing), http(s):// with keep-alive. */
export const fetchWithFiles: Fetch = async (url, init) => {
  if (!url.startsWith('file:')) return httpFetch(url, init);
  const path = fileURLToPath(url);
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) return new Response(null, { status: 404 });
    size = st.size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return new Response(null, { status: 404 });
    throw e;
  }
  // Narinfos are tiny: a read buffer sized to the file spares the garbage collector.
  const highWaterMark = Math.max(1, Math.min(size, 1 << 20));
  const body = Readable.toWeb(createReadStream(path, { highWaterMark, signal: init?.signal ?? undefined })) as ReadableStream<Uint8Array>;
  return new Response(body, { status: 200 });
};
