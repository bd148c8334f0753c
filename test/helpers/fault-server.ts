// An HTTP binary cache on 127.0.0.1 that misbehaves on request: per path pattern and per attempt.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatNixHash } from '../../core/nix/hash.ts';
import { parseNarInfo } from '../../core/nix/narinfo.ts';
import { narInfoFingerprint, signFingerprint, type SecretKey } from '../../core/nix/signature.ts';
// @ts-expect-error: plain .mjs script without type declarations
import { fileFor, listen } from '../../scripts/serve.mjs';

/** What to do to a request. Effects combine: latency, then a status or a body shaped by the rest. */
export interface Fault {
  /** Wait before answering. */
  latencyMs?: number;
  /** Send the body at about this rate. */
  bytesPerSecond?: number;
  /** Answer with this status and no body (e.g. 404, 429, 500, 503). */
  status?: number;
  /** With `status`: a Retry-After header (seconds, or an HTTP date; a function is asked when the answer is sent). */
  retryAfter?: string | (() => string);
  /** Send this many body bytes, then reset the connection (TCP RST). */
  resetAfter?: number;
  /** Send this many body bytes, then close cleanly; Content-Length says the full size or the truncated one. */
  truncateAfter?: number;
  contentLength?: 'full' | 'truncated';
  /** Flip one byte in the middle of the body (same length, wrong hash). */
  corrupt?: boolean;
  /** For a .narinfo: replace NarHash by another hash; re-signed when a key is given, else unsigned. */
  lieNarHash?: { secretKey?: SecretKey };
  /** 302 to the same file under /mirror/ (which this server also serves). */
  redirect?: boolean;
  /** 302 to the same file under this base URL (another server, another host). */
  redirectTo?: string;
  /** Send this many body bytes, then nothing more while keeping the connection open. */
  stallAfter?: number;
  /** After the body, zero bytes without end (no Content-Length) until the client goes away. */
  endless?: boolean;
}

export interface FaultRule extends Fault {
  /** A substring of the cache-relative path ("nar/", ".narinfo", a hash part) or a pattern. */
  match: string | RegExp;
  /** First attempt (1-based, counted per path) the rule applies to. Default 1. */
  from?: number;
  /** How many attempts from `from` on. Default: all. */
  times?: number;
}

export interface SeenRequest {
  /** Cache-relative path, e.g. "nar/….nar.xz" or "mirror/nar/…". */
  path: string;
  /** 1-based count of requests for this path so far. */
  attempt: number;
  range: string | undefined;
  status: number;
  /** Faults applied, by name. */
  faults: string[];
  /** Milliseconds since the server started. */
  at: number;
  /** Body bytes handed to the socket. */
  sent: number;
  /** The request's Authorization header. */
  authorization: string | undefined;
}

export interface FaultServer {
  /** Base URL of the cache, ending in "/". */
  url: string;
  requests: SeenRequest[];
  /** Requests whose path contains `part`. */
  requestsFor(part: string): SeenRequest[];
  addRule(rule: FaultRule): void;
  clearRules(): void;
  close(): Promise<void>;
}

export interface FaultServerOptions {
  /** Answer `Range: bytes=N-` with 206. Default true; false answers 200 with the whole file. */
  ranges?: boolean;
  rules?: FaultRule[];
  /** Demand one of these Authorization headers of every request: 401 without one, 403 with another. */
  auth?: string[];
  /** Let any page read the answers (Access-Control-Allow-Origin: *), as a browser needs. */
  cors?: boolean;
}

const MIRROR = 'mirror/';

function matches(rule: FaultRule, path: string, attempt: number): boolean {
  const from = rule.from ?? 1;
  if (attempt < from || attempt >= from + (rule.times ?? Infinity)) return false;
  return typeof rule.match === 'string' ? path.includes(rule.match) : rule.match.test(path);
}

/** `bytes=N-` or `bytes=N-M` → [start, end) within `size`; null when unsatisfiable, undefined when absent or not understood. */
function parseRange(header: string | undefined, size: number): [number, number] | null | undefined {
  const m = header === undefined ? null : /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (m === null) return undefined;
  const start = Number(m[1]);
  const end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
  return start < size && start < end ? [start, end] : null;
}

function lieAboutNarHash(text: string, secretKey: SecretKey | undefined): string {
  const info = parseNarInfo(text);
  const liar = { ...info, narHash: { algo: 'sha256' as const, digest: new Uint8Array(createHash('sha256').update(text).digest()) } };
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('Sig:'));
  const out = lines.map((l) => (l.startsWith('NarHash:') ? `NarHash: ${formatNixHash(liar.narHash)}` : l));
  if (secretKey) out.push(`Sig: ${signFingerprint(secretKey, narInfoFingerprint(liar))}`);
  return out.map((l) => `${l}\n`).join('');
}

const ENDLESS_CAP = 8 * 2 ** 30;

async function sendBody(res: ServerResponse, body: Uint8Array, fault: Fault, seen: SeenRequest): Promise<void> {
  const stop = fault.resetAfter ?? fault.truncateAfter ?? fault.stallAfter ?? body.length;
  const limit = Math.min(stop, body.length);
  res.flushHeaders();
  const step = fault.bytesPerSecond ? Math.max(1, Math.floor(fault.bytesPerSecond / 20)) : 1 << 16;
  // The write callback fires once the bytes are handed to the kernel.
  const write = (piece: Uint8Array) => new Promise<void>((ok) => res.write(piece, () => ok())).then(() => void (seen.sent += piece.length));
  for (let at = 0; at < limit && !res.destroyed; at += step) {
    const piece = body.subarray(at, Math.min(at + step, limit));
    await write(piece);
    if (fault.bytesPerSecond) await sleep((piece.length / fault.bytesPerSecond) * 1000);
  }
  if (fault.stallAfter !== undefined) {
    await new Promise<void>((ok) => res.once('close', ok));
    return;
  }
  if (fault.endless) {
    const zeros = new Uint8Array(1 << 16);
    while (!res.destroyed && seen.sent < ENDLESS_CAP) await write(zeros);
    return;
  }
  if (fault.resetAfter !== undefined) {
    await sleep(20);
    res.socket?.resetAndDestroy();
  } else if (fault.truncateAfter !== undefined && fault.contentLength !== 'truncated') {
    res.socket?.end();
  } else {
    res.end();
  }
}

