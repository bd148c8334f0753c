import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BinaryCache } from '../core/cache/binary-cache.ts';
import type { RetryOptions } from '../core/cache/http.ts';
import { resolvePaths } from '../core/cache/resolve.ts';
import { parseNarInfo } from '../core/nix/narinfo.ts';
import { nix32Encode } from '../core/nix/nix32.ts';
import { parsePublicKey } from '../core/nix/signature.ts';
import { fetchNar } from '../core/store/nar-fetch.ts';
import { nodeCodecs } from '../node/codec-wasm.ts';
import { narCacheDir } from '../node/nar-cache-dir.ts';
import { runCli } from './helpers/cli.ts';
import { serveWithFaults, type FaultRule, type FaultServer } from './helpers/fault-server.ts';
import { syntheticCache, type SyntheticCache } from './helpers/synthetic-cache.ts';

let syn: SyntheticCache;
let tmp: string;
/** The path with the largest NAR download, and its NAR file (cache-relative). */
let big: { storePath: string; nar: string; fileSize: number; hashPart: string; narKey: string };
let cleanTar: Buffer;

// Short back-off keeps the in-process tests quick; the CLI runs with its defaults.
const FAST: RetryOptions = { backoffMs: 20, timeoutMs: 5000 };

before(async () => {
  syn = await syntheticCache({ paths: 12, filesPerPath: 8, meanFileSize: 60_000, compression: 'xz', seed: 11 });
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-faults-'));
  const infos = await Promise.all(
    syn.paths.map(async (p) => parseNarInfo(await readFile(join(syn.dir, `${p.slice(11, 43)}.narinfo`), 'utf8'))),
  );
  const top = infos.reduce((a, b) => (b.fileSize! > a.fileSize! ? b : a));
  big = { storePath: top.storePath, nar: top.url, fileSize: top.fileSize!, hashPart: top.storePath.slice(11, 43), narKey: nix32Encode(top.narHash.digest) };
  assert.ok(big.fileSize > 300_000, `a NAR large enough to break mid-body (${big.fileSize} bytes)`);
});
after(() => rm(tmp, { recursive: true, force: true }));

