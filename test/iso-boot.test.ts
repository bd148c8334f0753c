import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { treeFromDisk } from '../node/fs-tree.ts';
import { isoLayout } from '../core/iso9660/iso-writer.ts';
import { buildInitramfs, bootQemu, debianKernel } from './helpers/boot.ts';
import { run, writeIso } from './boot/iso-tools.ts';

const MARKER = 'nix-imager-iso-boot-marker-7d41';
const LABEL = 'NIX_IMAGER_BOOT';
let tmp: string;
let src: string;
let iso: string;
const mbr = readFileSync('/usr/lib/ISOLINUX/isohdpfx.bin');
const opts = () => ({
  volumeID: LABEL,
  sourceDateEpoch: 1000000000,
  bootImage: '/isolinux/isolinux.bin',
  efiBootImage: '/boot/efi.img',
  isohybridMbr: mbr,
});

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'iso-boot-'));
  src = join(tmp, 'src');
  mkdirSync(join(src, 'isolinux'), { recursive: true });
  mkdirSync(join(src, 'boot'), { recursive: true });
  copyFileSync('/usr/lib/ISOLINUX/isolinux.bin', join(src, 'isolinux/isolinux.bin'));
  copyFileSync('/usr/lib/syslinux/modules/bios/ldlinux.c32', join(src, 'isolinux/ldlinux.c32'));
  writeFileSync(
    join(src, 'isolinux/isolinux.cfg'),
    'SERIAL 0 115200\nPROMPT 0\nTIMEOUT 0\nDEFAULT linux\nLABEL linux\n  KERNEL /boot/vmlinuz\n  INITRD /boot/initrd.gz\n  APPEND console=ttyS0,115200 panic=-1 no_timer_check quiet\n',
  );
  const kernel = debianKernel();
  copyFileSync(kernel.vmlinuz, join(src, 'boot/vmlinuz'));
  const init = [
    'sleep 2',
    `dev=$(findfs LABEL=${LABEL})`,
    'echo "found the ISO on $dev"',
    'mount -t iso9660 -o ro "$dev" /mnt && cat /mnt/marker.txt',
  ].join('\n');
  copyFileSync(buildInitramfs(kernel, { extraModules: [], init }), join(src, 'boot/initrd.gz'));
  run('mkfs.vfat', ['-C', join(src, 'boot/efi.img'), '1440']);
  writeFileSync(join(src, 'marker.txt'), `${MARKER}\n`);
  iso = join(tmp, 'boot.iso');
  await writeIso(treeFromDisk(src), opts(), iso);
});

after(() => rmSync(tmp, { recursive: true, force: true }));

test('xorriso reports both El Torito entries and the boot-info-table', () => {
  const layout = isoLayout(treeFromDisk(src), opts());
  const r = run('xorriso', ['-indev', iso, '-report_el_torito', 'plain']);
  assert.match(r, new RegExp(`El Torito boot img :\\s+1\\s+BIOS\\s+y\\s+none\\s+0x0000\\s+0x00\\s+4\\s+${layout.bootFile!.lba}\\n`));
  assert.match(r, new RegExp(`El Torito boot img :\\s+2\\s+UEFI\\s+y\\s+none\\s+0x0000\\s+0x00\\s+2880\\s+${layout.efiFile!.lba}\\n`));
  assert.match(r, /El Torito img opts :\s+1\s+boot-info-table isohybrid-suitable/);
  assert.match(r, /El Torito cat path : \/\.boot\.cat/);
  assert.match(r, /El Torito img path :\s+2\s+\/boot\/efi\.img/);
  const d = run('isoinfo', ['-d', '-i', iso]);
  assert.match(d, /El Torito VD version 1 found, boot catalog is in sector \d+/);
  assert.match(d, /Bootid 88 \(bootable\)/);
});

test('the isohybrid MBR and GPT are what xorriso writes for the same tree and flags', () => {
  const ref = join(tmp, 'ref.iso');
  const guidOf = (report: string) => report.match(/GPT disk GUID\s+:\s+([0-9a-f]{32})/)![1]!;
  const ours = run('xorriso', ['-indev', iso, '-report_system_area', 'plain']);
  run('xorriso', [
    '-boot_image', 'any', `gpt_disk_guid=${guidOf(ours)}`, '-volume_date', 'all_file_dates', '=1000000000',
    '-as', 'mkisofs', '-iso-level', '3', '-volid', LABEL, '-appid', 'nixos', '-publisher', 'nixos', '-graft-points',
    '-full-iso9660-filenames', '-joliet', '-eltorito-boot', 'isolinux/isolinux.bin', '-eltorito-catalog', '.boot.cat',
    '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table', '--sort-weight', '1', '/isolinux',
    '-isohybrid-mbr', '/usr/lib/ISOLINUX/isohdpfx.bin', '-eltorito-alt-boot', '-e', 'boot/efi.img', '-no-emul-boot',
    '-isohybrid-gpt-basdat', '-r', '-o', ref, src,
  ]);
  const theirs = run('xorriso', ['-indev', ref, '-report_system_area', 'plain']);
  const efiStart = isoLayout(treeFromDisk(src), opts()).efiFile!.lba * 4;
  assert.match(ours, new RegExp(`MBR partition      :   2   0x00  0xef\\s+${efiStart}\\s+2880\\n`));
  assert.match(ours, new RegExp(`GPT start and size :   2  ${efiStart}  2880\\n`));
  assert.match(ours, /GPT partition path :\s+2\s+\/boot\/efi\.img/);
  // xorriso's metadata may take a block more or less, which moves the EFI image: compare the rest exactly.
  const table = (s: string) =>
    s.split('\n')
      .filter((l) => /^(System area|ISO image size|Partition offset|MBR|GPT)/.test(l))
      .map((l) => (/^(MBR partition      :   2|GPT start and size :   2)/.test(l) ? l.replace(/\s\d+\s+2880$/, ' EFI 2880') : l));
  assert.deepEqual(table(ours), table(theirs));
  // The MBR code is isohdpfx.bin with the boot image's 512-byte LBA after it, as in xorriso's image.
  const [a, b] = [readFileSync(iso), readFileSync(ref)];
  assert.ok(a.subarray(0, 432).equals(b.subarray(0, 432)));
  assert.equal(a.readUInt32LE(432), isoLayout(treeFromDisk(src), opts()).bootFile!.lba * 4);
  assert.equal(b.readUInt32LE(432), Number(run('xorriso', ['-indev', ref, '-report_el_torito', 'plain']).match(/boot img :\s+1\s+BIOS.*\s(\d+)\n/)![1]) * 4);
});

test('qemu boots the image as a CD through isolinux, and the kernel mounts it by label', async () => {
  const out = await bootQemu(iso, 'cdrom');
  assert.match(out, new RegExp(MARKER), out.slice(-3000));
  assert.match(out, /found the ISO on \/dev\/sr0/);
});

test('qemu boots the same image as a hard disk through the isohybrid MBR', async () => {
  const out = await bootQemu(iso, 'disk');
  assert.match(out, new RegExp(MARKER), out.slice(-3000));
  assert.match(out, /found the ISO on \/dev\/sda/);
});
