// "format": "netboot" from a toplevel: netboot.nix's files, built by the CLI from the real-Nix
// NixOS-like fixture, judged by bsdtar, zstd, cpio, unsquashfs and a qemu boot with -kernel/-initrd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootKernel } from './helpers/boot.ts';
import { run, runCli, sh, type Run } from './helpers/cli.ts';
import { LIVE_MARKER, nixosFixture, toplevelConfig, type NixosFixture } from './helpers/nixos-fixture.ts';

let fx: NixosFixture;
let tmp: string;
let built: Run;
let files: string;

before(async () => {
  fx = await nixosFixture();
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-netboot-'));
  await writeFile(join(tmp, 'netboot.json'), JSON.stringify(toplevelConfig(fx, fx.paths.live, 'netboot')));
  built = await runCli(['build', join(tmp, 'netboot.json'), '--output', join(tmp, 'netboot.tar'), '--cache-dir', join(tmp, 'nar-cache')]);
  files = join(tmp, 'files');
  await sh('mkdir', ['-p', files]);
  if (built.code === 0) await sh('bsdtar', ['-xf', join(tmp, 'netboot.tar'), '-C', files]);
});
after(() => rm(tmp, { recursive: true, force: true }));

test('the tarball holds bzImage, initrd and netboot.ipxe as netboot.nix makes them', async () => {
  assert.equal(built.code, 0, built.stderr);
  assert.deepEqual((await readdir(files)).sort(), ['bzImage', 'initrd', 'netboot.ipxe']);
  const store = (p: string) => readFile(`${fx.storeRoot}${p}`);
  assert.ok((await readFile(join(files, 'bzImage'))).equals(await store(`${fx.paths.kernel}/bzImage`)));
  const params = await readFile(`${fx.storeRoot}${fx.paths.live}/kernel-params`, 'utf8');
  assert.equal(await readFile(join(files, 'netboot.ipxe'), 'utf8'), `#!ipxe\nkernel bzImage init=${fx.paths.live}/init initrd=initrd ${params} \${cmdline}\ninitrd initrd\nboot\n`);
  // The initrd: the system's, zeros to a 4-byte boundary, then a zstd'ed newc cpio with /nix-store.squashfs.
  const initrd = await readFile(join(files, 'initrd'));
  const system = await store(`${fx.paths.initrd}/initrd`);
  assert.ok(initrd.subarray(0, system.length).equals(system));
  const tail = initrd.subarray(Math.ceil(system.length / 4) * 4);
  assert.ok(initrd.subarray(system.length, system.length + ((4 - (system.length % 4)) % 4)).every((b) => b === 0));
  await writeFile(join(tmp, 'store.cpio.zst'), tail);
  await sh('sh', ['-c', `zstd -dc ${tmp}/store.cpio.zst > ${tmp}/store.cpio && cd ${tmp} && cpio -id --quiet < store.cpio`]);
  assert.match(await sh('cpio', ['-t', '--quiet', '-F', join(tmp, 'store.cpio')]), /^(\.\n)?nix-store\.squashfs\n$/);
  const listing = await sh('unsquashfs', ['-l', '-d', '', join(tmp, 'nix-store.squashfs')]);
  assert.ok(listing.includes(`${fx.paths.live.slice('/nix/store'.length)}/init\n`));
  assert.ok(listing.includes('/nix-path-registration\n'));
});

test('booted with qemu -kernel -initrd -append, the guest finds the store in its initrd', async () => {
  assert.equal(built.code, 0, built.stderr);
  const ipxe = await readFile(join(files, 'netboot.ipxe'), 'utf8');
  const cmdline = /^kernel bzImage (.*) \$\{cmdline\}$/m.exec(ipxe)![1]!;
  const out = await bootKernel(join(files, 'bzImage'), join(files, 'initrd'), cmdline, 300);
  assert.ok(out.includes(`${LIVE_MARKER} medium=initrd init=${fx.paths.live}/init `), out.slice(-3000));
});

test('--output DIR/ writes the same three files into DIR', async () => {
  assert.equal(built.code, 0, built.stderr);
  const dir = join(tmp, 'out');
  const r = await runCli(['build', join(tmp, 'netboot.json'), '--output', `${dir}/`, '--cache-dir', join(tmp, 'nar-cache')]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await readdir(dir)).sort(), ['bzImage', 'initrd', 'netboot.ipxe']);
  for (const f of ['bzImage', 'initrd', 'netboot.ipxe']) assert.ok((await readFile(join(dir, f))).equals(await readFile(join(files, f))), f);
  const bad = await run('sh', ['-c', `echo '{"format":"netboot"}' > ${tmp}/no-top.json && node ${process.cwd()}/bin/nix-imager.mjs build ${tmp}/no-top.json`]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /toplevel: is required for "format": "netboot"/);
});
