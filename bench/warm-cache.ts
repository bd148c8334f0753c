// Warm NAR cache benchmark (`node --import tsx bench/warm-cache.ts [--quick] [--cli <bin>]`, also run by `npm run bench`).
// A synthetic uncompressed cache (100 paths × 20 files: about 1 GB of NARs; --quick about 100 MB).
// Builds an uncompressed tarball with one NAR cache: cold (downloads and verifies) to a file, then
// twice each, alternating, to /dev/null: warm with the verification records, and warm with the
// records deleted first (every NAR hashed again: what every warm build did before the records).
// Native reference: `sha256sum` over the cached NARs, the hashing a warm build no longer does.
// A warm and a re-verified build to files are compared with the cold one by `cmp`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../test/helpers/cli.ts';
import { syntheticCache } from '../test/helpers/synthetic-cache.ts';

const quick = process.argv.includes('--quick');
const cliAt = process.argv.indexOf('--cli');
const bin = cliAt === -1 ? BIN : process.argv[cliAt + 1]!;
const MB = 1e6;

function timed(script: string): number {
  const report = join(tmp, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-f', '%e', '-o', report, 'sh', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${script}: exit ${r.status}: ${r.stderr.toString().slice(-2000)}`);
  return Number(readFileSync(report, 'utf8').trim().split('\n').pop());
}

const tmp = mkdtempSync(join(tmpdir(), 'bench-warm-'));
try {
  const syn = await syntheticCache({ paths: 100, filesPerPath: 20, meanFileSize: quick ? 50_000 : 500_000, compression: 'none', seed: 170 });
  console.log(`input: ${syn.paths.length} store paths, ${syn.files} files, ${(syn.narBytes / MB).toFixed(0)} MB NAR`);
  const cfg = join(tmp, 'config.json');
  const cacheDir = join(tmp, 'cache');
  const narDir = join(cacheDir, 'nar');
  writeFileSync(cfg, JSON.stringify({ format: 'tarball', substituters: [syn.url], trustedPublicKeys: [syn.publicKey], storeContents: [{ object: syn.toplevel, symlink: 'none' }], compression: 'none' }));
  const cli = `'${process.execPath}' '${bin}' build '${cfg}' --cache-dir '${cacheDir}' --quiet --output`;
  const dropRecords = () => {
    for (const f of readdirSync(narDir)) if (f.endsWith('.ok')) unlinkSync(join(narDir, f));
  };
  const cold = timed(`${cli} '${join(tmp, 'cold.tar')}'`);
  const warms: number[] = [];
  const reverifies: number[] = [];
  for (let i = 0; i < 2; i++) {
    warms.push(timed(`${cli} - > /dev/null`));
    dropRecords();
    reverifies.push(timed(`${cli} - > /dev/null`));
  }
  const warm = Math.min(...warms);
  const reverify = Math.min(...reverifies);
  const native = timed(`cat '${narDir}'/*.nar | sha256sum > /dev/null`);
  timed(`${cli} '${join(tmp, 'warm.tar')}'`);
  dropRecords();
  timed(`${cli} '${join(tmp, 'reverify.tar')}'`);
  for (const out of ['warm.tar', 'reverify.tar']) {
    if (spawnSync('cmp', [join(tmp, 'cold.tar'), join(tmp, out)]).status !== 0) throw new Error(`${out} differs from the cold build`);
  }
  console.log(`cold build ${cold.toFixed(2)} s; warm, records ${warm.toFixed(2)} s; warm, every NAR re-verified ${reverify.toFixed(2)} s (best of 2, to /dev/null); sha256sum of the NARs ${native.toFixed(2)} s (outputs cmp-identical)`);
  console.log(`time ratio warm/re-verified: ${(warm / reverify).toFixed(2)}; re-verification cost ${(reverify - warm).toFixed(2)} s vs sha256sum ${native.toFixed(2)} s`);
  console.log('BENCH-JSON ' + JSON.stringify({ bench: 'warm-cache', inputMB: syn.narBytes / MB, files: syn.files, coldSeconds: cold, warmSeconds: warm, reverifySeconds: reverify, nativeSha256sumSeconds: native, ratio: warm / reverify }));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
