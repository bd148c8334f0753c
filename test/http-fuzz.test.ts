// A fuzz run over the HTTP layer (issue 16): random truncations, resets, stalls, trickles, bodies
// without end, 5xx and corrupt bytes from the fault server, a fixed seed, bounded in time. Every
// run must end, and end either with every NAR verified in the cache or with an error naming a
// store path; never with a bad or half-written cache entry. NIX_IMAGER_FUZZ_RUNS sets the count
// (default 12) for a longer run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BinaryCache } from '../core/cache/binary-cache.ts';
import { resolvePaths } from '../core/cache/resolve.ts';
import { NixImagerError } from '../core/errors.ts';
import { nix32Encode } from '../core/nix/nix32.ts';
import { parsePublicKey } from '../core/nix/signature.ts';
import { fetchNar } from '../core/store/nar-fetch.ts';
import { nodeCodecs } from '../node/codec-wasm.ts';
import { narCacheDir } from '../node/nar-cache-dir.ts';
import { serveWithFaults, type FaultRule } from './helpers/fault-server.ts';
import { rng, syntheticCache, type SyntheticCache } from './helpers/synthetic-cache.ts';

const RUNS = Number(process.env['NIX_IMAGER_FUZZ_RUNS'] ?? 12);
const SEED = 160_016;

let syn: SyntheticCache;
let tmp: string;

before(async () => {
  syn = await syntheticCache({ paths: 6, filesPerPath: 6, meanFileSize: 30_000, compression: 'xz', seed: 31 });
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-fuzz-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

/** One random fault on a random kind of request. */
function randomRule(random: () => number): FaultRule {
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const match = pick(['nar/', '.narinfo', 'nix-cache-info', '']);
  const times = 1 + Math.floor(random() * 3);
  const bytes = Math.floor(random() * 60_000);
  const fault = pick<Omit<FaultRule, 'match'>>([
    { truncateAfter: bytes, contentLength: 'full' },
    { truncateAfter: bytes, contentLength: 'truncated' },
    { resetAfter: bytes },
    { stallAfter: bytes },
    { bytesPerSecond: 200 + Math.floor(random() * 2000) },
    { endless: true },
    { status: pick([500, 502, 503, 429, 408]) },
    { corrupt: true },
    { latencyMs: Math.floor(random() * 200) },
  ]);
  return { match, times, ...fault };
}

async function entriesValid(narDir: string): Promise<number> {
  // Verification records (`<key>.ok`, nar-cache-record.test.ts) sit beside the entries.
  const names = (await readdir(narDir).catch(() => [] as string[])).filter((n) => !/^[0-9a-z]{52}\.ok$/.test(n));
  for (const name of names) {
    assert.match(name, /^[0-9a-z]{52}\.nar$/, `only committed entries: ${name}`);
    const digest = createHash('sha256').update(await readFile(join(narDir, name))).digest();
    assert.equal(`${nix32Encode(digest)}.nar`, name, 'every entry hashes to its key');
  }
  return names.length;
}

test(`fuzz: ${RUNS} runs of random HTTP faults end, with a verified cache or an error naming a store path`, { timeout: 60_000 + RUNS * 30_000 }, async () => {
  const random = rng(SEED);
  const outcomes: string[] = [];
  for (let run = 0; run < RUNS; run++) {
    const rules = Array.from({ length: 1 + Math.floor(random() * 3) }, () => randomRule(random));
    const server = await serveWithFaults(syn.dir, { rules });
    const narDir = join(tmp, `nar-${run}`);
    const t = performance.now();
    try {
      const cache = new BinaryCache(server.url, fetch, { backoffMs: 10, timeoutMs: 400, minBytesPerSecond: 100 });
      const resolved = await resolvePaths([syn.toplevel], [cache], { trustedKeys: [parsePublicKey(syn.publicKey)], requireSigs: true, closure: true });
      const nars = narCacheDir(narDir);
      for (const r of resolved.values()) await fetchNar(r, nars, { codecs: nodeCodecs });
      assert.equal(await entriesValid(narDir), syn.paths.length);
      outcomes.push('ok');
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      assert.ok(e instanceof NixImagerError, `a NixImagerError, not ${e}`);
      assert.ok(syn.paths.some((p) => e.message.includes(p)) || e.message.includes('nix-cache-info'), `names what failed: ${e.message}`);
      await entriesValid(narDir);
      outcomes.push(e.code);
    } finally {
      await server.close();
    }
    assert.ok(performance.now() - t < 25_000, `run ${run} ended in time (${JSON.stringify(rules)})`);
  }
  console.log(`# outcomes: ${outcomes.join(' ')}`);
});
