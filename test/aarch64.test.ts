// aarch64 (issue 19): the live ISO, disk image and netboot files of an aarch64-linux toplevel, from the same code as x86_64's,
// judged by xorriso, sgdisk, mtools and by qemu's aarch64 virt machine under AAVMF, which must get
// the fixture's stage 1 (Debian's arm64 kernel and busybox) to the marker from a CD and from a disk.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootAarch64, bootKernelAarch64 } from './helpers/boot.ts';
import { runCli, sh, type Run } from './helpers/cli.ts';
import { DISK_MARKER, LIVE_MARKER, nixosFixture, toplevelConfig, type NixosFixture } from './helpers/nixos-fixture.ts';

let fx: NixosFixture;
let tmp: string;
let iso: string;
let built: Run;

async function build(config: Record<string, unknown>, out: string): Promise<Run> {
  const cfg = join(tmp, `${out.replace(/\/$/, '')}.json`);
  await writeFile(cfg, JSON.stringify(config));
  return runCli(['build', cfg, '--output', join(tmp, out), '--cache-dir', join(tmp, 'nar-cache')]);
}

before(async () => {
  fx = await nixosFixture('arm64');
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-aarch64-'));
  iso = join(tmp, 'live.iso');
  built = await build(toplevelConfig(fx, fx.paths.live, 'iso', { iso: { bootTimeout: 1 } }), 'live.iso');
});
after(() => rm(tmp, { recursive: true, force: true }));

test('an aarch64 live ISO boots by UEFI only: no BIOS entry, no isolinux, no MBR code; BOOTAA64.EFI in an ESP the GPT names', async () => {
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stderr, /no BIOS boot: aarch64-linux/);
  const el = await sh('xorriso', ['-indev', iso, '-report_el_torito', 'plain']);
  assert.match(el, /El Torito boot img :\s+1\s+UEFI\s+y\s+none/);
  assert.doesNotMatch(el, /BIOS/);
  const files = await sh('bsdtar', ['-tf', iso]);
  assert.doesNotMatch(files, /isolinux/);
  assert.match(files, /^boot\/Image$/m);
  // A protective MBR (no boot code) and a GPT whose one partition is the EFI image, typed as an ESP.
  const mbr = (await readFile(iso)).subarray(0, 512);
  assert.ok(mbr.subarray(0, 440).every((b) => b === 0), 'no MBR boot code');
  assert.equal(mbr[446 + 4], 0xee);
  assert.match(await sh('sgdisk', ['-v', iso]), /No problems found/);
  assert.match(await sh('sgdisk', ['-p', iso]), /^\s+1\s+\d+\s+\d+\s+.*EF00/m);
  const x = join(tmp, 'x');
  await sh('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/boot', x]);
  const efi = join(x, 'efi.img');
  await sh('fsck.fat', ['-n', '-V', efi]);
  const out = join(tmp, 'efi-files');
  await sh('mkdir', ['-p', out]);
  await sh('mcopy', ['-i', efi, '::/EFI/BOOT/BOOTAA64.EFI', out]);
  const systemdBoot = await readFile(`${fx.storeRoot}${fx.paths.systemd}/lib/systemd/boot/efi/systemd-bootaa64.efi`);
  assert.ok((await readFile(join(out, 'BOOTAA64.EFI'))).equals(systemdBoot));
  await assert.rejects(sh('mdir', ['-i', efi, '::/EFI/BOOT/BOOTX64.EFI']));
  const entry = await sh('mtype', ['-i', efi, '::/loader/entries/nixos-generation-1.conf']);
  assert.match(entry, /^linux \/EFI\/nixos\/\S+-Image\.efi$/m);
  assert.match(entry, new RegExp(`^options init=${fx.paths.live}/init .*console=ttyAMA0`, 'm'));
});

test('AAVMF boots the aarch64 live ISO from a CD and from a disk to the stage-1 marker', async () => {
  assert.equal(built.code, 0, built.stderr);
  const boots = await Promise.all([bootAarch64(iso, 'cdrom'), bootAarch64(iso, 'disk')]);
  for (const [as, out] of [['cdrom', boots[0]], ['disk', boots[1]]] as const) {
    const line = out.split('\n').find((l) => l.startsWith(`${LIVE_MARKER} medium=`));
    assert.ok(line?.includes(`init=${fx.paths.live}/init `), `${as}: no marker in\n${out.slice(-3000)}`);
  }
});

test('an aarch64 disk image (qcow2) boots under AAVMF: systemd-bootaa64.efi from the ESP, the root found by label', async () => {
  const disk = join(tmp, 'nixos.qcow2');
  const r = await build(toplevelConfig(fx, fx.paths.disk, 'disk', { diskFormat: 'qcow2', bootTimeout: 0 }), 'nixos.qcow2');
  assert.equal(r.code, 0, r.stderr);
  await sh('qemu-img', ['check', '-f', 'qcow2', disk]);
  const raw = join(tmp, 'nixos.img');
  await sh('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', disk, raw]);
  assert.match(await sh('sgdisk', ['-p', raw]), /^\s+1\s+.*EF00\s+ESP$/m);
  const out = await bootAarch64(disk, 'disk', 240, 'qcow2');
  const line = out.split('\n').find((l) => l.startsWith(`${DISK_MARKER} `));
  assert.ok(line?.includes(`init=${fx.paths.disk}/init `), `no marker in\n${out.slice(-3000)}`);
  assert.match(line!, /[= ]\.\/EFI\/BOOT\/BOOTAA64\.EFI /);
  assert.match(line!, / \.\/EFI\/systemd\/systemd-bootaa64\.efi /);
  assert.doesNotMatch(line!, /X64/i);
});

test('aarch64 netboot: Image, initrd and netboot.ipxe; the virt machine boots them and finds the store in the initrd', async () => {
  const dir = join(tmp, 'netboot');
  await mkdir(dir);
  const r = await build(toplevelConfig(fx, fx.paths.live, 'netboot'), 'netboot/');
  assert.equal(r.code, 0, r.stderr);
  const ipxe = await readFile(join(dir, 'netboot.ipxe'), 'utf8');
  const kernel = /^kernel Image (init=\S+) initrd=initrd (.*) \$\{cmdline\}$/m.exec(ipxe);
  assert.ok(kernel, ipxe);
  assert.ok((await readFile(join(dir, 'Image'))).equals(await readFile(`${fx.storeRoot}${fx.paths.kernel}/Image`)));
  const out = await bootKernelAarch64(join(dir, 'Image'), join(dir, 'initrd'), `${kernel[1]} ${kernel[2]}`);
  const line = out.split('\n').find((l) => l.startsWith(`${LIVE_MARKER} medium=initrd `));
  assert.ok(line?.includes(`init=${fx.paths.live}/init `), `no marker in\n${out.slice(-3000)}`);
});

test('a config whose system contradicts the toplevel is refused before anything is written', async () => {
  for (const [format, top] of [['iso', fx.paths.live], ['disk', fx.paths.disk]] as const) {
    const r = await build(toplevelConfig(fx, top, format, { system: 'x86_64-linux' }), `wrong.${format}`);
    assert.equal(r.code, 1, `${format}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${top}: is built for aarch64-linux, but the config's "system" says x86_64-linux`));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    await assert.rejects(readFile(join(tmp, `wrong.${format}`)));
  }
});
