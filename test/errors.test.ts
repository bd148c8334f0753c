// One error vocabulary: a cache outage is a download error (never a verification failure), errors
// keep their code across threads, and a long list in a message is summarised.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BinaryCache } from '../core/cache/binary-cache.ts';
import { UnavailablePathsError, resolvePaths } from '../core/cache/resolve.ts';
import { fromErrorData, NixImagerError, toErrorData } from '../core/errors.ts';
import { parseNarInfo } from '../core/nix/narinfo.ts';
import { parsePublicKey } from '../core/nix/signature.ts';
import { fetchNar, NarVerificationError } from '../core/store/nar-fetch.ts';
import { ConfigError } from '../core/pipeline/config.ts';
import { nodeCodecs } from '../node/codec-wasm.ts';
import { narCacheDir } from '../node/nar-cache-dir.ts';
import { runCli } from './helpers/cli.ts';
import { serveWithFaults, type FaultServer } from './helpers/fault-server.ts';
import { syntheticCache, type SyntheticCache } from './helpers/synthetic-cache.ts';

let syn: SyntheticCache;
let tmp: string;
/** A path of the closure and its NAR file. */
let victim: { storePath: string; nar: string };

before(async () => {
  syn = await syntheticCache({ paths: 4, filesPerPath: 3, meanFileSize: 2000, compression: 'xz', seed: 12 });
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-errors-'));
  const info = parseNarInfo(await readFile(join(syn.dir, `${syn.toplevel.slice(11, 43)}.narinfo`), 'utf8'));
  victim = { storePath: info.storePath, nar: info.url };
});
after(() => rm(tmp, { recursive: true, force: true }));

async function withOutage<T>(fn: (s: FaultServer) => Promise<T>): Promise<T> {
  const server = await serveWithFaults(syn.dir, { rules: [{ match: victim.nar, status: 503 }] });
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

test('a NAR answered with 503 until the retries run out is a download error naming the URL and 503, not a verification failure', () =>
  withOutage(async (s) => {
    const cache = new BinaryCache(s.url, fetch, { backoffMs: 5 });
    const resolved = await resolvePaths([syn.toplevel], [cache], { trustedKeys: [parsePublicKey(syn.publicKey)], requireSigs: true, closure: false });
    const error = await fetchNar(resolved.get(syn.toplevel)!, narCacheDir(join(tmp, 'nar')), { attempts: 2, codecs: nodeCodecs }).then(
      () => assert.fail('the fetch succeeded'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof NixImagerError, `a NixImagerError: ${error}`);
    assert.ok(!(error instanceof NarVerificationError), error.message);
    assert.equal(error.code, 'download');
    const url = new URL(victim.nar, s.url).href;
    assert.equal(error.subject, url);
    assert.ok(error.message.includes(url), error.message);
    assert.match(error.message, /HTTP 503/);
    assert.ok(error.message.includes(victim.storePath), error.message);
    assert.equal(s.requestsFor(victim.nar).length, 2 * 5, 'five tries per attempt, two attempts');
    // Across a thread it keeps its code, name, subject and message.
    const crossed = fromErrorData(structuredClone(toErrorData(error)));
    assert.deepEqual([crossed.code, crossed.name, crossed.subject, crossed.message], [error.code, error.name, error.subject, error.message]);
  }));

test('CLI: a cache outage for a NAR is one line saying the cache is unavailable, with the URL and 503, and no output', () =>
  withOutage(async (s) => {
    const dir = join(tmp, 'cli');
    await mkdir(dir, { recursive: true });
    const cfg = join(dir, 'config.json');
    const config = { format: 'tarball', substituters: [s.url], trustedPublicKeys: [syn.publicKey], storeContents: [{ object: syn.toplevel }], compression: 'none' };
    await writeFile(cfg, JSON.stringify(config));
    const r = await runCli(['build', cfg, '--output', join(dir, 'out.tar'), '--cache-dir', join(dir, 'cache'), '--quiet']);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^nix-imager: a binary cache is unavailable: /);
    assert.ok(lines[0]!.includes(new URL(victim.nar, s.url).href) && lines[0]!.includes('HTTP 503'), lines[0]);
    assert.doesNotMatch(lines[0]!, /verification|mismatch/);
    assert.deepEqual(await readdir(dir).then((f) => f.filter((n) => n.startsWith('out'))), []);
  }));

test('every error class has a code; an error from outside the vocabulary gets the closest one', () => {
  assert.deepEqual(toErrorData(new ConfigError('format', 'is required')), { code: 'config', name: 'ConfigError', message: 'config: format: is required', subject: 'format' });
  assert.equal(toErrorData(new DOMException('the build was cancelled', 'AbortError')).code, 'aborted');
  assert.equal(toErrorData(new TypeError('Failed to fetch')).code, 'download');
  assert.equal(toErrorData('a string').code, 'io');
});

test('50 000 missing paths are summarised: the message names the first few and counts the rest', () => {
  const failures = Array.from({ length: 50_000 }, (_, i) => ({ path: `/nix/store/${String(i).padStart(32, 'a')}-p${i}`, reasons: ['not in any cache'] }));
  const e = new UnavailablePathsError(failures);
  assert.equal(e.code, 'missing-path');
  assert.ok(e.message.length < 2000, `${e.message.length} characters`);
  assert.match(e.message, /^50000 store paths could not be substituted: /);
  assert.ok(e.message.includes(failures[0]!.path));
  assert.match(e.message, /and 49990 more$/);
  assert.equal(e.failures.length, 50_000, 'the full list stays on the error');
});
