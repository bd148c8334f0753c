// tar benchmark (by hand: `node --import tsx bench/tar.ts [MB] [DIR]`, default 300 MB of /usr/lib).
// Input: whole top-level directories of DIR, the most entries per MB first, skipping any that would
// overshoot MB by a quarter, until MB megabytes of file data: a store-like mix of many small files.
// tarStream over treeFromDisk vs GNU tar with make-system-tarball.sh's flags (plus --hard-dereference,
// as our tree has no hard links), both writing a file on /dev/shm (GNU tar skips reading files when its
// output is /dev/null itself). Page cache warmed first; best of 3. The two archives must be identical.
// Then gzip -9 of the archive's first 64 MB: gzipCompressor (fflate) vs native `gzip -9n`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, lstatSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { addPath, newDir, treeDataSize, walk, type ImageDir } from '../core/image/tree.ts';
import { bytesSource } from '../core/io/data-source.ts';
import { bytesToBinary } from '../core/io/binary-string.ts';
import { tarStream } from '../core/tar/tar-writer.ts';
import { gzipCompressor } from '../core/codec/gzip.ts';
import { nodeFromDisk } from '../node/fs-tree.ts';

const MB = 1e6;
const want = Number(process.argv[2] ?? 300) * MB;
const base = process.argv[3] ?? '/usr/lib';
const tmp = mkdtempSync('/dev/shm/bench-tar-');

const candidates = readdirSync(base)
  .filter((name) => lstatSync(join(base, name)).isDirectory())
  .map((name) => {
    const node = nodeFromDisk(Buffer.from(join(base, name))) as ImageDir;
    const size = treeDataSize(node);
    return { name, node, size, density: [...walk(node)].length / (size + 1) };
  })
  .sort((a, b) => b.density - a.density);
const root = newDir();
const picked: string[] = [];
let size = 0;
for (const c of candidates) {
  if (size >= want || size + c.size > want * 1.25) continue;
  root.entries.set(bytesToBinary(Buffer.from(c.name)), c.node);
  picked.push(c.name);
  size += c.size;
}
picked.sort();
const entries = [...walk(root)].length;
console.log(`input: ${picked.length} dirs of ${base} (${picked.join(' ')}), ${entries} entries, ${(size / MB).toFixed(0)} MB of file data`);

const gnuOut = join(tmp, 'gnu.tar');
const ourOut = join(tmp, 'ours.tar');

function gnuTar(): number {
  const t = performance.now();
  const r = spawnSync('tar', ['--sort=name', '--mtime=@1', '--owner=0', '--group=0', '--numeric-owner', '--hard-dereference', '-C', base, '-cf', gnuOut, ...picked]);
  if (r.status !== 0) throw new Error(`GNU tar failed: ${r.stderr}`);
  return (performance.now() - t) / 1000;
}

/** The same tree with every file already in memory: what the writer itself costs, without node/fs-random-access. */
function inMemory(tree: ImageDir): ImageDir {
  const copy = newDir(tree.mode);
  for (const { path, node } of walk(tree)) {
    const latin1 = Buffer.from(path, 'latin1');
    if (node.kind === 'file') addPath(copy, path, { kind: 'file', mode: node.mode, data: bytesSource(readFileSync(Buffer.concat([Buffer.from(`${base}/`), latin1]))) });
    else addPath(copy, path, node.kind === 'dir' ? newDir(node.mode) : node);
  }
  return copy;
}

async function ours(tree: ImageDir): Promise<number> {
  const t = performance.now();
  const out = await open(ourOut, 'w');
  try {
    for await (const chunk of tarStream(tree)) await out.write(chunk);
  } finally {
    await out.close();
  }
  return (performance.now() - t) / 1000;
}

gnuTar(); // warm the page cache
const gnu = Math.min(gnuTar(), gnuTar(), gnuTar());
const our = Math.min(await ours(root), await ours(root), await ours(root));
const same = spawnSync('cmp', ['-s', gnuOut, ourOut]).status === 0;
const memoryTree = inMemory(root);
const mem = Math.min(await ours(memoryTree), await ours(memoryTree), await ours(memoryTree));
const sameFromMemory = spawnSync('cmp', ['-s', gnuOut, ourOut]).status === 0;
const archive = lstatSync(gnuOut).size;
const rate = (s: number) => `${(archive / MB / s).toFixed(0)} MB/s`;
console.log(`GNU tar   ${gnu.toFixed(2)} s  ${rate(gnu)}`);
console.log(`tarStream ${our.toFixed(2)} s  ${rate(our)}  (${(our / gnu).toFixed(2)}x GNU tar's time)`);
console.log(`tarStream, files already in memory ${mem.toFixed(2)} s  ${rate(mem)}  (${(mem / gnu).toFixed(2)}x)`);
console.log(`archives ${same && sameFromMemory ? 'identical' : 'DIFFER'} (${(archive / MB).toFixed(0)} MB)`);

const sample = readFileSync(gnuOut).subarray(0, 64 * 2 ** 20);
const sampleFile = join(tmp, 'sample.tar');
writeFileSync(sampleFile, sample);
let gzOurs = 0;
const gzT = performance.now();
for await (const c of gzipCompressor(9)((async function* () {
  for (let at = 0; at < sample.length; at += 2 ** 20) yield sample.subarray(at, at + 2 ** 20);
})())) gzOurs += c.length;
const gzOur = (performance.now() - gzT) / 1000;
const nativeT = performance.now();
const gz = spawnSync('sh', ['-c', `gzip -9n -c ${sampleFile} | wc -c`], { encoding: 'utf8' });
const gzNative = (performance.now() - nativeT) / 1000;
const mbs = (s: number) => `${(sample.length / MB / s).toFixed(1)} MB/s`;
console.log(`gzip -9 of ${(sample.length / MB).toFixed(0)} MB: native ${gzNative.toFixed(2)} s ${mbs(gzNative)} → ${gz.stdout.trim()} B; gzipCompressor ${gzOur.toFixed(2)} s ${mbs(gzOur)} → ${gzOurs} B (${(gzOur / gzNative).toFixed(2)}x native's time)`);
rmSync(tmp, { recursive: true, force: true });
if (!same || !sameFromMemory) process.exitCode = 1;
