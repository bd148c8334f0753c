import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nixosFixture, toplevelConfig, type NixosFixture } from './helpers/nixos-fixture.ts';
import { runCli, sh } from './helpers/cli.ts';
import { nix } from './helpers/nix.ts';
import { referenceSystemTarball } from './helpers/make-system-tarball.ts';

let fx: NixosFixture;
let tmp: string;

before(async () => {
  fx = await nixosFixture();
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-presets-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

async function cli(name: string, cfg: object) {
  const cfgPath = join(tmp, `${name}.json`);
  await writeFile(cfgPath, JSON.stringify(cfg));
  const out = join(tmp, name);
  return { out, ...(await runCli(['build', cfgPath, '--output', out, '--cache-dir', join(tmp, 'nar-cache')])) };
}

async function build(name: string, cfg: object): Promise<string> {
  const r = await cli(name, cfg);
  assert.equal(r.code, 0, `CLI failed: ${r.stderr}`);
  return r.out;
}

const presetConfig = (preset: string | undefined, f = fx) =>
  toplevelConfig(f, f.paths.plain, 'tarball', { compression: 'none', ...(preset === undefined ? {} : { preset }) });

/** A file of the toplevel as `cp -a` copies it; $top/etc is an absolute link into the store, so it is followed by hand. */
const copyFromToplevel = (from: string, to: string) => `mkdir -p "$(dirname ${to})"; src="$store$top/${from}"; case "${from}" in etc/*) src="$store$(readlink "$store$top/etc")/\${src##*/etc/}" ;; esac; cp -a "$src" ${to}`;

const REFERENCE: Record<string, string> = {
  // lxc-container.nix: contents /sbin/init and /etc/os-release; extraCommands "mkdir -p proc sys dev".
  lxc: [copyFromToplevel('init', 'sbin/init'), copyFromToplevel('etc/os-release', 'etc/os-release'), 'mkdir -p proc sys dev'].join('\n'),
  // proxmox-lxc.nix: contents /sbin/init; extraCommands "mkdir -p root etc/systemd/network".
  'proxmox-lxc': [copyFromToplevel('init', 'sbin/init'), 'mkdir -p root etc/systemd/network'].join('\n'),
  // make-system-tarball with the toplevel alone.
  plain: ':',
};

// Tarballs are the same on every architecture: aarch64's toplevel gets the same layout.
for (const arch of ['amd64', 'arm64'] as const) for (const preset of ['lxc', 'proxmox-lxc', 'plain']) {
  test(`${arch} ${preset} tarball: byte-identical to GNU tar over the tree nixpkgs' module builds`, async () => {
    const f = await nixosFixture(arch);
    const name = `${arch}-${preset}`;
    const ours = await build(`${name}.tar`, presetConfig(preset === 'plain' ? undefined : preset, f));
    const ref = await referenceSystemTarball(f.storeRoot, f.paths.plain, join(tmp, `${name}-ref`), join(tmp, `${name}-ref.tar`), REFERENCE[preset]!);
    const [a, b] = await Promise.all([readFile(ours), readFile(ref)]);
    assert.equal(a.length, b.length, 'tar sizes differ');
    assert.ok(a.equals(b), 'tar bytes differ from GNU tar');
  });
}

test('lxc tarball: GNU tar lists /sbin/init, os-release and the empty mount points as root-owned; the store loads into real Nix', async () => {
  const ours = await build('lxc-check.tar.xz', toplevelConfig(fx, fx.paths.plain, 'tarball', { preset: 'lxc' }));
  assert.match(ours, /\.tar\.xz$/);
  const listing = await sh('tar', ['-tvJf', ours, '--numeric-owner']);
  for (const dir of ['dev', 'proc', 'sys']) assert.match(listing, new RegExp(`^drwxr-xr-x 0/0 +0 1970-01-01 00:00 ${dir}/$`, 'm'));
  assert.match(listing, /^-r-xr-xr-x 0\/0 +\d+ 1970-01-01 00:00 sbin\/init$/m);
  assert.match(listing, /^-r--r--r-- 0\/0 +\d+ 1970-01-01 00:00 etc\/os-release$/m);
  const root = join(tmp, 'lxc-root');
  await sh('mkdir', ['-p', root]);
  await sh('tar', ['-xJpf', ours, '-C', root]);
  assert.equal(await readFile(join(root, 'sbin/init'), 'utf8'), await readFile(join(fx.storeRoot, fx.paths.plain, 'init'), 'utf8'));
  assert.match(await readFile(join(root, 'etc/os-release'), 'utf8'), /^ID=nixos$/m);
  await nix('nix-store', ['--store', root, '--load-db'], await readFile(join(root, 'nix-path-registration')));
  await nix('nix-store', ['--store', root, '--verify', '--check-contents']);
  const closure = (await nix('nix-store', ['--store', root, '-qR', fx.paths.plain])).trim().split('\n').sort();
  const expected = (await nix('nix-store', ['--store', fx.storeRoot, '-qR', fx.paths.plain])).trim().split('\n').sort();
  assert.deepEqual(closure, expected);
});

test('presets are refused, naming the field, where they do not apply', async () => {
  const cases: [object, RegExp][] = [
    [{ ...presetConfig('lxc'), toplevel: undefined, storeContents: [{ object: fx.paths.plain }] }, /preset: applies to a tarball of a "toplevel"/],
    [{ ...toplevelConfig(fx, fx.paths.live, 'iso'), preset: 'lxc' }, /preset: applies to a tarball of a "toplevel"/],
    [presetConfig('docker'), /preset: must be one of "lxc", "proxmox-lxc"/],
    [{ ...presetConfig('lxc'), contents: [{ text: 'x', target: '/sbin/init' }] }, /contents\[0\]\.target: "\/sbin\/init" is where the lxc preset puts \/nix\/store\/[0-9a-z]{32}-nixos-system-plain-24\.05\/init/],
    [toplevelConfig(fx, fx.paths.plain, 'squashfs'), /toplevel: builds "format": "iso" \(a live ISO\), "disk" \(a disk image\) or "tarball"/],
  ];
  for (const [i, [cfg, message]] of cases.entries()) {
    const r = await cli(`bad-${i}.tar`, cfg);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, message);
  }
});
