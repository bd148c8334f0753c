import { createServer, type Server } from 'node:http';
// @ts-expect-error: plain .mjs script without type declarations
import { createStaticServer, listen } from '../../scripts/serve.mjs';
import { closeServer } from './cache-server.ts';

export interface PrivateCacheOptions {
  /** The Authorization header a GET must carry; without it (or with another) the answer is 401. Undefined: open cache. */
  authorization?: string;
  /** Whether the preflight answer allows the Authorization header, as a cache must for a browser to send credentials. */
  allowAuthorizationHeader?: boolean;
  /** Answers NAR requests with a 302 to this base URL (as a cache whose NARs live on a CDN). */
  redirectNarsTo?: string;
}

export interface PrivateCache {
  url: string;
  /** Each GET's path and the Authorization header it carried (undefined: none). */
  requests: { path: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

/**
 * A binary cache directory served on 127.0.0.1 as a private cache behind HTTP auth, reachable from
 * another origin by CORS (Access-Control-Allow-Origin: * on every answer, the 401 included).
 */
export async function servePrivateCache(dir: string, opts: PrivateCacheOptions = {}): Promise<PrivateCache> {
  const files: Server = createStaticServer({ root: dir, cors: true });
  const requests: PrivateCache['requests'] = [];
  const server = createServer((req, res) => {
    res.setHeader('access-control-allow-origin', '*');
    if (req.method === 'OPTIONS') {
      if (opts.allowAuthorizationHeader ?? true) res.setHeader('access-control-allow-headers', 'Authorization, Range');
      res.writeHead(204).end();
      return;
    }
    const authorization = req.headers.authorization;
    requests.push({ path: new URL(req.url ?? '/', 'http://x').pathname.slice(1), authorization });
    if (opts.authorization !== undefined && authorization !== opts.authorization) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="cache"', 'content-type': 'text/plain' }).end('unauthorized\n');
      return;
    }
    const path = requests.at(-1)!.path;
    if (opts.redirectNarsTo !== undefined && path.startsWith('nar/')) {
      res.writeHead(302, { location: new URL(path, opts.redirectNarsTo).href }).end();
      return;
    }
    files.emit('request', req, res);
  });
  const url: string = await listen(server, 0);
  return { url, requests, close: () => closeServer(server) };
}
