// The ext4 image under a real kernel (qemu, TCG, Debian's 6.1): stage 1 finds it by label as
// NixOS's does (LABEL=nixos), mounts it read-only with the ext4 driver (metadata_csum checked
// by the kernel on every block it reads) and reads a file, a slow symlink and an htree directory;
// then remounts it read-write as NixOS does and writes, and e2fsck must find the result clean.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ext4Image } from '../core/ext4/ext4-writer.ts';
import { addPath, newDir } from '../core/image/tree.ts';
import { bytesSource } from '../core/io/data-source.ts';
import { bootKernel, buildInitramfs, debianKernel } from './helpers/boot.ts';
import { run, sh } from './helpers/cli.ts';
import { writeSparseFile } from '../node/sparse-file.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ext4-boot-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const TARGET = `/nix/store/${'z'.repeat(32)}-a-store-path-long-enough-for-a-slow-symlink/bin/tool`;

test('the kernel finds our ext4 by label, mounts it, reads files, a slow symlink and an htree directory, then writes to it cleanly', async () => {
  const kernel = debianKernel();
  const initrd = buildInitramfs(kernel, {
    extraModules: ['crc32c_generic', 'ext4'],
    init: [
      'dev=$(findfs LABEL=nixos)',
      'mount -t ext4 -o ro "$dev" /mnt',
      `echo "PROOF $(cat /mnt/marker) $(sha256sum /mnt/data | cut -d' ' -f1) $(stat -c '%a %u' /mnt/data) $(readlink /mnt/link) $(ls /mnt/many | wc -l) $(cat /mnt/many/entry-2999)"`,
      // NixOS mounts its root read-write: the journal, the free-space counts and the htree must take writes.
      'mount -o remount,rw /mnt && echo WRITABLE',
      'head -c 3000000 /dev/zero | tr "\\0" x > /mnt/written && mkdir /mnt/new-dir',
      'for i in $(seq 3000 3999); do echo "m$i" > /mnt/many/entry-$i; done',
      'rm /mnt/many/entry-7 && sync && echo "AFTER $(ls /mnt/many | wc -l) $(cat /mnt/many/entry-3999)" && umount /mnt && echo UNMOUNTED',
    ].join('\n'),
  });
  const data = randomBytes(5 * 1024 * 1024 + 3);
  const root = newDir(0o755);
  addPath(root, 'marker', { kind: 'file', mode: 0o444, data: bytesSource(new TextEncoder().encode('EXT4-MOUNTED')) });
  addPath(root, 'data', { kind: 'file', mode: 0o555, data: bytesSource(data) });
  addPath(root, 'link', { kind: 'symlink', target: TARGET });
  for (let i = 0; i < 3000; i++) addPath(root, `many/entry-${i}`, { kind: 'file', mode: 0o444, data: bytesSource(new TextEncoder().encode(`n${i}`)) });
  const img = join(tmp, 'root.img');
  await writeSparseFile(ext4Image(root, { label: 'nixos', uuid: 'f222513b-ded1-49fa-b591-20ce86a2fe7f', hashSeed: '1d2c3b4a-5f6e-4d7c-8b9a-0a1b2c3d4e5f', time: 1700000000, size: 'auto', headroom: 16 << 20 }), img);
  const out = await bootKernel(kernel.vmlinuz, initrd, '', 200, img);
  const proof = /PROOF (.*)/.exec(out)?.[1]?.trim();
  const sha = createHash('sha256').update(data).digest('hex');
  assert.equal(proof, `EXT4-MOUNTED ${sha} 555 0 ${TARGET} 3000 n2999`, out.slice(-3000));
  assert.match(out, /WRITABLE[\s\S]*AFTER 3999 m3999[\s\S]*UNMOUNTED/, out.slice(-3000));
  assert.doesNotMatch(out, /EXT4-fs error|checksum invalid|JBD2: .*error/i, out.slice(-3000));
  // What the kernel wrote into our file system is consistent to e2fsck and readable by debugfs.
  const fsck = await run('e2fsck', ['-fn', img]);
  assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr);
  assert.equal((await sh('debugfs', ['-R', 'cat /many/entry-3999', img])).trim(), 'm3999');
  assert.match(await sh('debugfs', ['-R', 'stat /written', img]), /Size: 3000000\n/);
  assert.match(await sh('debugfs', ['-R', 'htree /many', img]), /Indirect levels: 0/);
});
