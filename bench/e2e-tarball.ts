// End-to-end tarball benchmark (`node --import tsx bench/e2e-tarball.ts [--quick]`, also run by `npm run bench`).
// Same inputs for both: a synthetic signed xz binary cache on disk (test-artifacts/).
// Native: `nix copy --from file://cache --to <chroot store>` then `tar --sort=name … | xz -6 -T0`.
// Ours: `nix-imager build` (xz -6, one worker per core) with an empty NAR cache. Prints times, peak RSS and ratios.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NIX_ENV } from '../test/helpers/nix.ts';
import { BIN } from '../test/helpers/cli.ts';
import { syntheticCache } from '../test/helpers/synthetic-cache.ts';

const quick = process.argv.includes('--quick');
const MB = 1e6;

/** Runs `sh -c script` under /usr/bin/time: wall seconds and peak RSS (KiB) of the biggest process. */
function timed(script: string, env: Record<string, string> = {}): { seconds: number; maxRssKiB: number } {
  const report = join(tmp, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', report, 'sh', '-c', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${script}: exit ${r.status}: ${r.stderr.toString().slice(-2000)}`);
  const [seconds, rss] = readFileSync(report, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { seconds: seconds!, maxRssKiB: rss! };
}

const tmp = mkdtempSync(join(tmpdir(), 'bench-e2e-'));
try {
  const syn = await syntheticCache(
    quick
      ? { paths: 200, filesPerPath: 20, meanFileSize: 8_000, compression: 'xz', seed: 101 }
      : { paths: 800, filesPerPath: 25, meanFileSize: 12_000, compression: 'xz', seed: 102 },
  );
  console.log(`input: ${syn.paths.length} store paths, ${syn.files} files, ${(syn.narBytes / MB).toFixed(0)} MB NAR, ${(syn.fileBytes / MB).toFixed(0)} MB xz in the cache`);

  const store = join(tmp, 'store');
  const nativeOut = join(tmp, 'native.tar.xz');
  const env = { ...NIX_ENV, NIX_CONFIG: `${NIX_ENV['NIX_CONFIG']}\nrequire-sigs = true\ntrusted-public-keys = ${syn.publicKey}` };
  const copy = timed(`nix copy --from '${syn.url}' --to '${store}' '${syn.toplevel}'`, env);
  const tar = timed(`tar --sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner -C '${store}' -c nix/store | xz -6 -T0 > '${nativeOut}'`);
  const native = copy.seconds + tar.seconds;

  const cfg = join(tmp, 'config.json');
  const oursOut = join(tmp, 'ours.tar.xz');
  writeFileSync(
    cfg,
    JSON.stringify({
      format: 'tarball',
      substituters: [syn.url],
      trustedPublicKeys: [syn.publicKey],
      storeContents: [{ object: syn.toplevel, symlink: 'none' }],
      compression: 'xz',
      threads: 0,
    }),
  );
  const ours = timed(`'${process.execPath}' '${BIN}' build '${cfg}' --output '${oursOut}' --cache-dir '${join(tmp, 'cache')}' --quiet`);

  const nativeSize = statSync(nativeOut).size;
  const oursSize = statSync(oursOut).size;
  console.log(`native: nix copy ${copy.seconds.toFixed(1)} s + tar | xz -T0 ${tar.seconds.toFixed(1)} s = ${native.toFixed(1)} s, ${(nativeSize / MB).toFixed(1)} MB`);
  console.log(`ours:   nix-imager build ${ours.seconds.toFixed(1)} s, ${(oursSize / MB).toFixed(1)} MB, peak RSS ${(ours.maxRssKiB / 1024).toFixed(0)} MiB`);
  console.log(`time ratio ours/native: ${(ours.seconds / native).toFixed(2)} (lower is better)`);
  console.log(
    'BENCH-JSON ' +
      JSON.stringify({
        bench: 'e2e-tarball',
        inputMB: syn.narBytes / MB,
        storePaths: syn.paths.length,
        files: syn.files,
        nativeSeconds: native,
        oursSeconds: ours.seconds,
        ratio: ours.seconds / native,
        sizeRatio: oursSize / nativeSize,
        oursPeakRssMiB: ours.maxRssKiB / 1024,
      }),
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
