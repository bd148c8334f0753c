#!/usr/bin/env node
// A small static file server for the built web app (dist-web/) and for binary caches in tests.
// Usage: node scripts/serve.mjs [dir] (port from PORT, default 8080; always 127.0.0.1).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.narinfo': 'text/x-nix-narinfo',
  '.ls': 'application/json',
};

/** The file a URL path names under `root`, or null when it would leave `root` or is malformed. */
export function fileFor(root, urlPath) {
  let path;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return null;
  }
  if (path.includes('\0') || path.split('/').includes('..')) return null;
  const full = resolve(root, '.' + path);
  return full === root || full.startsWith(root + sep) ? full : null;
}

/**
 * What a static host of the app should send with every response: no framing by other sites (the Build
 * and Trust buttons must not be clickjacked) and no MIME sniffing.
 */
export const SECURITY_HEADERS = {
  'content-security-policy': "frame-ancestors 'none'; object-src 'none'; base-uri 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * Serves `root` on 127.0.0.1 with SECURITY_HEADERS. `cors` adds Access-Control-Allow-Origin: * (a binary cache used from
 * another origin); `rewrite(relPath, res)` may answer a request itself (returns true) — tests use it
 * to serve a corrupted NAR.
 */
export function createStaticServer({ root, cors = false, rewrite } = {}) {
  const base = resolve(root);
  return createServer(async (req, res) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    if (cors) res.setHeader('access-control-allow-origin', '*');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let file = fileFor(base, new URL(req.url ?? '/', 'http://x').pathname);
    if (file === null) {
      res.writeHead(400).end('bad path\n');
      return;
    }
    try {
      let st = await stat(file);
      if (st.isDirectory()) {
        file = join(file, 'index.html');
        st = await stat(file);
      }
      if (rewrite && (await rewrite(file.slice(base.length + 1).split(sep).join('/'), res))) return;
      const type = MIME[extname(file)] ?? 'application/octet-stream';
      const immutable = file.includes(`${sep}assets${sep}`);
      res.writeHead(200, { 'content-type': type, 'content-length': st.size, 'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache' });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).on('error', () => res.destroy()).pipe(res);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
}

/** Listens on 127.0.0.1:`port` (0 = any free port); resolves with the base URL. */
export function listen(server, port) {
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok(`http://127.0.0.1:${server.address().port}/`));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? fileURLToPath(new URL('../dist-web', import.meta.url));
  const url = await listen(createStaticServer({ root }), Number(process.env.PORT ?? 8080));
  console.log(`serving ${root} at ${url}`);
}
