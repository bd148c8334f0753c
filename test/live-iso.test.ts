// A NixOS live ISO from the toplevel alone (config "toplevel"), built by the CLI from the real-Nix
// NixOS-like fixture and judged by xorriso, isoinfo, unsquashfs and qemu: each boot path must get
// the fixture's stage 1 to find the medium by label, mount /nix-store.squashfs and find <toplevel>/init.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootQemu } from './helpers/boot.ts';
import { runCli, sh, type Run } from './helpers/cli.ts';
import { LIVE_MARKER, nixosFixture, toplevelConfig, type NixosFixture } from './helpers/nixos-fixture.ts';

let fx: NixosFixture;
let tmp: string;
let iso: string;
let built: Run;

/** Builds the ISO of `toplevel` with the CLI into `out`. */
async function buildIso(toplevel: string, out: string, iso: Record<string, unknown> = {}, cacheDir = join(tmp, 'nar-cache')): Promise<Run> {
  const cfg = join(tmp, `${out}.json`);
  await writeFile(cfg, JSON.stringify(toplevelConfig(fx, toplevel, 'iso', { iso: { bootTimeout: 1, ...iso } })));
  return runCli(['build', cfg, '--output', join(tmp, out), '--cache-dir', cacheDir]);
}

before(async () => {
  fx = await nixosFixture();
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-live-iso-'));
  iso = join(tmp, 'live.iso');
  built = await buildIso(fx.paths.live, 'live.iso');
});
after(() => rm(tmp, { recursive: true, force: true }));

/** Whether the serial output has stage 1's marker for `top`. */
const reached = (out: string, top: string) => out.split('\n').some((l) => l.startsWith(`${LIVE_MARKER} medium=`) && l.includes(`init=${top}/init `));