/** Serves binary cache `dir` on 127.0.0.1 (any free port), applying the faults of the matching rules. */
export async function serveWithFaults(dir: string, opts: FaultServerOptions = {}): Promise<FaultServer> {
  const root = resolve(dir);
  const rules: FaultRule[] = [...(opts.rules ?? [])];
  const requests: SeenRequest[] = [];
  const attempts = new Map<string, number>();
  const started = performance.now();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    const attempt = (attempts.get(path) ?? 0) + 1;
    attempts.set(path, attempt);
    const fault: Fault = Object.assign({}, ...rules.filter((r) => matches(r, path, attempt)));
    const seen: SeenRequest = { path, attempt, range: req.headers.range, status: 200, faults: [], at: performance.now() - started, sent: 0, authorization: req.headers.authorization };
    requests.push(seen);
    const answer = (status: number, headers: Record<string, string | number> = {}, body?: string) => {
      seen.status = status;
      res.writeHead(status, headers).end(body);
    };
    if (opts.auth !== undefined && !opts.auth.includes(req.headers.authorization ?? '')) {
      seen.faults.push('unauthorized');
      return req.headers.authorization === undefined ? answer(401, { 'www-authenticate': 'Basic realm="cache"' }) : answer(403);
    }
    if (fault.latencyMs) {
      seen.faults.push('latency');
      await sleep(fault.latencyMs);
    }
    if (fault.status !== undefined) {
      seen.faults.push(`status ${fault.status}`);
      return answer(fault.status, fault.retryAfter === undefined ? {} : { 'retry-after': typeof fault.retryAfter === 'function' ? fault.retryAfter() : fault.retryAfter });
    }
    if (fault.redirectTo !== undefined) {
      seen.faults.push('redirect elsewhere');
      return answer(302, { location: `${fault.redirectTo}${path}` });
    }
    if (fault.redirect && !path.startsWith(MIRROR)) {
      seen.faults.push('redirect');
      return answer(302, { location: `/${MIRROR}${path}` });
    }
    const file: string | null = fileFor(root, '/' + (path.startsWith(MIRROR) ? path.slice(MIRROR.length) : path));
    let body: Uint8Array;
    try {
      body = await readFile(file ?? '/nonexistent/');
    } catch {
      return answer(404, { 'content-type': 'text/plain' }, 'not found\n');
    }
    if (fault.lieNarHash && path.endsWith('.narinfo')) {
      seen.faults.push('lie');
      body = new TextEncoder().encode(lieAboutNarHash(new TextDecoder().decode(body), fault.lieNarHash.secretKey));
    }
    if (fault.corrupt) {
      seen.faults.push('corrupt');
      body = body.slice();
      body[body.length >> 1]! ^= 0x55;
    }
    const size = body.length;
    const range = opts.ranges === false ? undefined : parseRange(req.headers.range, size);
    if (range === null) return answer(416, { 'content-range': `bytes */${size}` });
    let status = 200;
    const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream', 'accept-ranges': opts.ranges === false ? 'none' : 'bytes' };
    if (range !== undefined) {
      status = 206;
      headers['content-range'] = `bytes ${range[0]}-${range[1] - 1}/${size}`;
      body = body.subarray(range[0], range[1]);
    }
    if (fault.resetAfter !== undefined) seen.faults.push(`reset after ${fault.resetAfter}`);
    if (fault.truncateAfter !== undefined) seen.faults.push(`truncate after ${fault.truncateAfter} (${fault.contentLength ?? 'full'} length)`);
    if (fault.bytesPerSecond) seen.faults.push(`${fault.bytesPerSecond} B/s`);
    if (fault.stallAfter !== undefined) seen.faults.push(`stall after ${fault.stallAfter}`);
    if (fault.endless) seen.faults.push('endless');
    const truncatedLength = fault.truncateAfter !== undefined && fault.contentLength === 'truncated';
    if (!fault.endless) headers['content-length'] = truncatedLength ? Math.min(fault.truncateAfter!, body.length) : body.length;
    seen.status = status;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') res.end();
    else await sendBody(res, body, fault, seen);
  }

  const server: Server = createServer((req, res) => {
    if (opts.cors) {
      res.setHeader('access-control-allow-origin', '*');
      res.setHeader('access-control-allow-headers', 'range, authorization');
      res.setHeader('access-control-expose-headers', 'content-range, content-length');
      if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    }
    handle(req, res).catch(() => res.destroy());
  });
  const url: string = await listen(server, 0);
  return {
    url,
    requests,
    requestsFor: (part) => requests.filter((r) => r.path.includes(part)),
    addRule: (rule) => void rules.push(rule),
    clearRules: () => void rules.splice(0),
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

// As a process of its own (so a load test does not share the client's thread):
//   node --import tsx test/helpers/fault-server.ts <cache dir> [latency ms]   → prints the URL
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [dir, latency] = process.argv.slice(2);
  const server = await serveWithFaults(dir!, { rules: latency ? [{ match: '', latencyMs: Number(latency) }] : [] });
  process.stdout.write(`${server.url}\n`);
}
