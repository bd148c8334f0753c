// ext4 benchmark (by hand: `node --import tsx bench/ext4.ts [DIR ...]`, default /usr/lib/python3 and
// /usr/lib/python3.11, about 100 MB in a few thousand files; `--files N` adds a synthetic in-memory
// tree of N small files written to nowhere, for peak memory at scale). The directories are copied
// to /dev/shm. Ours: treeFromDisk + ext4Image into a sparse file; native: `mke2fs -t ext4 -b 4096
// -O ^resize_inode -d` (what make-ext4-fs.nix runs, less the resize inode we do not write), same
// size, UUID and hash seed. Each runs in its own process under /usr/bin/time (wall time, peak
// RSS), best of 3 after one warm-up; both images must pass e2fsck -fn.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ext4Image } from '../core/ext4/ext4-writer.ts';
import { newDir, treeDataSize, walk, type ImageDir } from '../core/image/tree.ts';
import type { DataSource } from '../core/io/data-source.ts';
import { isZeros } from '../core/io/sparse.ts';
import { treeFromDisk } from '../node/fs-tree.ts';
import { writeSparseFile } from '../node/sparse-file.ts';

const OPTS = { label: 'nixos', uuid: 'f222513b-ded1-49fa-b591-20ce86a2fe7f', hashSeed: '6b0b4c1d-6a2e-4f38-9a0e-2c5d3e4f5a6b', time: 1700000000 };

/** Child mode: one image, timed inside as well. */
async function child(args: string[]): Promise<void> {
  const [mode, a, b] = args;
  const t = performance.now();
  if (mode === '--write') await writeSparseFile(ext4Image(treeFromDisk(a!), { ...OPTS, size: Number(b) }), join(a!, '..', 'ours.img'));
  else {
    let bytes = 0;
    for await (const c of ext4Image(syntheticTree(Number(a)), { ...OPTS, size: 'auto' }).chunks()) bytes += isZeros(c) ? c.zeros : c.length;
    console.log(`image ${bytes} bytes`);
  }
  console.log(`inside ${((performance.now() - t) / 1000).toFixed(3)} s`);
}

/** `files` files of 1 to 2000 bytes in directories of 1000, the bytes made on demand. */
function syntheticTree(files: number): ImageDir {
  const root = newDir(0o755);
  const store = newDir(0o755);
  root.entries.set('store', store);
  const block = new Uint8Array(2000).map((_, i) => (i * 31) & 0xff);
  for (let i = 0; i < files; i++) {
    const dirName = `${String(Math.floor(i / 1000)).padStart(4, '0')}-package`;
    let dir = store.entries.get(dirName);
    if (dir === undefined) store.entries.set(dirName, (dir = newDir(0o555)));
    const size = 1 + ((i * 7919) % 2000);
    const data: DataSource = { size, async *stream() { yield block.subarray(0, size); } };
    if (dir.kind === 'dir') dir.entries.set(`file-${i}.so`, { kind: 'file', mode: 0o444, data });
  }
  return root;
}

const tmp = process.argv[2] === '--child' ? '' : mkdtempSync('/dev/shm/bench-ext4-');
const tree = join(tmp, 'tree');

function timed(cmd: string[]): { seconds: number; rssMiB: number; stdout: string } {
  const report = join(tmp, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', report, ...cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')}: exit ${r.status}: ${r.stderr.slice(-2000)}`);
  const [seconds, rss] = readFileSync(report, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { seconds: seconds!, rssMiB: rss! / 1024, stdout: r.stdout };
}

function best(cmd: string[]): { seconds: number; rssMiB: number; stdout: string } {
  timed(cmd);
  const runs = [timed(cmd), timed(cmd), timed(cmd)];
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

const self = [process.execPath, '--import', 'tsx', new URL(import.meta.url).pathname];

async function main(): Promise<void> {
  const filesAt = process.argv.indexOf('--files');
  const scaleFiles = filesAt > 0 ? Number(process.argv[filesAt + 1]) : 0;
  const sources = process.argv.slice(2).filter((a, i, all) => a !== '--files' && all[i - 1] !== '--files');
  mkdirSync(tree);
  for (const s of sources.length > 0 ? sources : ['/usr/lib/python3', '/usr/lib/python3.11']) {
    const r = spawnSync('cp', ['-a', s, `${tree}/`]);
    if (r.status !== 0) throw new Error(`cp ${s}: ${r.stderr}`);
  }
  const root = treeFromDisk(tree);
  const entries = [...walk(root)].length;
  const dataMB = treeDataSize(root) / 1e6;
  const size = Math.ceil((treeDataSize(root) * 1.5 + entries * 4096 + 64 * 2 ** 20) / 2 ** 20) * 2 ** 20;
  console.log(`input: ${entries} entries, ${dataMB.toFixed(0)} MB of file data; image ${size / 2 ** 20} MiB`);
  const ours = best([...self, '--child', '--write', tree, String(size)]);
  const mkfs = best(['mke2fs', '-q', '-F', '-t', 'ext4', '-b', '4096', '-O', '^resize_inode', '-L', 'nixos', '-U', OPTS.uuid,
    '-E', `hash_seed=${OPTS.hashSeed},root_owner=0:0`, '-d', tree, join(tmp, 'mke2fs.img'), `${size / 1024}k`]);
  const used = (img: string) => statSync(join(tmp, img)).blocks * 512;
  const clean = (img: string) => spawnSync('e2fsck', ['-fn', join(tmp, img)]).status === 0;
  const row: Record<string, unknown> = {
    bench: 'ext4', entries, dataMB: Math.round(dataMB), imageBytes: size,
    oursSeconds: ours.seconds, mke2fsSeconds: mkfs.seconds, ratioToMke2fs: +(ours.seconds / mkfs.seconds).toFixed(3),
    oursInsideSeconds: Number(/inside ([\d.]+)/.exec(ours.stdout)?.[1]),
    oursAllocatedBytes: used('ours.img'), mke2fsAllocatedBytes: used('mke2fs.img'),
    oursPeakRssMiB: Math.round(ours.rssMiB), mke2fsPeakRssMiB: Math.round(mkfs.rssMiB),
    e2fsckClean: clean('ours.img') && clean('mke2fs.img'),
  };
  console.log(
    `ours ${ours.seconds.toFixed(2)} s (${row.oursInsideSeconds} s after startup), mke2fs -d ${mkfs.seconds.toFixed(2)} s (→ ${row.ratioToMke2fs}×); ` +
      `allocated ${(used('ours.img') / 1e6).toFixed(0)} MB vs ${(used('mke2fs.img') / 1e6).toFixed(0)} MB; ` +
      `peak RSS ${row.oursPeakRssMiB} MiB vs ${row.mke2fsPeakRssMiB} MiB; e2fsck ${row.e2fsckClean ? 'clean on both' : 'NOT CLEAN'}`,
  );
  if (scaleFiles > 0) {
    const scale = timed([...self, '--child', '--synthetic', String(scaleFiles)]);
    row.scaleFiles = scaleFiles;
    row.scaleSeconds = scale.seconds;
    row.scalePeakRssMiB = Math.round(scale.rssMiB);
    console.log(`${scaleFiles} synthetic files: ${scale.stdout.trim().replace(/\n/g, ', ')}, ${scale.seconds.toFixed(1)} s, peak RSS ${row.scalePeakRssMiB} MiB`);
  }
  console.log(`BENCH-JSON ${JSON.stringify(row)}`);
  if (!row.e2fsckClean) process.exitCode = 1;
}

if (process.argv[2] === '--child') await child(process.argv.slice(3));
else {
  try {
    await main();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
