import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planBuild } from '../core/pipeline/build-image.ts';
import { parseConfig } from '../core/pipeline/config.ts';
import { fetchWithFiles } from '../node/file-fetch.ts';
// As the CLI: signatures checked by node:crypto (the portable ed25519 is ~20× slower and would dominate the timing).
import { nodeEd25519Verify } from '../node/platform.ts';
import { ROOT, runCli, sh } from './helpers/cli.ts';
import { NIX_ENV, nix, nixRun } from './helpers/nix.ts';
import { syntheticCache, type SyntheticCache } from './helpers/synthetic-cache.ts';

let tmp: string;
let mid: SyntheticCache;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-scale-'));
  mid = await syntheticCache({ paths: 2000, filesPerPath: 20, meanFileSize: 1000, compression: 'none', seed: 5 });
});
after(() => rm(tmp, { recursive: true, force: true }));

function tarballConfig(cache: SyntheticCache, substituter: string) {
  return {
    format: 'tarball',
    substituters: [substituter],
    trustedPublicKeys: [cache.publicKey],
    storeContents: [{ object: cache.toplevel, symlink: '/run/current-system' }],
    compression: 'none',
  };
}

/** The fault server as a process of its own, so its work does not share this thread's time. */
async function slowServer(dir: string, latencyMs: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/fault-server.ts', dir, String(latencyMs)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: line.toString().trim(), child };
}

test('real Nix accepts a sample of the synthetic cache: signatures, NAR hashes, NAR bytes', async () => {
  const store = join(tmp, 'nix-store');
  // synth-3's closure is a handful of paths.
  const sample = mid.paths.find((p) => p.endsWith('-synth-3-1.0'))!;
  const trusting = { ...NIX_ENV, NIX_CONFIG: `${NIX_ENV['NIX_CONFIG']}\nrequire-sigs = true\ntrusted-public-keys = ${mid.publicKey}` };
  const copy = (env: Record<string, string>, to: string) => sh('nix', ['copy', '--from', mid.url, '--to', to, sample], { env });
  await copy(trusting, store);
  const closure = (await nix('nix-store', ['--store', store, '-qR', sample])).trim().split('\n').sort();
  const expected = new Set<string>();
  const walk = (p: string) => {
    if (expected.has(p)) return;
    expected.add(p);
    mid.references[p]!.forEach(walk);
  };
  walk(sample);
  assert.deepEqual(closure, [...expected].sort());
  await nix('nix-store', ['--store', store, '--verify', '--check-contents']);
  // The same copy with another trusted key must be refused: the signatures were really checked.
  const other = { ...NIX_ENV, NIX_CONFIG: `${NIX_ENV['NIX_CONFIG']}\nrequire-sigs = true\ntrusted-public-keys = other:${Buffer.alloc(32, 7).toString('base64')}` };
  await assert.rejects(copy(other, join(tmp, 'refused-store')), /signature/);
  const sigs = await nix('nix', ['path-info', '--store', mid.url, '--sigs', mid.toplevel]);
  assert.ok(sigs.includes(mid.publicKey.split(':')[0]!), sigs);
  // nix-store --restore then --dump gives back the NAR byte for byte (our NARs are canonical).
  for (const p of mid.paths.slice(0, 3)) {
    const info = await readFile(join(mid.dir, `${p.slice(11, 43)}.narinfo`), 'utf8');
    const nar = await readFile(join(mid.dir, /^URL: (.+)$/m.exec(info)![1]!));
    const out = join(tmp, `restored-${p.slice(11, 19)}`);
    await nix('nix-store', ['--restore', out], nar);
    const dumped = await sh('bash', ['-c', 'nix-store --dump "$1" | sha256sum', 'x', out], { env: NIX_ENV });
    assert.equal(dumped.split(' ')[0], (await sh('sha256sum', [], { input: nar })).split(' ')[0], `${p} restores and dumps to the same NAR`);
  }
});

// Speed is measured here, not asserted (a loaded CI machine would make it flaky): bench/resolve.ts holds the 5 s target.
test('10 000 narinfos over 20 ms latency all resolve, in closure order', async () => {
  const big = await syntheticCache({ paths: 10_000, filesPerPath: 1, meanFileSize: 100, compression: 'none', seed: 3 });
  const { url, child } = await slowServer(big.dir, 20);
  try {
    const config = parseConfig(tarballConfig(big, url));
    const t = performance.now();
    const plan = await planBuild(config, fetchWithFiles, { verify: nodeEd25519Verify });
    const ms = performance.now() - t;
    assert.equal(plan.imageClosure.length, 10_000);
    assert.deepEqual(plan.imageClosure, big.paths);
    console.log(`# 10 000 narinfos over 20 ms latency: ${(ms / 1000).toFixed(2)} s (target 5 s)`);
  } finally {
    child.kill();
  }
});

test('a 2 000-path / 40 000-file closure: the tarball lists every file and loads into a real Nix store that verifies', async () => {
  const dir = join(tmp, 'mid');
  await mkdir(dir);
  const cfg = join(dir, 'config.json');
  await writeFile(cfg, JSON.stringify(tarballConfig(mid, mid.url)));
  const out = join(dir, 'system.tar');
  const r = await runCli(['build', cfg, '--output', out, '--cache-dir', join(dir, 'cache'), '--quiet']);
  assert.equal(r.code, 0, r.stderr);

  const listing = (await sh('tar', ['-tvf', out])).trimEnd().split('\n');
  const count = (type: string) => listing.filter((l) => l.startsWith(type)).length;
  assert.equal(count('-'), mid.files + 1, 'every file, and nix-path-registration');
  assert.equal(count('l'), mid.paths.length + 1, 'one symlink per path, and /run/current-system');
  const storeDirs = listing.filter((l) => /^d.* nix\/store\/[^/]+\/$/.test(l)).length;
  assert.equal(storeDirs, mid.paths.length, 'every store path');

  const root = join(dir, 'root');
  await mkdir(root);
  await sh('tar', ['-xf', out, '-C', root]);
  await nix('nix-store', ['--store', root, '--load-db'], await readFile(join(root, 'nix-path-registration')));
  const verify = await nixRun('nix-store', ['--store', root, '--verify', '--check-contents']);
  assert.equal(verify.code, 0, verify.stderr);
  assert.doesNotMatch(verify.stderr, /modified|invalid|error/i);
  const valid = (await nix('nix-store', ['--store', root, '-qR', mid.toplevel])).trim().split('\n');
  assert.equal(valid.length, mid.paths.length);
});
