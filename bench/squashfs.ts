// squashfs benchmark (by hand: `node --import tsx bench/squashfs.ts [MB] [gzip|zstd|xz ...]`, default 300 MB, all three).
// Input: whole directories of /usr/lib (python, gcc, postgresql, ...) taken until MB megabytes, given as
// several sources as make-squashfs.nix gives store paths. Ours runs in a child process with a worker pool
// of all cores; mksquashfs gets `-processors $(nproc)`, the same block size (1 MiB) and compressor settings
// as make-squashfs.nix, and SOURCE_DATE_EPOCH. Both run under /usr/bin/time for wall time and peak RSS.
// Prints sizes, times and RSS with our/mksquashfs ratios, and whether the images are byte-identical.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { newDir } from '../core/image/tree.ts';
import { textToBinary } from '../core/io/binary-string.ts';
import { writeSquashfs, type SquashfsCompression } from '../core/squashfs/squashfs-writer.ts';
import { createFileSink } from '../node/file-sink.ts';
import { createNodeCodecPool } from '../node/codec-pool.ts';
import { nodeCodecs } from '../node/codec-wasm.ts';
import { treeFromDisk } from '../node/fs-tree.ts';

type Codec = 'gzip' | 'zstd' | 'xz';
const COMPRESSION: Record<Codec, { ours: SquashfsCompression; mksquashfs: string[] }> = {
  gzip: { ours: { codec: 'gzip' }, mksquashfs: ['-comp', 'gzip'] },
  zstd: { ours: { codec: 'zstd', level: 19 }, mksquashfs: ['-comp', 'zstd', '-Xcompression-level', '19'] },
  xz: { ours: { codec: 'xz', bcj: 'x86' }, mksquashfs: ['-comp', 'xz', '-Xdict-size', '100%', '-Xbcj', 'x86'] },
};
const CANDIDATES = ['python3', 'python3.11', 'gcc', 'postgresql', 'git-core', 'node_modules', 'llvm-14', 'jvm'].map((d) => `/usr/lib/${d}`);
const cores = availableParallelism();

/** The child: writes one image with our writer and prints its own wall time. */
async function child(codec: Codec, out: string, sources: string[]): Promise<void> {
  const root = newDir(0o777);
  for (const s of sources) root.entries.set(textToBinary(s.slice(s.lastIndexOf('/') + 1)), treeFromDisk(s));
  const pool = createNodeCodecPool(cores);
  const sink = await createFileSink(out);
  const t = performance.now();
  try {
    await writeSquashfs(root, sink, { compression: COMPRESSION[codec].ours, mtime: 315532800, pool, codecs: nodeCodecs });
    await sink.close();
  } finally {
    await pool.close();
  }
  console.log(`WALL ${(performance.now() - t) / 1000}`);
}

function du(path: string): number {
  const r = spawnSync('du', ['-sb', path], { encoding: 'utf8' });
  return Number(r.stdout.split('\t')[0]);
}

/** Runs a command under /usr/bin/time; returns its wall seconds and peak RSS in MB. */
function timed(cmd: string[], env: Record<string, string> = {}): { wall: number; rssMB: number; stdout: string } {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', ...cmd], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  const [, wall, rss] = /TIME ([\d.]+) (\d+)/.exec(r.stderr)!;
  return { wall: Number(wall), rssMB: Number(rss) / 1024, stdout: r.stdout };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1] as Codec, args[2]!, args.slice(3));
  const mb = Number(args.find((a) => /^\d+$/.test(a)) ?? 300);
  const codecs = args.filter((a): a is Codec => a in COMPRESSION);
  const sources: string[] = [];
  let total = 0;
  for (const c of CANDIDATES) {
    if (total >= mb * 1e6) break;
    sources.push(c);
    total += du(c);
  }
  console.log(`input: ${sources.join(' ')} (${(total / 1e6).toFixed(0)} MB), ${cores} cores`);
  const tmp = mkdtempSync(join(tmpdir(), 'bench-squashfs-'));
  const results: Record<string, unknown>[] = [];
  try {
    for (const codec of codecs.length > 0 ? codecs : (['gzip', 'zstd', 'xz'] as const)) {
      const oursImg = join(tmp, `ours-${codec}.img`);
      const refImg = join(tmp, `ref-${codec}.img`);
      const ours = timed([process.execPath, '--import', 'tsx', 'bench/squashfs.ts', '--child', codec, oursImg, ...sources]);
      const inner = Number(/WALL ([\d.]+)/.exec(ours.stdout)![1]);
      const ref = timed(
        ['mksquashfs', ...sources, refImg, '-no-hardlinks', '-all-root', '-b', '1048576', ...COMPRESSION[codec].mksquashfs, '-processors', String(cores), '-noappend', '-quiet'],
        { SOURCE_DATE_EPOCH: '315532800' },
      );
      const oursSize = statSync(oursImg).size;
      const refSize = statSync(refImg).size;
      const identical = readFileSync(oursImg).equals(readFileSync(refImg));
      const row = {
        codec,
        oursSeconds: inner,
        oursProcessSeconds: ours.wall,
        mksquashfsSeconds: ref.wall,
        timeRatio: +(inner / ref.wall).toFixed(3),
        oursBytes: oursSize,
        mksquashfsBytes: refSize,
        sizeRatio: +(oursSize / refSize).toFixed(5),
        oursPeakRssMB: Math.round(ours.rssMB),
        mksquashfsPeakRssMB: Math.round(ref.rssMB),
        rssRatio: +(ours.rssMB / ref.rssMB).toFixed(2),
        identical,
      };
      results.push(row);
      console.log(
        `${codec}: ours ${inner.toFixed(1)} s (process ${ours.wall.toFixed(1)} s), mksquashfs ${ref.wall.toFixed(1)} s → ${row.timeRatio}×; ` +
          `size ${oursSize} vs ${refSize} → ${row.sizeRatio}×${identical ? ' (byte-identical)' : ''}; ` +
          `peak RSS ${row.oursPeakRssMB} MB vs ${row.mksquashfsPeakRssMB} MB → ${row.rssRatio}×`,
      );
      rmSync(oursImg);
      rmSync(refImg);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`BENCH-JSON ${JSON.stringify({ bench: 'squashfs', inputMB: Math.round(total / 1e6), cores, results })}`);
}

await main();
