// Real tools as judges of a FAT image: fsck.fat (dosfstools 4.2), mtools (mdir, mcopy) and fatcat.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { isZeros, type SparseSource } from '../../core/io/sparse.ts';

/** Writes the image to `path` with its zero runs left as holes. */
export async function writeSparse(source: SparseSource, path: string): Promise<void> {
  const fd = openSync(path, 'w');
  try {
    let at = 0;
    for await (const c of source.chunks()) {
      if (isZeros(c)) at += c.zeros;
      else {
        writeSync(fd, c, 0, c.length, at);
        at += c.length;
      }
    }
    if (at !== source.size) throw new Error(`chunks add up to ${at} bytes, size says ${source.size}`);
    ftruncateSync(fd, at);
  } finally {
    closeSync(fd);
  }
}

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

/** `fsck.fat -n -l`: the paths it checks, long names first ("/a/b (SHORT)" → "a/b"). */
export function fsckListing(image: string): string[] {
  const out = execFileSync('fsck.fat', ['-n', '-l', image], { encoding: 'utf8', env, maxBuffer: 256 << 20 });
  return out
    .split('\n')
    .filter((l) => l.startsWith('Checking file /'))
    .map((l) => l.slice('Checking file /'.length).replace(/ \([^()]*\)$/, ''));
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
