// Narinfo resolution benchmark (`node --import tsx bench/resolve.ts [paths] [latency ms]`, default 10 000 and 20).
// A synthetic signed closure served over HTTP on 127.0.0.1 by the fault server (its own process) with
// injected latency on every request. Ours: planBuild as the CLI runs it (node:http keep-alive,
// node:crypto signatures, 128 look-ups in flight). Native: `nix path-info --recursive` against the same
// server (a fresh narinfo disk cache, Nix's default http-connections). Target: 10 000 paths in ≤ 5 s.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planBuild } from '../core/pipeline/build-image.ts';
import { parseConfig } from '../core/pipeline/config.ts';
import { fetchWithFiles } from '../node/file-fetch.ts';
import { nodeEd25519Verify } from '../node/platform.ts';
import { ROOT } from '../test/helpers/cli.ts';
import { NIX_ENV } from '../test/helpers/nix.ts';
import { syntheticCache } from '../test/helpers/synthetic-cache.ts';

const paths = Number(process.argv[2] ?? 10_000);
const latencyMs = Number(process.argv[3] ?? 20);
const TARGET_S = 5;

async function serve(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/fault-server.ts', dir, String(latencyMs)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: line.toString().trim(), child };
}

const syn = await syntheticCache({ paths, filesPerPath: 1, meanFileSize: 100, compression: 'none', seed: 3 });
const home = mkdtempSync(join(tmpdir(), 'bench-resolve-'));
const { url, child } = await serve(syn.dir);
try {
  const config = parseConfig({
    format: 'tarball',
    substituters: [url],
    trustedPublicKeys: [syn.publicKey],
    storeContents: [{ object: syn.toplevel, symlink: 'none' }],
  });
  const t = performance.now();
  const cpu = process.cpuUsage();
  const plan = await planBuild(config, fetchWithFiles, { verify: nodeEd25519Verify });
  const ours = (performance.now() - t) / 1000;
  const used = process.cpuUsage(cpu);
  if (plan.imageClosure.length !== paths) throw new Error(`resolved ${plan.imageClosure.length} of ${paths} paths`);
  console.log(`ours:   ${paths} narinfos over ${latencyMs} ms latency in ${ours.toFixed(2)} s (CPU ${((used.user + used.system) / 1e6).toFixed(2)} s; target ≤ ${TARGET_S} s)`);

  const n0 = performance.now();
  const r = spawnSync('nix', ['path-info', '--recursive', '--store', url, syn.toplevel], {
    env: { ...process.env, ...NIX_ENV, HOME: home, XDG_CACHE_HOME: join(home, 'cache') },
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const native = (performance.now() - n0) / 1000;
  if (r.status !== 0) throw new Error(`nix path-info failed: ${r.stderr}`);
  const listed = r.stdout.trim().split('\n').length;
  if (listed !== paths) throw new Error(`nix path-info listed ${listed} of ${paths} paths`);
  console.log(`native: nix path-info --recursive in ${native.toFixed(2)} s`);
  console.log(`ratio ours/native ${(ours / native).toFixed(2)}`);
  console.log('BENCH-JSON ' + JSON.stringify({ bench: 'resolve', paths, latencyMs, oursSeconds: ours, nativeSeconds: native, targetSeconds: TARGET_S, ratio: ours / native }));
} finally {
  child.kill();
  rmSync(home, { recursive: true, force: true });
}
