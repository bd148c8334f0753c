import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureCache, type Fixture } from './helpers/fixtures.ts';
import { runCli, sh } from './helpers/cli.ts';
import { nix } from './helpers/nix.ts';

let fx: Fixture;
let tmp: string;

before(async () => {
  fx = await fixtureCache();
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-iso-build-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

/** A NixOS-installer-shaped ISO: kernel from the store, isolinux, the store closure in /nix-store.squashfs. */
function isoConfig(codec: string) {
  return {
    format: 'iso',
    substituters: [fx.caches.xz],
    trustedPublicKeys: [fx.publicKey],
    contents: [
      { source: `${fx.paths.kernel}/bzImage`, target: '/boot/bzImage' },
      { source: '/usr/lib/ISOLINUX/isolinux.bin', target: '/isolinux/isolinux.bin' },
      { source: '/usr/lib/syslinux/modules/bios/ldlinux.c32', target: '/isolinux/ldlinux.c32' },
      { text: 'SERIAL 0 115200\nDEFAULT nixos\nLABEL nixos\n  KERNEL /boot/bzImage\n', target: '/isolinux/isolinux.cfg' },
      { text: 'fixture-24.05', target: '/version.txt' },
    ],
    iso: {
      isoName: 'fixture.iso',
      volumeID: 'nixos-fixture-24.05-x86_64',
      bootable: true,
      bootImage: '/isolinux/isolinux.bin',
      usbBootable: true,
      isohybridMbrImage: '/usr/lib/ISOLINUX/isohdpfx.bin',
      squashfsContents: [fx.paths.toplevel],
      squashfsCompression: codec,
    },
  };
}

async function buildIso(name: string, cfg: object): Promise<string> {
  const cfgPath = join(tmp, `${name}.json`);
  await writeFile(cfgPath, JSON.stringify(cfg));
  const out = join(tmp, `${name}.iso`);
  const r = await runCli(['build', cfgPath, '--output', out, '--cache-dir', join(tmp, 'nar-cache')]);
  assert.equal(r.code, 0, r.stderr);
  return out;
}

for (const codec of ['zstd', 'xz', 'gzip']) {
  test(`ISO with the store in a ${codec} /nix-store.squashfs: xorriso and bsdtar read it, unsquashfs unpacks a store real Nix verifies`, async () => {
    const iso = await buildIso(`fixture-${codec}`, isoConfig(codec));
    const info = await sh('isoinfo', ['-d', '-i', iso]);
    assert.match(info, /Volume id: nixos-fixture-24\.05-x86_64/);
    assert.match(info, /Rock Ridge signatures version/);
    assert.match(info, /Joliet with UCS level 3/);
    assert.match(info, /El Torito/);
    const boot = await sh('xorriso', ['-indev', iso, '-report_el_torito', 'plain']);
    assert.match(boot, /\/isolinux\/isolinux\.bin/);

    const dir = join(tmp, `x-${codec}`);
    await sh('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', dir]);
    const bsd = join(tmp, `b-${codec}`);
    await mkdir(bsd);
    await sh('bsdtar', ['-xf', iso, '-C', bsd]);
    for (const root of [dir, bsd]) {
      assert.equal(await readFile(join(root, 'version.txt'), 'utf8'), 'fixture-24.05');
      assert.ok((await readFile(join(root, 'boot/bzImage'))).equals(await readFile(`${fx.storeRoot}${fx.paths.kernel}/bzImage`)));
    }
    const sq = await sh('unsquashfs', ['-s', join(dir, 'nix-store.squashfs')]);
    assert.match(sq, new RegExp(`Compression ${codec}`));
    assert.match(sq, /Block size 1048576/);

    // The squashfs holds nix-path-registration and the store paths at its root, as make-squashfs.nix lays it out.
    const root = join(tmp, `root-${codec}`);
    await mkdir(join(root, 'nix'), { recursive: true });
    await sh('unsquashfs', ['-no-progress', '-d', join(root, 'nix/store'), join(dir, 'nix-store.squashfs')]);
    const top = (await readdir(join(root, 'nix/store'))).sort();
    assert.deepEqual(top, [...fx.closure.map((p) => p.slice('/nix/store/'.length)), 'nix-path-registration'].sort());
    await nix('nix-store', ['--store', root, '--load-db'], await readFile(join(root, 'nix/store/nix-path-registration')));
    await nix('nix-store', ['--store', root, '--verify', '--check-contents']);
    const closure = (await nix('nix-store', ['--store', root, '-qR', fx.paths.toplevel])).trim().split('\n').sort();
    assert.deepEqual(closure, [...fx.closure].sort());
  });
}

test('the same config gives the same ISO bytes twice (reproducible)', async () => {
  const a = await buildIso('repro-a', isoConfig('gzip'));
  const b = await buildIso('repro-b', isoConfig('gzip'));
  assert.ok((await readFile(a)).equals(await readFile(b)));
});

test('format squashfs writes the store image alone; unsquashfs -lls shows root ownership and store modes', async () => {
  const cfgPath = join(tmp, 'sq.json');
  await writeFile(
    cfgPath,
    JSON.stringify({
      format: 'squashfs',
      substituters: [fx.caches.xz],
      trustedPublicKeys: [fx.publicKey],
      storeContents: [{ object: fx.paths.toplevel }],
      squashfsCompression: 'gzip',
    }),
  );
  const out = join(tmp, 'store.squashfs');
  const r = await runCli(['build', cfgPath, '--output', out, '--cache-dir', join(tmp, 'nar-cache')]);
  assert.equal(r.code, 0, r.stderr);
  const listing = await sh('unsquashfs', ['-lls', out]);
  const lines = listing.split('\n').filter((l) => l.includes('squashfs-root/'));
  assert.ok(lines.length > 10);
  for (const l of lines) assert.match(l, /^\S+ root\/root /, l);
  assert.ok(lines.some((l) => l.startsWith('dr-xr-xr-x') && l.endsWith(fx.paths.toplevel.slice('/nix/store/'.length))), 'store paths are 0555 dirs');
  assert.ok(lines.some((l) => l.startsWith('-r--r--r--') && l.endsWith('squashfs-root/nix-path-registration')));
});
