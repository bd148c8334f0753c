import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
// @ts-expect-error: plain .mjs script without type declarations
import { createStaticServer, listen } from '../../scripts/serve.mjs';

export interface CacheServer {
  /** Base URL of the cache, ending in "/". */
  url: string;
  /** Paths requested so far, relative to the cache root (e.g. "nar/….nar.xz"). */
  requests: string[];
  /** From now on, serve the NAR of `storePath` with one byte flipped (same length, wrong hash). */
  corruptNar(storePath: string): void;
  /** From now on, answer every request for the NAR of `storePath` with HTTP `status` (an outage of that file). */
  failNar(storePath: string, status: number): void;
  /** Serve every NAR file slowly (4 KiB per `msPerChunk`), or at full speed again with 0. */
  slowNars(msPerChunk: number): void;
  close(): Promise<void>;
}

/** The NAR file a narinfo in `dir` points at for `storePath`. */
export function narFileOf(dir: string, storePath: string): string {
  const hashPart = storePath.slice(storePath.lastIndexOf('/') + 1, storePath.lastIndexOf('/') + 33);
  const narinfo = readFileSync(join(dir, `${hashPart}.narinfo`), 'utf8');
  const url = /^URL: (.+)$/m.exec(narinfo)?.[1];
  if (url === undefined) throw new Error(`${hashPart}.narinfo has no URL line`);
  return url;
}

/** Serves a file:// binary cache directory over HTTP on 127.0.0.1 with CORS, as a browser would reach a real one. */
export async function serveCache(dir: string): Promise<CacheServer> {
  const requests: string[] = [];
  const corrupt = new Set<string>();
  const failing = new Map<string, number>();
  let slow = 0;
  const server: Server = createStaticServer({
    root: dir,
    cors: true,
    rewrite: async (rel: string, res: import('node:http').ServerResponse) => {
      requests.push(rel);
      const isNar = rel.startsWith('nar/');
      const status = failing.get(rel);
      if (status !== undefined) {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(`${status}\n`);
        return true;
      }
      if (!corrupt.has(rel) && !(isNar && slow > 0)) return false;
      const bytes = readFileSync(join(dir, rel));
      if (corrupt.has(rel)) bytes[bytes.length >> 1] ^= 0x55;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
      for (let at = 0; at < bytes.length && !res.destroyed; at += 4096) {
        res.write(bytes.subarray(at, at + 4096));
        if (slow > 0) await new Promise((ok) => setTimeout(ok, slow));
      }
      res.end();
      return true;
    },
  });
  const url: string = await listen(server, 0);
  return {
    url,
    requests,
    corruptNar: (storePath) => corrupt.add(narFileOf(dir, storePath)),
    failNar: (storePath, status) => failing.set(narFileOf(dir, storePath), status),
    slowNars: (ms) => {
      slow = ms;
    },
    close: () => closeServer(server),
  };
}

/** Closes a server now, idle keep-alive connections included (a browser keeps them open). */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((ok) => {
    server.close(() => ok());
    server.closeAllConnections();
  });
}
