import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { nix32Encode } from '../core/nix/nix32.ts';
import { BIN, ROOT } from './helpers/cli.ts';
import { serveWithFaults, type FaultServer } from './helpers/fault-server.ts';
import { rng, syntheticCache, type SyntheticCache } from './helpers/synthetic-cache.ts';

let syn: SyntheticCache;
let tmp: string;
let server: FaultServer;

before(async () => {
  syn = await syntheticCache({ paths: 16, filesPerPath: 10, meanFileSize: 40_000, compression: 'xz', seed: 23 });
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-crash-'));
  // Slow NARs keep the download phase long enough to land kills in it.
  server = await serveWithFaults(syn.dir, { rules: [{ match: 'nar/', bytesPerSecond: 1_000_000 }] });
});
after(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

async function writeConfig(name: string, substituter: string): Promise<string> {
  const cfg = join(tmp, `${name}.json`);
  await writeFile(
    cfg,
    JSON.stringify({
      format: 'tarball',
      substituters: [substituter],
      trustedPublicKeys: [syn.publicKey],
      storeContents: [{ object: syn.toplevel, symlink: '/run/current-system' }],
      compression: 'xz',
      xzBlockSize: 1 << 20,
    }),
  );
  return cfg;
}

type Phase = 'download' | 'write' | 'any';

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** What the build was doing when it was killed. */
  killedIn?: string;
}

const listing = (dir: string) => readdir(dir).catch(() => [] as string[]);

/**
 * Is build process `pid` in `phase` now? Download: it is writing a NAR under a temporary name;
 * write: its output temporary has bytes. (Temporaries of killed runs carry other pids.)
 */
async function inPhase(phase: Phase, pid: number, narDir: string, out: string): Promise<boolean> {
  if (phase === 'any') return true;
  if (phase === 'download') return (await listing(narDir)).some((e) => e.endsWith('.tmp') && e.includes(`.${pid}.`));
  const outDir = dirname(out);
  for (const e of await listing(outDir)) {
    if (e.startsWith(`.${basename(out)}.part-${pid}-`) && (await stat(join(outDir, e)).catch(() => null))?.size) return true;
  }
  return false;
}

/** Runs the CLI; with `kill`, sends it `kill.signal` (default SIGKILL) `afterMs` after it enters `phase`. */
function runBuild(cfg: string, out: string, cacheDir: string, kill?: { phase: Phase; afterMs: number; signal?: NodeJS.Signals }): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'build', cfg, '--output', out, '--cache-dir', cacheDir, '--threads', '1', '--quiet'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let killedIn: string | undefined;
    let exited = false;
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      exited = true;
      resolve({ code, signal, stderr, killedIn });
    });
    if (kill) {
      void (async () => {
        const narDir = join(cacheDir, 'nar');
        while (!exited && !(await inPhase(kill.phase, child.pid!, narDir, out))) await sleep(5);
        await sleep(kill.afterMs);
        if (exited) return;
        const downloading = await inPhase('download', child.pid!, narDir, out);
        const writing = await inPhase('write', child.pid!, narDir, out);
        killedIn = downloading ? 'download' : writing ? 'write' : 'other';
        child.kill(kill.signal ?? 'SIGKILL');
      })();
    }
  });
}

/** Every committed NAR hashes to its key (temporaries of killed runs are tolerated); returns the committed keys. */
async function checkNarCache(narDir: string): Promise<string[]> {
  const committed: string[] = [];
  for (const e of await listing(narDir)) {
    if (e.endsWith('.tmp') || /^[0-9a-z]{52}\.ok$/.test(e)) continue;
    assert.match(e, /^[0-9a-z]{52}\.nar$/);
    const digest = createHash('sha256').update(await readFile(join(narDir, e))).digest();
    assert.equal(`${nix32Encode(digest)}.nar`, e, `${e} hashes to its key`);
    committed.push(e);
  }
  return committed;
}

test('SIGKILL during download and during writing, then a rerun: same bytes as a clean build, no bad cache entry used', async () => {
  const cleanCfg = await writeConfig('clean', syn.url);
  const cleanOut = join(tmp, 'clean.tar.xz');
  const clean = await runBuild(cleanCfg, cleanOut, join(tmp, 'clean-cache'));
  assert.equal(clean.code, 0, clean.stderr);
  const reference = await readFile(cleanOut);

  const cfg = await writeConfig('crash', server.url);
  const out = join(tmp, 'out.tar.xz');
  const cacheDir = join(tmp, 'cache');
  const narDir = join(cacheDir, 'nar');
  const random = rng(20240601);
  const kills: { phase: Phase; afterMs: number }[] = [
    { phase: 'download', afterMs: Math.floor(random() * 400) },
    { phase: 'download', afterMs: Math.floor(random() * 400) },
    { phase: 'any', afterMs: 200 + Math.floor(random() * 1500) },
    { phase: 'write', afterMs: Math.floor(random() * 300) },
    { phase: 'write', afterMs: Math.floor(random() * 300) },
  ];
  const where: string[] = [];
  for (const kill of kills) {
    const r = await runBuild(cfg, out, cacheDir, kill);
    assert.equal(r.signal, 'SIGKILL', `the build was killed (${kill.phase} + ${kill.afterMs} ms), not finished: ${r.stderr}`);
    where.push(r.killedIn!);
    await assert.rejects(stat(out), 'no output file after a killed run');
    await checkNarCache(narDir);
  }
  console.log(`# kills landed in: ${where.join(', ')}`);
  assert.ok(where.includes('download') && where.includes('write'), `kills landed in download and in writing: ${where.join(', ')}`);

  // A committed entry that rotted on disk keeps its name but not its hash: it must not be used.
  const [victim] = await checkNarCache(narDir);
  assert.ok(victim, 'some NAR was committed before the kills');
  const handle = await open(join(narDir, victim), 'r+');
  const { size } = await handle.stat();
  await handle.write(new Uint8Array([0xff]), 0, 1, size >> 1);
  await handle.close();

  const final = await runBuild(cfg, out, cacheDir);
  assert.equal(final.code, 0, final.stderr);
  assert.ok((await readFile(out)).equals(reference), 'byte-identical to the clean build');
  const committed = await checkNarCache(narDir);
  assert.equal(committed.length, syn.paths.length, 'every NAR cached and valid, the rotten one replaced');
});

test('SIGINT and SIGTERM during a build: exit status 1 and "interrupted", no output file, no temporary left behind', async () => {
  const cfg = await writeConfig('interrupt', server.url);
  const out = join(tmp, 'interrupted.tar.xz');
  for (const [phase, signal] of [['download', 'SIGINT'], ['write', 'SIGTERM']] as const) {
    const cacheDir = join(tmp, `interrupt-${signal}`);
    const r = await runBuild(cfg, out, cacheDir, { phase, afterMs: 50, signal });
    assert.equal(r.killedIn, phase, `${signal} landed in ${phase}`);
    assert.equal(r.code, 1, `${signal}: exit status 1 (${r.signal ?? ''}): ${r.stderr}`);
    assert.match(r.stderr, /^nix-imager: interrupted$/m);
    await assert.rejects(stat(out), 'no output file');
    assert.deepEqual((await listing(tmp)).filter((e) => e.startsWith(`.${basename(out)}.part-`)), [], 'no output temporary');
    assert.deepEqual((await listing(join(cacheDir, 'nar'))).filter((e) => e.endsWith('.tmp')), [], 'no NAR temporary');
    await checkNarCache(join(cacheDir, 'nar'));
  }
});
