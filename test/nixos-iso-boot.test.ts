import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureCache, type Fixture } from './helpers/fixtures.ts';
import { buildInitramfs, bootQemu, debianKernel } from './helpers/boot.ts';
import { runCli } from './helpers/cli.ts';

const LABEL = 'nixos-fixture-24.05-x86_64';
let fx: Fixture;
let tmp: string;

before(async () => {
  fx = await fixtureCache();
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-nixos-boot-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

/**
 * The whole chain of today's NixOS installer ISO, built by the CLI from a real-Nix binary cache:
 * isolinux boots a Debian kernel under qemu; its initramfs finds the ISO by volume ID, loop-mounts
 * /nix-store.squashfs read-only on /nix/.ro-store as NixOS's stage 1 does, and reads a file of the
 * system's toplevel store path from it with the kernel's own squashfs driver.
 */
test('a CLI-built installer-style ISO boots in qemu and the kernel reads the store from /nix-store.squashfs', async () => {
  const kernel = debianKernel();
  const top = fx.paths.toplevel.slice('/nix/store/'.length);
  const init = [
    'sleep 2',
    `dev=$(findfs LABEL=${LABEL})`,
    'mkdir -p /iso /nix/.ro-store',
    'mount -t iso9660 -o ro "$dev" /iso',
    'mount -t squashfs -o loop,ro /iso/nix-store.squashfs /nix/.ro-store',
    `echo "store-version: $(cat /nix/.ro-store/${top}/nixos-version)"`,
    'echo "registration-lines: $(wc -l < /nix/.ro-store/nix-path-registration)"',
  ].join('\n');
  const initrd = buildInitramfs(kernel, { extraModules: ['loop', 'squashfs'], init });
  const cfg = join(tmp, 'iso.json');
  await writeFile(
    cfg,
    JSON.stringify({
      format: 'iso',
      substituters: [fx.caches.xz],
      trustedPublicKeys: [fx.publicKey],
      contents: [
        { source: kernel.vmlinuz, target: '/boot/bzImage' },
        { source: initrd, target: '/boot/initrd' },
        { source: '/usr/lib/ISOLINUX/isolinux.bin', target: '/isolinux/isolinux.bin' },
        { source: '/usr/lib/syslinux/modules/bios/ldlinux.c32', target: '/isolinux/ldlinux.c32' },
        {
          text: 'SERIAL 0 115200\nPROMPT 0\nTIMEOUT 0\nDEFAULT nixos\nLABEL nixos\n  KERNEL /boot/bzImage\n  INITRD /boot/initrd\n  APPEND console=ttyS0,115200 panic=-1 no_timer_check quiet\n',
          target: '/isolinux/isolinux.cfg',
        },
      ],
      iso: {
        volumeID: LABEL,
        bootable: true,
        bootImage: '/isolinux/isolinux.bin',
        usbBootable: true,
        isohybridMbrImage: '/usr/lib/ISOLINUX/isohdpfx.bin',
        squashfsContents: [fx.paths.toplevel],
        squashfsCompression: 'zstd',
      },
    }),
  );
  const iso = join(tmp, 'nixos.iso');
  const r = await runCli(['build', cfg, '--output', iso, '--cache-dir', join(tmp, 'nar-cache')]);
  assert.equal(r.code, 0, r.stderr);
  const expected = (await readFile(`${fx.storeRoot}${fx.paths.toplevel}/nixos-version`, 'utf8')).trim();
  const paths = fx.closure.length;
  for (const as of ['cdrom', 'disk'] as const) {
    const out = await bootQemu(iso, as);
    assert.ok(out.includes(`store-version: ${expected}`), `booted as ${as}, the kernel read the store; serial output:\n${out.slice(-3000)}`);
    assert.match(out, /registration-lines: \d+/);
    const lines = Number(/registration-lines: (\d+)/.exec(out)![1]);
    assert.ok(lines >= paths * 5, `nix-path-registration lists the ${paths} paths (5 lines or more each)`);
  }
});
