// Scale benchmark (`node --import tsx bench/scale.ts [--quick]`; not in CI).
// A synthetic signed closure (default 10 000 paths / 300 000 files / ~5.4 GB, mostly incompressible;
// --quick: 1 000 paths / 0.25 GB) and a smaller one (a quarter; --quick: half), each composed by the CLI into a tarball.xz
// and, when the squashfs writer exists, an ISO holding a squashfs of the store. Records wall time,
// time per GB of NAR, and the CLI's peak RSS (/usr/bin/time); targets: ≤ 512 MiB whatever the size,
// time linear in bytes (the two sizes' s/GB ratio near 1). Native reference: `tar | xz -T0` of the same store.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT } from '../test/helpers/cli.ts';
import { syntheticCache, type SyntheticCache } from '../test/helpers/synthetic-cache.ts';

const quick = process.argv.includes('--quick');
const GB = 1e9;
const RSS_TARGET_MIB = 512;
const tmp = mkdtempSync(join(tmpdir(), 'bench-scale-'));

function timed(script: string): { seconds: number; maxRssKiB: number } {
  const report = join(tmp, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', report, 'sh', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${script}: exit ${r.status}: ${r.stderr.toString().slice(-2000)}`);
  const [seconds, rss] = readFileSync(report, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { seconds: seconds!, maxRssKiB: rss! };
}

interface Run {
  size: string;
  format: string;
  narGB: number;
  seconds: number;
  secondsPerGB: number;
  peakRssMiB: number;
}

function build(syn: SyntheticCache, format: 'tarball' | 'iso', size: string): Run {
  const cfg = join(tmp, `${size}-${format}.json`);
  const out = join(tmp, `${size}.${format === 'iso' ? 'iso' : 'tar.xz'}`);
  const common = { substituters: [syn.url], trustedPublicKeys: [syn.publicKey], threads: 0 };
  const config =
    format === 'tarball'
      ? { ...common, format, storeContents: [{ object: syn.toplevel, symlink: '/run/current-system' }], compression: 'xz' }
      : { ...common, format, iso: { squashfsContents: [syn.toplevel] } };
  writeFileSync(cfg, JSON.stringify(config));
  // The NAR cache is kept between formats: the ISO run measures composing, not downloading.
  const t = timed(`'${process.execPath}' '${BIN}' build '${cfg}' --output '${out}' --cache-dir '${join(tmp, `cache-${size}`)}' --quiet`);
  rmSync(out, { force: true });
  const narGB = syn.narBytes / GB;
  const run = { size, format, narGB, seconds: t.seconds, secondsPerGB: t.seconds / narGB, peakRssMiB: t.maxRssKiB / 1024 };
  console.log(`${size} ${format}: ${narGB.toFixed(2)} GB NAR in ${t.seconds.toFixed(1)} s (${run.secondsPerGB.toFixed(1)} s/GB), peak RSS ${run.peakRssMiB.toFixed(0)} MiB`);
  return run;
}

try {
  const sizes = quick
    ? { small: { paths: 500, meanFileSize: 8_000 }, large: { paths: 1_000, meanFileSize: 8_000 } }
    : { small: { paths: 2_500, meanFileSize: 18_000 }, large: { paths: 10_000, meanFileSize: 18_000 } };
  const formats: ('tarball' | 'iso')[] = existsSync(join(ROOT, 'core/squashfs/squashfs-writer.ts')) ? ['tarball', 'iso'] : ['tarball'];
  const runs: Run[] = [];
  let native: { seconds: number; gb: number } | undefined;
  for (const [size, s] of Object.entries(sizes)) {
    const t = performance.now();
    const syn = await syntheticCache({ paths: s.paths, filesPerPath: 30, meanFileSize: s.meanFileSize, compression: 'none', compressible: 0.15, seed: 7 });
    console.log(`${size}: ${syn.paths.length} paths, ${syn.files} files, ${(syn.narBytes / GB).toFixed(2)} GB NAR (cache ready in ${((performance.now() - t) / 1000).toFixed(0)} s)`);
    for (const f of formats) runs.push(build(syn, f, size));
    if (size === 'small') {
      // Native reference on the unpacked store the CLI's NAR cache corresponds to: tar | xz -T0 of the same bytes.
      const store = join(tmp, 'native-store');
      spawnSync('sh', ['-c', `mkdir -p '${store}' && for n in '${syn.dir}'/nar/*.nar; do nix-store --restore '${store}/'$(basename $n .nar) < $n; done`], { env: { ...process.env, NIX_REMOTE: '' } });
      const n = timed(`tar --sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner -C '${store}' -c . | xz -6 -T0 > /dev/null`);
      native = { seconds: n.seconds, gb: syn.narBytes / GB };
      rmSync(store, { recursive: true, force: true });
      console.log(`${size} native tar | xz -6 -T0: ${n.seconds.toFixed(1)} s (${(n.seconds / native.gb).toFixed(1)} s/GB)`);
    }
  }
  const per = (size: string, format: string) => runs.find((r) => r.size === size && r.format === format)!;
  const linearity = Object.fromEntries(formats.map((f) => [f, per('large', f).secondsPerGB / per('small', f).secondsPerGB]));
  const peak = Math.max(...runs.map((r) => r.peakRssMiB));
  const tarRatio = native ? per('small', 'tarball').seconds / native.seconds : undefined;
  console.log(`linearity (s/GB large ÷ small, 1 = linear): ${formats.map((f) => `${f} ${linearity[f]!.toFixed(2)}`).join(', ')}`);
  console.log(`peak RSS ${peak.toFixed(0)} MiB (target ≤ ${RSS_TARGET_MIB}) — ${peak <= RSS_TARGET_MIB ? 'ok' : 'OVER'}`);
  if (tarRatio !== undefined) console.log(`tarball.xz time ours/native (small size): ${tarRatio.toFixed(2)}`);
  console.log('BENCH-JSON ' + JSON.stringify({ bench: 'scale', runs, linearity, peakRssMiB: peak, rssTargetMiB: RSS_TARGET_MIB, ratio: tarRatio }));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
