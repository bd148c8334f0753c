// The netboot layout under a real kernel (qemu, TCG): a gzip'd initramfs followed by our newc
// cpio compressed with zstd -10, as netboot.nix appends the squashfs cpio to the system initrd.
// The kernel must unpack ours on top: the file's bytes, mode, owner, mtime and the symlink to it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpioStream } from '../core/cpio/cpio-writer.ts';
import { addPath, newDir } from '../core/image/tree.ts';
import { bytesSource } from '../core/io/data-source.ts';
import { bootKernel, buildInitramfs, debianKernel } from './helpers/boot.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cpio-boot-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const EPOCH = 1700000000;
const IMG = `/nix/store/${'q'.repeat(32)}-squashfs.img`;

test('the kernel unpacks our cpio appended (zstd) after another initramfs', async () => {
  const kernel = debianKernel();
  const first = buildInitramfs(kernel, {
    extraModules: [],
    init: `echo "PROOF $(stat -c '%a %u %g %Y %s' ${IMG}) $(sha256sum ${IMG} | cut -d' ' -f1) $(readlink /nix-store.squashfs) $(stat -c %a /var/empty)"`,
  });
  const data = randomBytes(3 * 1024 * 1024 + 5);
  const root = newDir();
  addPath(root, IMG.slice(1), { kind: 'file', mode: 0o444, data: bytesSource(data) });
  addPath(root, 'nix-store.squashfs', { kind: 'symlink', target: IMG });
  addPath(root, 'var/empty', newDir(0o555));
  const parts: Uint8Array[] = [];
  for await (const c of cpioStream(root, { mtime: EPOCH })) parts.push(c);
  const second = execFileSync('zstd', ['-10', '-q', '-c'], { input: Buffer.concat(parts), maxBuffer: 1 << 28 });
  const initrd = join(tmp, 'initrd');
  writeFileSync(initrd, Buffer.concat([readFileSync(first), second]));
  const out = await bootKernel(kernel.vmlinuz, initrd, '');
  const proof = /PROOF (.*)/.exec(out)?.[1]?.trim();
  const sha = createHash('sha256').update(data).digest('hex');
  assert.equal(proof, `444 0 0 ${EPOCH} ${data.length} ${sha} ${IMG} 555`, out.slice(-3000));
});
