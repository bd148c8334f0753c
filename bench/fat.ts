// FAT benchmark (by hand: `node --import tsx bench/fat.ts [DIR ...]`, default /usr/lib/python3 and
// /usr/lib/python3.11, about 100 MB): the directories copied to /dev/shm without their symlinks
// (FAT has none) and every mtime set to one epoch; then a tree of 20 000 small files. Ours:
// treeFromDisk + fatImage into a sparse file; the native way (what iso-image.nix runs for efi.img):
// `mkfs.vfat -C` of the same size, then `mcopy -s` of the tree. Both images must pass fsck.fat -n.
// Best of 3 for ours, best of 2 for the native tools (mcopy of 20 000 files is slow), after a warm-up.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fatAutoSize, fatImage } from '../core/fat/fat-writer.ts';
import { treeDataSize, walk } from '../core/image/tree.ts';
import { treeFromDisk } from '../node/fs-tree.ts';
import { writeSparseFile } from '../node/sparse-file.ts';

const EPOCH = 1700000000;
const sources = process.argv.length > 2 ? process.argv.slice(2) : ['/usr/lib/python3', '/usr/lib/python3.11'];
const tmp = mkdtempSync('/dev/shm/bench-fat-');

function sh(script: string, ...args: string[]): void {
  const r = spawnSync('bash', ['-c', script, 'bench-fat', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr.slice(-2000)}`);
}

async function seconds(run: () => void | Promise<void>): Promise<number> {
  const t = performance.now();
  await run();
  return (performance.now() - t) / 1000;
}

async function best(times: number, run: () => void | Promise<void>): Promise<number> {
  await run();
  let min = Infinity;
  for (let i = 0; i < times; i++) min = Math.min(min, await seconds(run));
  return min;
}

async function ours(tree: string, image: string, size: number): Promise<void> {
  await writeSparseFile(fatImage(treeFromDisk(tree), { mtime: EPOCH, size, label: 'BENCH' }), image);
}

function native(tree: string, image: string, size: number): void {
  rmSync(image, { force: true });
  sh('mkfs.vfat -C -n BENCH "$1" "$2" >/dev/null && cd "$3" && mcopy -s -i "$1" * ::', image, String(size / 1024), tree);
}

async function compare(name: string, tree: string): Promise<Record<string, unknown>> {
  const root = treeFromDisk(tree);
  const entries = [...walk(root)].length;
  const dataMB = treeDataSize(root) / 1e6;
  const size = fatAutoSize(root, { label: 'BENCH' });
  const mine = join(tmp, `${name}-ours.img`);
  const theirs = join(tmp, `${name}-native.img`);
  const our = await best(3, () => ours(tree, mine, size));
  const nat = await best(2, () => native(tree, theirs, size));
  sh('fsck.fat -n "$1" >/dev/null && fsck.fat -n "$2" >/dev/null', mine, theirs);
  const row = { bench: `fat-${name}`, entries, dataMB: Math.round(dataMB), imageBytes: size, oursSeconds: +our.toFixed(3), mkfsMcopySeconds: +nat.toFixed(3), ratioToMkfsMcopy: +(our / nat).toFixed(3) };
  console.log(`${name}: ${entries} entries, ${dataMB.toFixed(0)} MB in a ${(size / 2 ** 20).toFixed(0)} MiB volume: ours ${our.toFixed(3)} s, mkfs.vfat + mcopy -s ${nat.toFixed(3)} s (→ ${row.ratioToMkfsMcopy}×)`);
  return row;
}

try {
  const big = join(tmp, 'tree');
  mkdirSync(big);
  for (const s of sources) sh('cp -a "$1" "$2"/', s, big);
  sh(`find "$1" -type l -delete && find "$1" -exec touch -h -d @${EPOCH} {} +`, big);
  const small = join(tmp, 'small');
  for (let d = 0; d < 200; d++) {
    mkdirSync(join(small, `directory ${d}`), { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(small, `directory ${d}`, `small file number ${f}.txt`), `${d}/${f}\n`.repeat(1 + (f % 40)));
  }
  sh(`find "$1" -exec touch -h -d @${EPOCH} {} +`, small);
  const rows = [await compare('usr-lib', big), await compare('small-files', small)];
  const [lib, many] = rows;
  console.log(`BENCH-JSON ${JSON.stringify({ bench: 'fat', ratioUsrLib: lib!['ratioToMkfsMcopy'], ratioSmallFiles: many!['ratioToMkfsMcopy'], rows })}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