test('the live ISO is laid out as iso-image.nix lays it out, judged by xorriso, isoinfo and unsquashfs', async () => {
  assert.equal(built.code, 0, built.stderr);
  const pvd = await sh('isoinfo', ['-d', '-i', iso]);
  assert.match(pvd, new RegExp(`Volume id: ${fx.liveLabel}\n`));
  const el = await sh('xorriso', ['-indev', iso, '-report_el_torito', 'plain']);
  assert.match(el, /El Torito boot img :\s+1\s+BIOS\s+y\s+none/);
  assert.match(el, /El Torito img path :\s+1\s+\/isolinux\/isolinux\.bin/);
  assert.match(el, /El Torito img opts :\s+1\s+boot-info-table/);
  assert.match(el, /El Torito boot img :\s+2\s+UEFI\s+y\s+none/);
  assert.match(el, /El Torito img path :\s+2\s+\/boot\/efi\.img/);
  const area = await sh('xorriso', ['-indev', iso, '-report_system_area', 'plain']);
  assert.match(area, /System area summary: MBR isohybrid cyl-align-on GPT/);
  assert.match(area, /GPT partition path :\s+\d+\s+\/boot\/efi\.img/);
  const x = join(tmp, 'x');
  await sh('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', x]);
  const cfg = await readFile(join(x, 'isolinux/isolinux.cfg'), 'utf8');
  const params = (await readFile(`${fx.storeRoot}${fx.paths.live}/kernel-params`, 'utf8')).trim();
  assert.match(cfg, /^SERIAL 0 115200\nTIMEOUT 10\nUI vesamenu\.c32\n/);
  assert.ok(cfg.includes(`DEFAULT boot\n`));
  assert.ok(cfg.includes(`LABEL boot\n`));
  assert.ok(cfg.includes(`LINUX /boot/bzImage\nAPPEND init=${fx.paths.live}/init ${params}\nINITRD /boot/initrd\n`), cfg);
  assert.ok(cfg.includes(`APPEND init=${fx.paths.live}/init ${params} console=ttyS0,115200n8\n`));
  // The boot files are the store's, byte for byte (isolinux.bin carries the patched boot-info-table, so compare the rest).
  const store = (p: string) => readFile(`${fx.storeRoot}${p}`);
  assert.ok((await readFile(join(x, 'boot/bzImage'))).equals(await store(`${fx.paths.kernel}/bzImage`)));
  assert.ok((await readFile(join(x, 'boot/initrd'))).equals(await store(`${fx.paths.initrd}/initrd`)));
  assert.ok((await readFile(join(x, 'isolinux/ldlinux.c32'))).equals(await store(`${fx.paths.syslinux}/share/syslinux/ldlinux.c32`)));
  const bin = await readFile(join(x, 'isolinux/isolinux.bin'));
  assert.ok(bin.subarray(64).equals((await store(`${fx.paths.syslinux}/share/syslinux/isolinux.bin`)).subarray(64)));
  assert.match(await readFile(join(x, 'version.txt'), 'utf8'), /^24\.05\.fixture/);
  // efi.img: a clean FAT volume (fsck.fat) whose files mtools gives back: systemd-boot, its config, kernel, initrd.
  const efi = join(x, 'boot/efi.img');
  await sh('fsck.fat', ['-n', '-V', efi]);
  assert.match(await sh('mdir', ['-i', efi]), /Volume in drive : is EFIBOOT/);
  const mtype = (p: string) => sh('mtype', ['-i', efi, `::${p}`]);
  assert.equal(await mtype('/loader/loader.conf'), 'timeout 1\ndefault nixos-generation-1.conf\neditor 0\nconsole-mode keep\n');
  const entry = await mtype('/loader/entries/nixos-generation-1.conf');
  assert.ok(entry.includes(`\noptions init=${fx.paths.live}/init ${params}\n`), entry);
  const linux = /^linux (\S+)$/m.exec(entry)![1]!;
  const initrd = /^initrd (\S+)$/m.exec(entry)![1]!;
  const out = join(tmp, 'efi-files');
  await sh('mkdir', ['-p', out]);
  await sh('mcopy', ['-i', efi, '::/EFI/BOOT/BOOTX64.EFI', `::${linux}`, `::${initrd}`, out]);
  assert.ok((await readFile(join(out, 'BOOTX64.EFI'))).equals(await store(`${fx.paths.systemd}/lib/systemd/boot/efi/systemd-bootx64.efi`)));
  assert.ok((await readFile(join(out, linux.slice(linux.lastIndexOf('/') + 1)))).equals(await store(`${fx.paths.kernel}/bzImage`)));
  assert.ok((await readFile(join(out, initrd.slice(initrd.lastIndexOf('/') + 1)))).equals(await store(`${fx.paths.initrd}/initrd`)));
  // The squashfs: zstd, 1 MiB blocks, the toplevel's closure and nix-path-registration at its root.
  const sq = join(x, 'nix-store.squashfs');
  const s = await sh('unsquashfs', ['-s', sq]);
  assert.match(s, /Compression zstd/);
  assert.match(s, /Block size 1048576/);
  const names = (await sh('unsquashfs', ['-l', '-d', '', sq])).split('\n').filter((l) => /^\/[^/]+$/.test(l)).sort();
  const closure = (await sh('sh', ['-c', `NIX_REMOTE= nix-store --store ${fx.storeRoot} -qR ${fx.paths.live}`])).trim().split('\n');
  assert.deepEqual(names, ['/nix-path-registration', ...closure.map((p) => p.slice('/nix/store'.length))].sort());
});

