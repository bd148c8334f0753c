// The Linux vfat driver as a judge (Debian's 6.1 kernel under qemu): it mounts a volume core/fat
// wrote and lists every path with its MD5, which must be the tree's. Unlike mtools and fsck.fat it
// decodes long names beyond U+FFFF (surrogate pairs), so this is where those are proven.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fatImage } from '../core/fat/fat-writer.ts';
import type { FatType } from '../core/fat/geometry.ts';
import { addPath, newDir, walk, type ImageDir } from '../core/image/tree.ts';
import { binaryToText, textToBinary } from '../core/io/binary-string.ts';
import { bytesSource } from '../core/io/data-source.ts';
import { writeSparseFile } from '../node/sparse-file.ts';
import { bootKernel, buildInitramfs, debianKernel } from './helpers/boot.ts';

const tmp = mkdtempSync(join(tmpdir(), 'nix-imager-fatlinux-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function bytes(size: number, seed: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 131 + seed * 17 + (i >> 8)) & 0xff;
  return b;
}

function tree(): ImageDir {
  const root = newDir();
  let seed = 0;
  const put = (path: string, size = 10 + (seed % 90)) => addPath(root, textToBinary(path), { kind: 'file', mode: 0o444, data: bytesSource(bytes(size, ++seed)) });
  for (const n of ['emoji 🎉 party.txt', '𝄞 music', 'Ünïcödé.txt', '中文名字.conf', 'Ωmega.BIN', 'ReadMe.md', 'readme2.txt', 'MAKEFILE', '.hidden', 'a.b.c.tar.gz', 'x+y=z[1].txt', 'foo bar']) put(`names/${n}`);
  for (let i = 1; i <= 30; i++) put(`collide/long file name number ${i}.txt`);
  put(`long/${'n'.repeat(255)}`);
  put(`${Array.from({ length: 12 }, (_, i) => `level ${i}`).join('/')}/bottom`);
  put('large/two-megabytes.bin', 2 * 1024 * 1024 + 77);
  put('empty-file', 0);
  addPath(root, textToBinary('empty-dir'), newDir());
  return root;
}

/** "D path" and "F path md5" lines for the tree, sorted as the guest's `sort` (C locale: bytes) sorts them. */
async function expected(root: ImageDir): Promise<string[]> {
  const lines: string[] = [];
  for (const { path, node } of walk(root)) {
    const p = binaryToText(path);
    if (node.kind === 'dir') lines.push(`D ./${p}`);
    if (node.kind === 'file') {
      const h = createHash('md5');
      for await (const c of node.data.stream()) h.update(c);
      lines.push(`F ./${p} ${h.digest('hex')}`);
    }
  }
  return lines.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

// Kernel messages on the same serial console could land inside a line of the listing: silenced first.
const LIST = [
  'dmesg -n 1',
  'mount -t vfat -o ro,iocharset=utf8,codepage=437 /dev/sda /mnt || echo MOUNT-FAILED',
  'cd /mnt',
  'echo LISTING-BEGIN',
  'find . -mindepth 1 -type d | while IFS= read -r d; do echo "D $d"; done',
  'find . -type f | while IFS= read -r f; do echo "F $f $(md5sum < "$f" | cut -d" " -f1)"; done',
  'echo LISTING-END',
].join('\n');

for (const fatType of [16, 32] as FatType[]) {
  test(`Linux's vfat driver reads every long name (astral ones too) and byte of a FAT${fatType} volume`, async () => {
    const kernel = debianKernel();
    const initrd = buildInitramfs(kernel, { extraModules: ['vfat', 'nls_cp437', 'nls_ascii', 'nls_utf8'], init: LIST });
    const root = tree();
    const image = join(tmp, `linux-${fatType}.img`);
    await writeSparseFile(fatImage(root, { mtime: 1700000000, size: 40 * 1024 * 1024, fatType, label: 'LINUX' }), image);
    const serial = Buffer.from(await bootKernel(kernel.vmlinuz, initrd, 'quiet loglevel=1', 300, image), 'latin1').toString('utf8');
    const listing = /LISTING-BEGIN\r?\n([\s\S]*?)LISTING-END/.exec(serial);
    assert.ok(listing, `no listing on the serial console:\n${serial.slice(-3000)}`);
    const got = listing[1]!.split(/\r?\n/).filter((l) => l !== '').sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.deepEqual(got, await expected(root));
  });
}
