// OVMF boots systemd-boot from a volume core/fat wrote: the firmware's FAT driver finds
// EFI/BOOT/BOOTX64.EFI, systemd-boot reads loader/loader.conf and loader/entries/*.conf from the
// same volume and loads the Debian kernel and a busybox initramfs from it, whose /init prints a marker.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fatImage } from '../core/fat/fat-writer.ts';
import { addPath, newDir, type ImageDir } from '../core/image/tree.ts';
import { textToBinary } from '../core/io/binary-string.ts';
import { bytesSource } from '../core/io/data-source.ts';
import { architectureOf } from '../core/nixos/architecture.ts';
import { bootEntry, entryFileName, loaderConf } from '../core/nixos/systemd-boot.ts';
import { bootQemu, buildInitramfs, debianKernel } from './helpers/boot.ts';
import { assertFsckClean } from './helpers/fat-tools.ts';
import { writeSparseFile } from '../node/sparse-file.ts';

const tmp = mkdtempSync(join(tmpdir(), 'nix-imager-fatboot-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const SYSTEMD_BOOT = '/usr/lib/systemd/boot/efi/systemd-bootx64.efi';
const MARKER = 'FAT-VOLUME-BOOTED-BY-SYSTEMD-BOOT';

function put(root: ImageDir, path: string, bytes: Uint8Array): void {
  addPath(root, textToBinary(path), { kind: 'file', mode: 0o444, data: bytesSource(bytes) });
}

function espTree(): ImageDir {
  const kernel = debianKernel();
  const initrd = buildInitramfs(kernel, { extraModules: [], init: `echo ${MARKER}` });
  const arch = architectureOf('x86_64-linux')!;
  const text = new TextEncoder();
  const root = newDir();
  put(root, `EFI/BOOT/${arch.efiBootFile}`, readFileSync(SYSTEMD_BOOT));
  put(root, 'EFI/nixos/kernel-bzImage.efi', readFileSync(kernel.vmlinuz));
  put(root, 'EFI/nixos/initrd-initrd.efi', readFileSync(initrd));
  put(root, 'loader/loader.conf', text.encode(loaderConf({ timeout: 0, defaultEntry: entryFileName(1), editor: false, consoleMode: 'keep' })));
  const entry = bootEntry({
    title: 'NixOS',
    sortKey: 'nixos',
    generation: 1,
    label: 'fat-writer test',
    buildDate: '2023-11-14',
    linux: '/EFI/nixos/kernel-bzImage.efi',
    initrd: '/EFI/nixos/initrd-initrd.efi',
    options: 'console=ttyS0 panic=-1 no_timer_check',
  });
  put(root, `loader/entries/${entryFileName(1)}`, text.encode(entry));
  return root;
}

test('OVMF boots systemd-boot from a bare FAT volume (efi.img-sized) and it starts the kernel and initrd on it', async () => {
  const image = join(tmp, 'efi.img');
  await writeSparseFile(fatImage(espTree(), { mtime: 946684800, label: 'EFIBOOT', volumeId: 0x12345678 }), image);
  assertFsckClean(image);
  const serial = await bootQemu(image, 'disk', 300, 'uefi');
  assert.ok(serial.includes(MARKER), `no marker on the serial console:\n${serial.slice(-3000)}`);
});

test('… and from a 256 MiB FAT32 volume labelled ESP, as a disk image\'s ESP', async () => {
  const image = join(tmp, 'esp.img');
  await writeSparseFile(fatImage(espTree(), { mtime: 946684800, size: 256 * 1024 * 1024, fatType: 32, label: 'ESP' }), image);
  assertFsckClean(image);
  const serial = await bootQemu(image, 'disk', 300, 'uefi');
  assert.ok(serial.includes(MARKER), `no marker on the serial console:\n${serial.slice(-3000)}`);
});