test('the live ISO boots in qemu four ways (BIOS and UEFI, CD and disk), and so does a toplevel without boot.json', async () => {
  assert.equal(built.code, 0, built.stderr);
  const plain = await buildIso(fx.paths.plain, 'plain.iso');
  assert.equal(plain.code, 0, plain.stderr);
  // One ISO, all boots at once: TCG boots are slow, and CI time is shared.
  const ways = [
    ['BIOS CD', iso, 'cdrom', 'bios', fx.paths.live],
    ['UEFI CD', iso, 'cdrom', 'uefi', fx.paths.live],
    ['BIOS disk', iso, 'disk', 'bios', fx.paths.live],
    ['UEFI disk', iso, 'disk', 'uefi', fx.paths.live],
    ['BIOS CD, no boot.json', join(tmp, 'plain.iso'), 'cdrom', 'bios', fx.paths.plain],
  ] as const;
  const outs = await Promise.all(ways.map(([, file, as, firmware]) => bootQemu(file, as, 400, firmware)));
  ways.forEach(([name, , as, , top], i) => {
    assert.ok(reached(outs[i]!, top), `${name}:\n${outs[i]!.slice(-3000)}`);
    assert.match(outs[i]!, as === 'disk' ? /medium=\/dev\/sda/ : /medium=\/dev\/sr0/, name);
  });
});

test('the same toplevel and config give the same bytes (efi.img and squashfs included)', async () => {
  assert.equal(built.code, 0, built.stderr);
  const again = await buildIso(fx.paths.live, 'live-again.iso');
  assert.equal(again.code, 0, again.stderr);
  assert.ok((await readFile(join(tmp, 'live-again.iso'))).equals(await readFile(iso)));
});

test('a toplevel with only one boot loader gets an ISO for it and a note on stderr saying what is missing', async () => {
  const uefi = await buildIso(fx.paths.uefiOnly, 'uefi-only.iso');
  assert.equal(uefi.code, 0, uefi.stderr);
  assert.match(uefi.stderr, /note: .*nixos-system-uefi-only-24\.05: no BIOS boot: no store path in its closure has share\/syslinux\/isolinux\.bin/);
  const uefiEl = await sh('xorriso', ['-indev', join(tmp, 'uefi-only.iso'), '-report_el_torito', 'plain']);
  assert.match(uefiEl, /El Torito boot img :\s+1\s+UEFI/);
  assert.doesNotMatch(uefiEl, /BIOS/);
  const bios = await buildIso(fx.paths.biosOnly, 'bios-only.iso');
  assert.equal(bios.code, 0, bios.stderr);
  assert.match(bios.stderr, /note: .*nixos-system-bios-only-24\.05: no UEFI boot: it has no systemd link/);
  const biosEl = await sh('xorriso', ['-indev', join(tmp, 'bios-only.iso'), '-report_el_torito', 'plain']);
  assert.match(biosEl, /El Torito boot img :\s+1\s+BIOS/);
  assert.doesNotMatch(biosEl, /UEFI/);
});

test('unsuitable toplevels are refused with one line naming the toplevel and what is missing, and no output', async () => {
  const cases: [string, RegExp][] = [
    [fx.paths.noKernel, /cannot boot from an ISO: no kernel/],
    [fx.paths.disk, /no root=LABEL= in its kernel parameters/],
    [fx.paths.longLabel, /volume ID "nixos-fixture-label-longer-than-32-characters" is 45 characters/],
    [fx.paths.noBootLoader, /neither syslinux in its closure .* nor a systemd link/],
  ];
  for (const [top, message] of cases) {
    const out = `refused-${top.slice(-12)}.iso`;
    const cacheDir = join(tmp, `cache-${top.slice(-12)}`);
    const r = await buildIso(top, out, {}, cacheDir);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.ok(lines[0]!.includes(top), r.stderr);
    assert.match(lines[0]!, message);
    assert.equal(existsSync(join(tmp, out)), false);
    // Nothing beyond the toplevel was downloaded: the NAR cache holds the toplevel's NAR at most.
    const nars = (await readdir(cacheDir, { recursive: true })).filter((f) => f.endsWith('.nar'));
    assert.ok(nars.length <= 1, `${top}: ${nars.length} NARs downloaded`);
  }
  const given = await buildIso(fx.paths.disk, 'disk-with-id.iso', { volumeID: 'nixos' });
  assert.equal(given.code, 0, 'iso.volumeID stands in for root=LABEL=');
});
