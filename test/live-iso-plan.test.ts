// The live ISO's boot facts and menus from a toplevel, checked line by line against what
// iso-image.nix, netboot.nix and the systemd-boot builder write, on x86_64 and aarch64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootableSystem, efiImageFiles, isoKernelPath, isolinuxCfg, liveSystem, netbootIpxe, rootLabel } from '../core/nixos/live-iso.ts';
import { ToplevelError, type Toplevel } from '../core/nixos/toplevel.ts';

const H = (c: string) => c.repeat(32);
const TOP = `/nix/store/${H('a')}-nixos-system-nixos-24.05`;
const toplevel = (over: Partial<Toplevel> = {}): Toplevel => ({
  storePath: TOP,
  system: 'x86_64-linux',
  kernel: `/nix/store/${H('b')}-linux-6.6.8/bzImage`,
  initrd: `/nix/store/${H('c')}-initrd-linux-6.6.8/initrd`,
  init: `${TOP}/init`,
  kernelParams: ['root=LABEL=nixos-24.05-x86_64', 'boot.shell_on_fail'],
  label: '24.05.20240101.abcdef',
  systemd: `/nix/store/${H('d')}-systemd-255`,
  fromBootspec: true,
  ...over,
});

test('the volume ID is root=LABEL= (the last one, as the kernel reads it) unless iso.volumeID is given', () => {
  assert.equal(rootLabel(['root=LABEL=a', 'quiet', 'root=LABEL=b']), 'b');
  assert.equal(liveSystem(toplevel(), undefined).volumeID, 'nixos-24.05-x86_64');
  assert.equal(liveSystem(toplevel({ kernelParams: [] }), 'MY_ISO').volumeID, 'MY_ISO');
});

test('one error names the toplevel and everything missing', () => {
  const check = (t: Toplevel, re: RegExp) =>
    assert.throws(() => liveSystem(t, undefined), (e: Error) => e instanceof ToplevelError && e.message.startsWith(`${TOP}: cannot boot from an ISO: `) && re.test(e.message));
  check(toplevel({ kernel: undefined, init: undefined, kernelParams: [] }), /no kernel; no init; no root=LABEL= in its kernel parameters/);
  check(toplevel({ kernelParams: [`root=LABEL=${'x'.repeat(33)}`] }), /is 33 characters; an ISO 9660 volume ID holds 1 to 32/);
  check(toplevel({ kernelParams: ['root=LABEL=nixös'] }), /characters an ISO 9660 volume ID cannot hold/);
  check(toplevel({ system: 'mips-linux' }), /system "mips-linux" has no known boot loader names/);
  assert.throws(() => bootableSystem(toplevel({ initrd: undefined }), 'the network'), /cannot boot from the network: no initrd/);
  assert.equal(bootableSystem(toplevel({ kernelParams: [] }), 'the network').kernelParams.length, 0, 'netboot needs no label');
});

test('isolinux.cfg: the default entry boots the kernel with init= and the kernel parameters, then the variants', () => {
  const cfg = isolinuxCfg(liveSystem(toplevel(), undefined), 10);
  const append = `APPEND init=${TOP}/init root=LABEL=nixos-24.05-x86_64 boot.shell_on_fail`;
  assert.ok(cfg.startsWith('SERIAL 0 115200\nTIMEOUT 100\nUI vesamenu.c32\n'));
  assert.ok(cfg.includes(`DEFAULT boot\n`));
  assert.ok(cfg.includes(`LABEL boot\nMENU LABEL NixOS 24.05.20240101.abcdef\nLINUX /boot/bzImage\n${append}\nINITRD /boot/initrd\n`));
  assert.ok(cfg.includes(`LABEL boot-serial\nMENU LABEL NixOS 24.05.20240101.abcdef (serial console=ttyS0,115200n8)\nLINUX /boot/bzImage\n${append} console=ttyS0,115200n8\n`));
  assert.match(isolinuxCfg(liveSystem(toplevel(), undefined), 0), /TIMEOUT 1\n/, 'TIMEOUT 0 would wait for ever');
});

test('aarch64: the kernel is Image, the EFI loader BOOTAA64.EFI from systemd-bootaa64.efi', () => {
  const s = liveSystem(toplevel({ system: 'aarch64-linux', kernel: `/nix/store/${H('b')}-linux-6.6.8/Image` }), undefined);
  assert.equal(s.architecture.bios, false);
  assert.equal(isoKernelPath(s), '/boot/Image');
  const sdboot = `/nix/store/${H('d')}-systemd-255/lib/systemd/boot/efi/systemd-bootaa64.efi`;
  const files = efiImageFiles(s, sdboot, 5, 315532800);
  assert.deepEqual(files[0], { path: '/EFI/BOOT/BOOTAA64.EFI', storeFile: sdboot });
  const entry = files.find((f) => f.path === '/loader/entries/nixos-generation-1.conf');
  assert.ok(entry && 'text' in entry);
  assert.equal(entry.text, [
    'title NixOS', 'sort-key nixos', 'version Generation 1 24.05.20240101.abcdef, built on 1980-01-01',
    `linux /EFI/nixos/${H('b')}-linux-6.6.8-Image.efi`, `initrd /EFI/nixos/${H('c')}-initrd-linux-6.6.8-initrd.efi`,
    `options init=${TOP}/init root=LABEL=nixos-24.05-x86_64 boot.shell_on_fail`, '',
  ].join('\n'));
  assert.equal(netbootIpxe(s), `#!ipxe\nkernel Image init=${TOP}/init initrd=initrd root=LABEL=nixos-24.05-x86_64 boot.shell_on_fail \${cmdline}\ninitrd initrd\nboot\n`);
});
