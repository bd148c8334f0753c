import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSource } from '../core/io/data-source.ts';
import { textToBinary } from '../core/io/binary-string.ts';
import { addPath, lookup, newDir, type ImageDir, type ImageNode } from '../core/image/tree.ts';
import { readToplevel, ToplevelError } from '../core/nixos/toplevel.ts';
import { bootEntry, efiFileName, kernelOptions, loaderConf } from '../core/nixos/systemd-boot.ts';
import { architectureOf } from '../core/nixos/architecture.ts';

const H = (c: string) => c.repeat(32);
const TOP = `/nix/store/${H('a')}-nixos-system-demo-24.05`;
const KERNEL = `/nix/store/${H('b')}-linux-6.6.8`;
const INITRD = `/nix/store/${H('c')}-initrd-linux-6.6.8`;
const SYSTEMD = `/nix/store/${H('d')}-systemd-255.2`;

const file = (text: string): ImageNode => ({ kind: 'file', mode: 0o444, data: bytesSource(new TextEncoder().encode(text)) });
const link = (target: string): ImageNode => ({ kind: 'symlink', target: textToBinary(target) });

/** A store of the given paths, each a tree, looked up as the pipeline's store lookup does (last link kept). */
function store(paths: Record<string, ImageDir>) {
  return async (full: string): Promise<ImageNode | undefined> => {
    const base = full.slice('/nix/store/'.length).split('/')[0]!;
    const root = paths[`/nix/store/${base}`];
    const rest = full.slice(`/nix/store/${base}`.length);
    return root === undefined ? undefined : rest === '' ? root : lookup(root, textToBinary(rest));
  };
}

function toplevel(withBootspec: boolean): ImageDir {
  const t = newDir(0o555);
  addPath(t, 'kernel', link(`${KERNEL}/bzImage`));
  addPath(t, 'initrd', link(`${INITRD}/initrd`));
  addPath(t, 'init', file('#!/bin/sh\n'));
  addPath(t, 'kernel-params', file('root=LABEL=nixos-24.05-x86_64 boot.shell_on_fail loglevel=4'));
  addPath(t, 'nixos-version', file('24.05.20240101.abcdef'));
  addPath(t, 'system', file('x86_64-linux'));
  addPath(t, 'systemd', link(SYSTEMD));
  if (withBootspec) {
    addPath(t, 'boot.json', file(JSON.stringify({
      'org.nixos.bootspec.v1': {
        init: `${TOP}/init`, initrd: `${INITRD}/initrd`, kernel: `${KERNEL}/bzImage`,
        kernelParams: ['root=LABEL=nixos-24.05-x86_64', 'boot.shell_on_fail', 'loglevel=4'],
        label: 'NixOS 24.05.20240101.abcdef (Linux 6.6.8)', system: 'x86_64-linux', toplevel: TOP,
      },
      'org.nixos.specialisation.v1': {},
    })));
  }
  return t;
}

const others = () => ({ [KERNEL]: newDir(), [INITRD]: newDir(), [SYSTEMD]: newDir() });

test('bootspec and the plain files give the same boot facts', async () => {
  const a = await readToplevel(TOP, store({ [TOP]: toplevel(true), ...others() }));
  const b = await readToplevel(TOP, store({ [TOP]: toplevel(false), ...others() }));
  assert.equal(a.fromBootspec, true);
  assert.equal(b.fromBootspec, false);
  for (const t of [a, b]) {
    assert.equal(t.kernel, `${KERNEL}/bzImage`);
    assert.equal(t.initrd, `${INITRD}/initrd`);
    assert.equal(t.init, `${TOP}/init`);
    assert.equal(t.system, 'x86_64-linux');
    assert.equal(t.systemd, SYSTEMD);
    assert.deepEqual(t.kernelParams, ['root=LABEL=nixos-24.05-x86_64', 'boot.shell_on_fail', 'loglevel=4']);
  }
  assert.equal(a.label, 'NixOS 24.05.20240101.abcdef (Linux 6.6.8)');
  assert.equal(b.label, '24.05.20240101.abcdef');
});

test('a toplevel without boot files reads as missing fields, not as an error', async () => {
  const t = await readToplevel(TOP, store({ [TOP]: newDir() }));
  assert.equal(t.kernel, undefined);
  assert.equal(t.initrd, undefined);
  assert.equal(t.init, undefined);
  assert.deepEqual(t.kernelParams, []);
});

test('malformed boot.json is refused with the store path and the problem', async () => {
  const cases: [unknown, RegExp][] = [
    ['{', /boot\.json: is not JSON/],
    [{}, /has no "org\.nixos\.bootspec\.v1"/],
    [{ 'org.nixos.bootspec.v1': { kernel: '/etc/passwd' } }, /"kernel": invalid store path/],
    [{ 'org.nixos.bootspec.v1': { kernelParams: ['a b'] } }, /"kernelParams" must be a list/],
    [{ 'org.nixos.bootspec.v1': { toplevel: KERNEL } }, /"toplevel" is .*, not this store path/],
  ];
  for (const [doc, message] of cases) {
    const t = newDir();
    addPath(t, 'boot.json', file(typeof doc === 'string' ? doc : JSON.stringify(doc)));
    await assert.rejects(readToplevel(TOP, store({ [TOP]: t })), (e: Error) => e instanceof ToplevelError && e.message.startsWith(TOP) && message.test(e.message));
  }
  const t = newDir();
  addPath(t, 'kernel', link('/boot/vmlinuz'));
  await assert.rejects(readToplevel(TOP, store({ [TOP]: t })), /kernel points outside the store, to \/boot\/vmlinuz/);
});

test('systemd-boot entries and file names as the NixOS builder writes them', () => {
  assert.equal(efiFileName(`${KERNEL}/bzImage`), `${H('b')}-linux-6.6.8-bzImage.efi`);
  assert.equal(efiFileName(`/nix/store/${H('f')}-dtb`), `${H('f')}-dtb.efi`);
  assert.equal(loaderConf({ timeout: 5, defaultEntry: 'nixos-generation-1.conf', editor: true, consoleMode: 'keep' }),
    'timeout 5\ndefault nixos-generation-1.conf\nconsole-mode keep\n');
  assert.equal(
    bootEntry({ title: 'NixOS', sortKey: 'nixos', generation: 1, label: '24.05 (Linux 6.6.8)', buildDate: '1980-01-01',
      linux: '/EFI/nixos/k.efi', initrd: '/EFI/nixos/i.efi', options: kernelOptions(`${TOP}/init`, ['quiet']) }),
    `title NixOS\nsort-key nixos\nversion Generation 1 24.05 (Linux 6.6.8), built on 1980-01-01\nlinux /EFI/nixos/k.efi\ninitrd /EFI/nixos/i.efi\noptions init=${TOP}/init quiet\n`,
  );
});

test('UEFI names by architecture; unknown systems have none', () => {
  assert.equal(architectureOf('x86_64-linux')?.efiBootFile, 'BOOTX64.EFI');
  assert.equal(architectureOf('aarch64-linux')?.systemdBootFile, 'systemd-bootaa64.efi');
  assert.equal(architectureOf('aarch64-linux')?.bios, false);
  assert.equal(architectureOf('riscv64-linux')?.efiBootFile, 'BOOTRISCV64.EFI');
  assert.equal(architectureOf('mips-linux'), undefined);
  assert.equal(architectureOf('constructor'), undefined);
});