async function withServer<T>(rules: FaultRule[], fn: (s: FaultServer) => Promise<T>, ranges = true): Promise<T> {
  const server = await serveWithFaults(syn.dir, { rules, ranges });
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

let runs = 0;

/** Resolves the closure over `server` and fetches every NAR into a fresh NAR cache, as buildImage does. */
async function fetchClosure(server: FaultServer, retry: RetryOptions = FAST): Promise<{ narDir: string; error?: unknown }> {
  const narDir = join(tmp, `nar-${++runs}`);
  try {
    const cache = new BinaryCache(server.url, fetch, retry);
    const resolved = await resolvePaths([syn.toplevel], [cache], { trustedKeys: [parsePublicKey(syn.publicKey)], requireSigs: true, closure: true });
    assert.equal(resolved.size, syn.paths.length);
    const nars = narCacheDir(narDir);
    for (const r of resolved.values()) await fetchNar(r, nars, { codecs: nodeCodecs });
    return { narDir };
  } catch (error) {
    return { narDir, error };
  }
}

/** Every entry of the NAR cache is final and hashes to its name; returns how many there are. */
async function checkNarCache(narDir: string): Promise<number> {
  const entries = (await readdir(narDir).catch(() => [] as string[])).filter((e) => !/^[0-9a-z]{52}\.ok$/.test(e));
  for (const e of entries) {
    assert.match(e, /^[0-9a-z]{52}\.nar$/, `only verified, committed entries: ${e}`);
    const digest = createHash('sha256').update(await readFile(join(narDir, e))).digest();
    assert.equal(`${nix32Encode(digest)}.nar`, e, 'every cached NAR hashes to its key');
  }
  return entries.length;
}

async function expectSurvives(server: FaultServer): Promise<void> {
  const { narDir, error } = await fetchClosure(server);
  assert.equal(error, undefined, `the fetch survives: ${error}`);
  assert.equal(await checkNarCache(narDir), syn.paths.length);
}

async function expectPermanent(server: FaultServer, why: RegExp): Promise<void> {
  const { narDir, error } = await fetchClosure(server);
  assert.ok(error instanceof Error, 'the fetch fails');
  assert.ok(error.message.includes(big.storePath), `the error names ${big.storePath}: ${error.message}`);
  assert.match(error.message, why);
  await checkNarCache(narDir);
  assert.ok(!(await readdir(narDir).catch(() => [] as string[])).includes(`${big.narKey}.nar`), 'the failed NAR is not cached');
}

const narinfo = () => `${big.hashPart}.narinfo`;

test('narinfo: HTTP 500 twice, then served: retried', () =>
  withServer([{ match: narinfo(), status: 500, times: 2 }], async (s) => {
    await expectSurvives(s);
    assert.deepEqual(s.requestsFor(narinfo()).map((r) => r.status), [500, 500, 200]);
  }));

test('narinfo: 408 and 429 without Retry-After are retried', () =>
  withServer([{ match: narinfo(), status: 408, times: 1 }, { match: narinfo(), status: 429, from: 2, times: 1 }], async (s) => {
    await expectSurvives(s);
    assert.deepEqual(s.requestsFor(narinfo()).map((r) => r.status), [408, 429, 200]);
  }));

test('503 with Retry-After: 1 waits a second before the next try', () =>
  withServer([{ match: narinfo(), status: 503, retryAfter: '1', times: 1 }], async (s) => {
    await expectSurvives(s);
    const [first, second] = s.requestsFor(narinfo());
    assert.equal(first!.status, 503);
    assert.ok(second!.at - first!.at >= 950, `waited ${second!.at - first!.at} ms`);
  }));

test('429 with an HTTP-date Retry-After waits until then', () =>
  withServer([{ match: big.nar, status: 429, retryAfter: () => new Date(Date.now() + 2500).toUTCString(), times: 1 }], async (s) => {
    await expectSurvives(s);
    const [first, second] = s.requestsFor(big.nar);
    assert.ok(second!.at - first!.at >= 400, `waited ${second!.at - first!.at} ms`);
  }));

test('NAR: HTTP 500 and 503 on the first tries, then served', () =>
  withServer([{ match: big.nar, status: 500, times: 1 }, { match: big.nar, status: 503, from: 2, times: 1 }], async (s) => {
    await expectSurvives(s);
    assert.deepEqual(s.requestsFor(big.nar).map((r) => r.status), [500, 503, 200]);
  }));

test('NAR: connection reset mid-body is resumed with Range from the bytes received', () =>
  withServer([{ match: big.nar, resetAfter: 150_000, times: 1 }], async (s) => {
    await expectSurvives(s);
    const reqs = s.requestsFor(big.nar);
    assert.equal(reqs.length, 2, 'fetched twice');
    assert.equal(reqs[0]!.range, undefined);
    const from = Number(/^bytes=(\d+)-$/.exec(reqs[1]!.range ?? '')?.[1]);
    assert.ok(from > 0 && from <= 150_000, `second request resumes: ${reqs[1]!.range}`);
    assert.equal(reqs[1]!.status, 206);
  }));

test('NAR: a reset on every request still completes by resuming, each time further on', () =>
  withServer([{ match: big.nar, resetAfter: 80_000, times: 3 }], async (s) => {
    await expectSurvives(s);
    const offsets = s.requestsFor(big.nar).map((r) => Number(/^bytes=(\d+)-$/.exec(r.range ?? 'bytes=0-')![1]));
    assert.equal(offsets.length, 4);
    for (let i = 1; i < offsets.length; i++) assert.ok(offsets[i]! > offsets[i - 1]!, `offsets grow: ${offsets}`);
  }));

test('NAR: a truncated body with the full Content-Length is resumed', () =>
  withServer([{ match: big.nar, truncateAfter: 120_000, contentLength: 'full', times: 1 }], async (s) => {
    await expectSurvives(s);
    assert.match(s.requestsFor(big.nar)[1]!.range ?? '', /^bytes=\d+-$/);
  }));

test('NAR: a body cut short with a matching Content-Length is resumed (short of FileSize)', () =>
  withServer([{ match: big.nar, truncateAfter: 120_000, contentLength: 'truncated', times: 1 }], async (s) => {
    await expectSurvives(s);
    assert.equal(s.requestsFor(big.nar)[1]!.range, 'bytes=120000-');
  }));

test('NAR: a server without Range support makes the download start over', () =>
  withServer(
    [{ match: big.nar, resetAfter: 150_000, times: 1 }],
    async (s) => {
      await expectSurvives(s);
      const reqs = s.requestsFor(big.nar);
      assert.deepEqual(
        reqs.map((r) => [r.range === undefined ? 'full' : 'range', r.status]),
        [['full', 200], ['range', 200], ['full', 200]],
      );
    },
    false,
  ));

test('latency and a bandwidth cap only slow the download', () =>
  withServer([{ match: '', latencyMs: 30 }, { match: big.nar, bytesPerSecond: 2_000_000 }], async (s) => {
    const t = performance.now();
    await expectSurvives(s);
    assert.ok(performance.now() - t >= (big.fileSize / 2_000_000) * 1000 * 0.8, 'the cap was in force');
  }));

test('a 302 redirect to another path on the same server is followed', () =>
  withServer([{ match: /^(nar\/|[0-9a-z]{32}\.narinfo)/, redirect: true }], async (s) => {
    await expectSurvives(s);
    assert.ok(s.requestsFor(`mirror/${big.nar}`).length === 1);
    assert.equal(s.requestsFor(`mirror/${narinfo()}`).length, 1);
  }));

test('permanent: the NAR is missing (404), naming the store path', () =>
  withServer([{ match: big.nar, status: 404 }], (s) => expectPermanent(s, /no NAR/)));

test('permanent: NAR bytes that differ from FileHash are refused, not retried', () =>
  withServer([{ match: big.nar, corrupt: true }], async (s) => {
    await expectPermanent(s, /FileHash|decompression|bad NAR|NarHash/);
    assert.equal(s.requestsFor(big.nar).length, 1, 'wrong bytes are not fetched again');
  }));

test('permanent: a validly signed narinfo whose NarHash lies is refused by the hash check', () =>
  withServer([{ match: narinfo(), lieNarHash: { secretKey: syn.secretKey } }], (s) => expectPermanent(s, /NarHash mismatch/)));

test('permanent: a narinfo whose NarHash was changed without re-signing fails its signature', () =>
  withServer([{ match: narinfo(), lieNarHash: {} }], (s) => expectPermanent(s, /signature/)));

test('permanent: HTTP 500 on every try gives up after a bounded number of tries', () =>
  withServer([{ match: narinfo(), status: 500 }], async (s) => {
    await expectPermanent(s, /gave up after 5 tries \(HTTP 500\)/);
    assert.equal(s.requestsFor(narinfo()).length, 5);
  }));

test('permanent: a 403 is not retried', () =>
  withServer([{ match: narinfo(), status: 403 }], async (s) => {
    await expectPermanent(s, /HTTP 403/);
    assert.equal(s.requestsFor(narinfo()).length, 1);
  }));

test('permanent: resets on every request end after bounded resumes and restarts', () =>
  withServer([{ match: big.nar, resetAfter: 10_000 }], async (s) => {
    await expectPermanent(s, /download failed/);
    const n = s.requestsFor(big.nar).length;
    assert.ok(n > 3 && n <= 18, `bounded: ${n} requests`);
  }));

test('permanent: a reset before the first byte, every time, fails after 3 tries', () =>
  withServer([{ match: big.nar, resetAfter: 0 }], async (s) => {
    await expectPermanent(s, /download failed/);
    assert.equal(s.requestsFor(big.nar).length, 3);
  }));

// Through the CLI, with its default retry policy: the image after faults is the fault-free image.
async function cliBuild(name: string, url: string) {
  const dir = join(tmp, name);
  await mkdir(dir, { recursive: true });
  const cfg = join(dir, 'config.json');
  await writeFile(
    cfg,
    JSON.stringify({
      format: 'tarball',
      substituters: [url],
      trustedPublicKeys: [syn.publicKey],
      storeContents: [{ object: syn.toplevel, symlink: '/run/current-system' }],
      compression: 'none',
    }),
  );
  const out = join(dir, 'out.tar');
  const r = await runCli(['build', cfg, '--output', out, '--cache-dir', join(dir, 'cache'), '--quiet']);
  return { ...r, out, dir };
}

test('CLI: the tarball built through transient faults is byte-identical to the fault-free one', async () => {
  const clean = await cliBuild('cli-clean', syn.url);
  assert.equal(clean.code, 0, clean.stderr);
  cleanTar = await readFile(clean.out);
  await withServer(
    [
      { match: '', latencyMs: 5 },
      { match: narinfo(), status: 503, retryAfter: '1', times: 1 },
      { match: big.nar, resetAfter: 100_000, times: 2 },
      { match: /\.narinfo$/, status: 500, times: 1 },
      { match: /^nar\//, redirect: true },
    ],
    async (s) => {
      const r = await cliBuild('cli-faults', s.url);
      assert.equal(r.code, 0, r.stderr);
      assert.ok((await readFile(r.out)).equals(cleanTar), 'same bytes as the fault-free build');
      assert.ok(s.requestsFor(`mirror/${big.nar}`).some((q) => q.status === 206), 'resumed through the redirect');
      await checkNarCache(join(r.dir, 'cache', 'nar'));
    },
  );
});

test('CLI: a permanent fault is one line on stderr naming the store path, and no output file', () =>
  withServer([{ match: big.nar, corrupt: true }], async (s) => {
    const r = await cliBuild('cli-permanent', s.url);
    assert.equal(r.code, 1);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.ok(lines[0]!.includes(big.storePath), lines[0]);
    assert.deepEqual((await readdir(r.dir)).sort(), ['cache', 'config.json'], 'no output and no temporary');
    await checkNarCache(join(r.dir, 'cache', 'nar'));
  }));
