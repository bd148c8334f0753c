// Real tools as judges of a FAT image: fsck.fat (dosfstools 4.2), mtools (mdir, mcopy) and fatcat.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fatImage, type FatOptions } from '../../core/fat/fat-writer.ts';
import { walk, type ImageDir } from '../../core/image/tree.ts';
import { binaryToText } from '../../core/io/binary-string.ts';
import { writeSparseFile } from '../../node/sparse-file.ts';

const env = { ...process.env, LC_ALL: 'C.UTF-8', MTOOLS_SKIP_CHECK: '0' };

/** `fsck.fat -n -V`: exit 0 and nothing printed but its banner, the two pass lines and the summary. */
export function assertFsckClean(image: string): string {
  const r = spawnSync('fsck.fat', ['-n', '-V', image], { encoding: 'utf8', env });
  const lines = `${r.stdout}${r.stderr}`.trim().split('\n');
  const expected = [/^fsck\.fat \d/, /^Starting check\/repair pass\.$/, /^Starting verification pass\.$/, /: \d+ files, \d+\/\d+ clusters$/];
  const odd = lines.filter((l) => !expected.some((re) => re.test(l)));
  if (r.status !== 0 || odd.length > 0 || lines.length !== expected.length) throw new Error(`fsck.fat -n -V ${image} exited ${r.status}:\n${lines.join('\n')}`);
  return lines[3]!;
}

/** Every path mtools lists (`mdir -/ -b`), without the "::/" prefix; directories end in "/". */
export function mdirPaths(image: string): string[] {
  const out = execFileSync('mdir', ['-/', '-b', '-i', image, '::'], { encoding: 'utf8', env, maxBuffer: 256 << 20 });
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^::\//, ''));
}

/** `mcopy -s`: the whole volume copied out into `dir`. */
export function mcopyOut(image: string, dir: string): void {
  execFileSync('mcopy', ['-s', '-n', '-i', image, '::', dir], { env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** `fsck.fat -n -l`: the paths it checks ("/a/b (SHORT)" → "a/b"; a short name has no spaces and at most 12 characters). */
export function fsckListing(image: string): string[] {
  const out = execFileSync('fsck.fat', ['-n', '-l', image], { encoding: 'utf8', env, maxBuffer: 256 << 20 });
  return out
    .split('\n')
    .filter((l) => l.startsWith('Checking file /'))
    .map((l) => l.slice('Checking file /'.length).replace(/ \([^ ]{1,12}\)$/, ''));
}

/** The boot sector fields mkfs.fat chooses, read back from an image. */
export function bootSectorFields(bytes: Uint8Array): Record<string, number | string> {
  const d = new DataView(bytes.buffer, bytes.byteOffset, 512);
  const fat16Length = d.getUint16(22, true);
  const total16 = d.getUint16(19, true);
  const fat32 = fat16Length === 0;
  return {
    type: String.fromCharCode(...bytes.subarray(fat32 ? 82 : 54, fat32 ? 90 : 62)).trim(),
    sectorsPerCluster: bytes[13]!,
    reservedSectors: d.getUint16(14, true),
    fatCount: bytes[16]!,
    rootEntries: d.getUint16(17, true),
    totalSectors: total16 !== 0 ? total16 : d.getUint32(32, true),
    media: bytes[21]!,
    fatSectors: fat32 ? d.getUint32(36, true) : fat16Length,
    sectorsPerTrack: d.getUint16(24, true),
    heads: d.getUint16(26, true),
  };
}

/** `mdir` of one directory, long names beside short ones. */
export function mdirListing(image: string, path: string): string {
  return execFileSync('mdir', ['-i', image, path], { encoding: 'utf8', env });
}

async function treeHashes(root: ImageDir): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const { path, node } of walk(root)) {
    if (node.kind !== 'file') continue;
    const h = createHash('sha256');
    for await (const c of node.data.stream()) h.update(c);
    out.set(binaryToText(path), h.digest('hex'));
  }
  return out;
}

function diskHashes(dir: string, prefix = '', out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) diskHashes(p, `${prefix}${name}/`, out);
    else out.set(`${prefix}${name}`, createHash('sha256').update(readFileSync(p)).digest('hex'));
  }
  return out;
}

const allPaths = (root: ImageDir) => [...walk(root)].map(({ path, node }) => `${binaryToText(path)}${node.kind === 'dir' ? '/' : ''}`).sort();

// Long names are UTF-16; a character beyond U+FFFF is a surrogate pair, as Windows and Linux write
// it. mtools 4.0.32 shows each half as "_" and fsck.fat 4.2 prints them as ":XXXX" escapes.
const ASTRAL = /[\u{10000}-\u{10FFFF}]/gu;
const asMtoolsShows = (p: string) => p.replace(ASTRAL, '__');
const hasAstral = (p: string) => /[\u{10000}-\u{10FFFF}]/u.test(p);

/**
 * Writes the volume under `dir`, then lets fsck.fat -n -V, mdir -/, fsck.fat -l and mcopy -s judge
 * it: clean, every path listed under its long name, every file given back byte for byte.
 */
export async function judgeFat(root: ImageDir, opts: FatOptions, dir: string): Promise<{ image: string; summary: string }> {
  const image = join(dir, 'vol.img');
  await writeSparseFile(fatImage(root, opts), image);
  const summary = assertFsckClean(image);
  const paths = allPaths(root);
  assert.deepEqual(mdirPaths(image).sort(), paths.map(asMtoolsShows).sort(), 'mdir -/ lists every path under its long name');
  const checked = fsckListing(image).filter((p) => p !== '' && p !== opts.label);
  assert.equal(checked.length, paths.length, 'fsck.fat -l checks every path');
  assert.deepEqual(checked.filter((p) => !p.includes(':')).sort(), paths.filter((p) => !hasAstral(p)).map((p) => p.replace(/\/$/, '')).sort());
  const out = join(dir, 'out');
  mkdirSync(out);
  mcopyOut(image, out);
  const expected = new Map([...(await treeHashes(root))].map(([p, h]) => [asMtoolsShows(p), h]));
  assert.deepEqual(diskHashes(out), expected, 'mcopy -s gives back every file byte for byte');
  return { image, summary };
}
