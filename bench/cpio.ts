// cpio (newc) benchmark (by hand: `node --import tsx bench/cpio.ts [DIR ...]`, default /usr/lib/python3
// and /usr/lib/python3.11, about 100 MB in a few thousand files). The directories are copied to /dev/shm
// and every mtime set to one epoch, so all three writers archive the same thing. Ours: treeFromDisk +
// cpioStream into a file; GNU cpio as make-initrd-ng runs it (`find . | sort | cpio -o -H newc
// --reproducible -R +0:+0`); bsdtar (`--format newc` from the same sorted list). Best of 3 after one
// warm-up each. Ours must equal GNU cpio's archive byte for byte.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { cpioStream } from '../core/cpio/cpio-writer.ts';
import { treeDataSize, walk } from '../core/image/tree.ts';
import { treeFromDisk } from '../node/fs-tree.ts';

const EPOCH = 1700000000;
const sources = process.argv.length > 2 ? process.argv.slice(2) : ['/usr/lib/python3', '/usr/lib/python3.11'];
const tmp = mkdtempSync('/dev/shm/bench-cpio-');
const tree = join(tmp, 'tree');

function sh(script: string): void {
  const r = spawnSync('bash', ['-c', script, 'bench-cpio', tree], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
}

function seconds(run: () => void | Promise<void>): Promise<number> {
  const t = performance.now();
  return Promise.resolve(run()).then(() => (performance.now() - t) / 1000);
}

async function best(run: () => void | Promise<void>): Promise<number> {
  await run();
  return Math.min(await seconds(run), await seconds(run), await seconds(run));
}

async function ours(): Promise<void> {
  const out = await open(join(tmp, 'ours.cpio'), 'w');
  try {
    for await (const chunk of cpioStream(treeFromDisk(tree), { mtime: EPOCH })) await out.write(chunk);
  } finally {
    await out.close();
  }
}

try {
  mkdirSync(tree);
  for (const s of sources) sh(`cp -a ${JSON.stringify(s)} "$1"/`);
  sh(`find "$1" -exec touch -h -d @${EPOCH} {} +`);
  const root = treeFromDisk(tree);
  const entries = [...walk(root)].length;
  const dataMB = treeDataSize(root) / 1e6;
  console.log(`input: ${sources.join(' ')}: ${entries} entries, ${dataMB.toFixed(0)} MB of file data`);
  const gnu = await best(() => sh(`cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --quiet -o -H newc --reproducible -R +0:+0 --null > ../gnu.cpio`));
  const bsdtar = await best(() => sh(`cd "$1" && find . | LC_ALL=C sort | bsdtar --format newc --uid 0 --gid 0 -cf ../bsdtar.cpio -T -`));
  const our = await best(ours);
  const identical = spawnSync('cmp', ['-s', join(tmp, 'ours.cpio'), join(tmp, 'gnu.cpio')]).status === 0;
  const bytes = statSync(join(tmp, 'ours.cpio')).size;
  const row = {
    bench: 'cpio',
    entries,
    dataMB: Math.round(dataMB),
    archiveBytes: bytes,
    oursSeconds: our,
    gnuCpioSeconds: gnu,
    bsdtarSeconds: bsdtar,
    ratioToGnuCpio: +(our / gnu).toFixed(3),
    ratioToBsdtar: +(our / bsdtar).toFixed(3),
    identicalToGnuCpio: identical,
  };
  console.log(
    `ours ${our.toFixed(3)} s, GNU cpio ${gnu.toFixed(3)} s (→ ${row.ratioToGnuCpio}×), bsdtar ${bsdtar.toFixed(3)} s (→ ${row.ratioToBsdtar}×); ` +
      `${(bytes / 1e6).toFixed(0)} MB archive, ${identical ? 'byte-identical to GNU cpio' : 'DIFFERS from GNU cpio'}`,
  );
  console.log(`BENCH-JSON ${JSON.stringify(row)}`);
  if (!identical) process.exitCode = 1;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
