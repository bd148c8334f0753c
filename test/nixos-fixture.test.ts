// The NixOS-like fixture is what it claims, judged by real Nix: a signed cache of toplevels laid
// out as NixOS lays them out, whose closures hold what each variant promises.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readFile, readlink } from 'node:fs/promises';
import { nixosFixture, type NixosFixture } from './helpers/nixos-fixture.ts';
import { nix, nixRun } from './helpers/nix.ts';

let fx: NixosFixture;
before(async () => {
  fx = await nixosFixture();
});

const onDisk = (p: string) => fx.storeRoot + p;
const closure = async (p: string) => (await nix('nix-store', ['--store', fx.storeRoot, '-qR', p])).trim().split('\n').sort();

test('the store verifies and the cache holds every toplevel, signed', async () => {
  const r = await nixRun('nix-store', ['--store', fx.storeRoot, '--verify', '--check-contents']);
  assert.equal(r.code, 0, r.stderr);
  const tops = [fx.paths.live, fx.paths.plain, fx.paths.disk, fx.paths.uefiOnly, fx.paths.biosOnly, fx.paths.noKernel, fx.paths.longLabel, fx.paths.noBootLoader];
  const v = await nixRun('nix', ['store', 'verify', '-r', '--store', `file://${fx.cache}`, '--option', 'trusted-public-keys', fx.publicKey, ...tops]);
  assert.equal(v.code, 0, v.stderr);
});

test('the live toplevel has boot.json, the plain files and the links of a NixOS system', async () => {
  const top = onDisk(fx.paths.live);
  const spec = JSON.parse(await readFile(`${top}/boot.json`, 'utf8'))['org.nixos.bootspec.v1'];
  assert.equal(spec.toplevel, fx.paths.live);
  assert.equal(spec.init, `${fx.paths.live}/init`);
  assert.equal(spec.kernel, `${fx.paths.kernel}/bzImage`);
  assert.equal(spec.initrd, `${fx.paths.initrd}/initrd`);
  assert.equal(spec.system, 'x86_64-linux');
  assert.equal(await readFile(`${top}/kernel-params`, 'utf8'), spec.kernelParams.join(' '));
  assert.ok(spec.kernelParams.includes(`root=LABEL=${fx.liveLabel}`));
  assert.equal(await readlink(`${top}/kernel`), spec.kernel);
  assert.equal(await readlink(`${top}/systemd`), fx.paths.systemd);
  assert.ok((await lstat(onDisk(`${fx.paths.systemd}/lib/systemd/boot/efi/systemd-bootx64.efi`))).size > 50_000);
  for (const f of ['isolinux.bin', 'isohdpfx.bin', 'ldlinux.c32', 'vesamenu.c32', 'libcom32.c32', 'libutil.c32']) {
    assert.ok((await lstat(onDisk(`${fx.paths.syslinux}/share/syslinux/${f}`))).isFile(), f);
  }
  // The kernel is an x86 boot image ("HdrS" at 0x202), the initrd a gzip'ed cpio.
  const bz = await readFile(onDisk(spec.kernel));
  assert.equal(bz.subarray(0x202, 0x206).toString('latin1'), 'HdrS');
  assert.deepEqual([...(await readFile(onDisk(spec.initrd))).subarray(0, 2)], [0x1f, 0x8b]);
});

test('each variant has the closure it promises', async () => {
  const has = async (top: string, p: string) => (await closure(top)).includes(p);
  assert.ok(await has(fx.paths.live, fx.paths.syslinux));
  assert.ok(await has(fx.paths.plain, fx.paths.syslinux));
  assert.equal(await has(fx.paths.uefiOnly, fx.paths.syslinux), false);
  assert.equal(await has(fx.paths.biosOnly, fx.paths.systemd), false);
  assert.equal(await has(fx.paths.noBootLoader, fx.paths.syslinux) || (await has(fx.paths.noBootLoader, fx.paths.systemd)), false);
  assert.ok(await has(fx.paths.disk, fx.paths.initrdDisk));
  await assert.rejects(lstat(onDisk(`${fx.paths.plain}/boot.json`)));
  await assert.rejects(lstat(onDisk(`${fx.paths.noKernel}/kernel`)));
  assert.doesNotMatch(await readFile(onDisk(`${fx.paths.disk}/kernel-params`), 'utf8'), /root=/);
});
