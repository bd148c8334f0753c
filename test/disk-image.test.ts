// Disk images from a toplevel ("format": "disk"), for x86_64 and aarch64 from one suite: the CLI's
// image of the NixOS-like fixture's disk toplevel, judged by sgdisk, sfdisk, parted, fdisk,
// fsck.fat, mtools, e2fsck, debugfs, real Nix reading the image's own database, qemu-img, and by
// booting it under OVMF (x86_64) or AAVMF on qemu's virt machine (aarch64) to the stage-1 marker.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DISK_MARKER, nixosFixture, toplevelConfig, type NixosFixture } from './helpers/nixos-fixture.ts';
import { bootAarch64, bootUefiDisk, type DebArch } from './helpers/boot.ts';
import { runCli, sh } from './helpers/cli.ts';
import { nix } from './helpers/nix.ts';

/** What differs by architecture: UEFI's file names, the kernel's, and the machine that boots the disk. */
interface Arch {
  efi: 'x64' | 'aa64';
  kernelFile: string;
  boot(image: string, qemuFormat: string): Promise<string>;
  /** Containers booted in their own format (each boot takes 15-30 s; the rest are compared with qemu-img). */
  bootFormats: readonly string[];
}
const ARCHES: Record<DebArch, Arch> = {
  amd64: { efi: 'x64', kernelFile: 'bzImage', boot: (img, f) => bootUefiDisk(img, f), bootFormats: ['qcow2', 'vhd', 'vhd-dynamic', 'vmdk', 'vdi'] },
  arm64: { efi: 'aa64', kernelFile: 'Image', boot: (img, f) => bootAarch64(img, 'disk', 240, f), bootFormats: ['qcow2'] },
};

let fx: NixosFixture;
let tmp: string;
let raw: string;

const cacheDir = () => join(tmp, 'nar-cache');

async function build(name: string, extra: Record<string, unknown>, toplevel = fx.paths.disk) {
  const cfg = join(tmp, `${name}.json`);
  await writeFile(cfg, JSON.stringify(toplevelConfig(fx, toplevel, 'disk', { bootTimeout: 0, ...extra })));
  const out = join(tmp, name);
  return { out, r: await runCli(['build', cfg, '--output', out, '--cache-dir', cacheDir(), '--quiet']) };
}

interface Part {
  start: number;
  size: number;
  type: string;
  uuid: string;
  name: string;
}

async function partitions(img: string): Promise<Part[]> {
  return (JSON.parse(await sh('sfdisk', ['--json', img])) as { partitiontable: { partitions: Part[] } }).partitiontable.partitions;
}

async function extract(img: string, p: Part, out: string): Promise<string> {
  await sh('dd', [`if=${img}`, `of=${out}`, 'bs=512', `skip=${p.start}`, `count=${p.size}`, 'conv=sparse', 'status=none']);
  return out;
}

for (const [debArch, arch] of Object.entries(ARCHES) as [DebArch, Arch][]) {
  describe(debArch, () => {
    before(async () => {
      fx = await nixosFixture(debArch);
      tmp = await mkdtemp(join(tmpdir(), `nix-imager-disk-${debArch}-`));
      const { out, r } = await build('nixos.img', {});
      assert.equal(r.code, 0, r.stderr);
      raw = out;
    });
    after(() => rm(tmp, { recursive: true, force: true }));

    test('raw: the GPT of make-disk-image efi (nixpkgs GUIDs), judged by sgdisk, sfdisk, parted and fdisk', async () => {
      assert.match(await sh('sgdisk', ['-v', raw]), /No problems found/);
      const [esp, root] = await partitions(raw);
      assert.deepEqual([esp!.start, esp!.type, esp!.uuid, esp!.name], [16384, 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', '1C06F03B-704E-4657-B9CD-681A087A2FDC', 'ESP']);
      assert.deepEqual([root!.start, root!.type, root!.uuid, root!.name], [esp!.start + esp!.size, '0FC63DAF-8483-4772-8E79-3D69D8477DE4', 'F222513B-DED1-49FA-B591-20CE86A2FE7F', 'primary']);
      assert.match(await sh('parted', ['-s', raw, 'print']), /1\s+8389kB\s+256MB\s+247MB\s+fat32\s+ESP\s+boot, esp/);
      assert.match(await sh('fdisk', ['-l', raw]), /EFI System/);
      // The "auto" size: a whole number of MiB, holes for the unused space.
      const s = await stat(raw);
      assert.equal(s.size % (1 << 20), 0);
      assert.ok(s.blocks * 512 < s.size / 4, `the raw image is sparse (${s.blocks * 512} of ${s.size} bytes allocated)`);
    });

    test('raw: the ESP is clean FAT32 labelled ESP with what systemd-boot-builder.py leaves', async () => {
      const [esp] = await partitions(raw);
      const img = await extract(raw, esp!, join(tmp, 'esp.img'));
      const fsck = await sh('fsck.fat', ['-nv', img]);
      assert.match(fsck, /2 FATs, 32 bit entries/);
      assert.match(fsck, new RegExp(`${esp!.start} hidden sectors`));
      assert.match(await sh('mlabel', ['-s', '-i', img, '::']), /ESP/);
      const files = (await sh('mdir', ['-/', '-b', '-i', img, '::'])).split('\n').filter((l) => l && !l.endsWith('/')).sort();
      const kernel = `${fx.paths.kernel.slice('/nix/store/'.length)}-${arch.kernelFile}.efi`;
      const initrd = `${fx.paths.initrdDisk.slice('/nix/store/'.length)}-initrd.efi`;
      assert.deepEqual(files, [
        `::/EFI/BOOT/BOOT${arch.efi.toUpperCase()}.EFI`,
        '::/EFI/nixos/' + initrd,
        '::/EFI/nixos/' + kernel,
        `::/EFI/systemd/systemd-boot${arch.efi}.efi`,
        '::/loader/entries/nixos-generation-1.conf',
        '::/loader/loader.conf',
      ].sort());
      const entry = await sh('mtype', ['-i', img, '::/loader/entries/nixos-generation-1.conf']);
      assert.match(entry, new RegExp(`^linux /EFI/nixos/${kernel}$`, 'm'));
      assert.match(entry, new RegExp(`^initrd /EFI/nixos/${initrd}$`, 'm'));
      assert.match(entry, new RegExp(`^options init=${fx.paths.disk}/init `, 'm'));
      const systemdBoot = await readFile(`${fx.storeRoot}${fx.paths.systemd}/lib/systemd/boot/efi/systemd-boot${arch.efi}.efi`);
      for (const f of [`EFI/BOOT/BOOT${arch.efi.toUpperCase()}.EFI`, `EFI/systemd/systemd-boot${arch.efi}.efi`]) {
        await sh('mcopy', ['-n', '-i', img, `::/${f}`, join(tmp, 'copied.efi')]);
        assert.ok(systemdBoot.equals(await readFile(join(tmp, 'copied.efi'))), `${f} is systemd-boot`);
      }
    });

    test('raw: the root is clean ext4 labelled nixos whose own database real Nix verifies, closure and profile in place', async () => {
      const [, root] = await partitions(raw);
      const img = await extract(raw, root!, join(tmp, 'root.img'));
      await sh('e2fsck', ['-fn', img]);
      assert.match(await sh('dumpe2fs', ['-h', img]), /Filesystem volume name:\s+nixos\n[\s\S]*Filesystem UUID:\s+f222513b-ded1-49fa-b591-20ce86a2fe7f/);
      const dir = join(tmp, 'root');
      await sh('mkdir', [dir]);
      await sh('debugfs', ['-R', `rdump / ${dir}`, img]);
      assert.equal(await readFile(join(dir, 'etc/NIXOS'), 'utf8'), '');
      await nix('nix-store', ['--store', dir, '--verify', '--check-contents']);
      const closure = (await nix('nix-store', ['--store', dir, '-qR', fx.paths.disk])).trim().split('\n').sort();
      const expected = (await nix('nix-store', ['--store', fx.storeRoot, '-qR', fx.paths.disk])).trim().split('\n').sort();
      assert.deepEqual(closure, expected);
      assert.equal(await sh('readlink', [join(dir, 'nix/var/nix/profiles/system')]), 'system-1-link\n');
      assert.equal(await sh('readlink', [join(dir, 'nix/var/nix/profiles/system-1-link')]), `${fx.paths.disk}\n`);
      for (const d of ['boot', 'etc/nixos', 'nix/var/nix/gcroots']) assert.ok(existsSync(join(dir, d)), d);
    });

    test('raw: boots under UEFI (OVMF or AAVMF, TCG) through systemd-boot to the stage-1 marker', async () => {
      const out = await arch.boot(raw, 'raw');
      assert.ok(out.includes(DISK_MARKER), out.slice(-3000));
    });

    for (const [diskFormat, qemu] of [
      ['qcow2', 'qcow2'],
      ['vhd', 'vpc'],
      ['vhd-dynamic', 'vpc'],
      ['vmdk', 'vmdk'],
      ['vdi', 'vdi'],
    ] as const) {
      test(`${diskFormat}: qemu-img reads it as the raw image${arch.bootFormats.includes(diskFormat) ? ', and it boots under UEFI in its own format' : ''}`, async () => {
        const { out, r } = await build(`nixos-${diskFormat}`, { diskFormat });
        assert.equal(r.code, 0, r.stderr);
        const info = JSON.parse(await sh('qemu-img', ['info', '--output=json', '-f', qemu, out])) as { 'virtual-size': number };
        assert.equal(info['virtual-size'], (await stat(raw)).size);
        if (qemu !== 'vpc') await sh('qemu-img', ['check', '-f', qemu, out]);
        assert.match(await sh('qemu-img', ['compare', '-f', 'raw', raw, '-F', qemu, out]), /Images are identical/);
        if (arch.bootFormats.includes(diskFormat)) {
          const boot = await arch.boot(out, qemu);
          assert.ok(boot.includes(DISK_MARKER), boot.slice(-3000));
        }
        await rm(out);
      });
    }
  });
}

// What does not depend on the architecture is checked once, on x86_64.
describe('amd64: sizes and refusals', () => {
  before(async () => {
    fx = await nixosFixture('amd64');
    tmp = await mkdtemp(join(tmpdir(), 'nix-imager-disk-'));
    const { out, r } = await build('nixos.img', {});
    assert.equal(r.code, 0, r.stderr);
    raw = out;
  });
  after(() => rm(tmp, { recursive: true, force: true }));

    test('the same inputs give the same bytes; zstd compression gives the raw image compressed', async () => {
      const again = await build('again.img', {});
      assert.equal(again.r.code, 0, again.r.stderr);
      await sh('cmp', [raw, again.out]);
      const z = await build('nixos.img.zst', { compression: 'zstd' });
      assert.equal(z.r.code, 0, z.r.stderr);
      await sh('sh', ['-c', `zstd -dc "$1" | cmp - "$2"`, 'sh', z.out, raw]);
    });

    test('bad input: one line naming the problem, exit 1, nothing written', async () => {
      const cases: [string, Record<string, unknown>, RegExp, string?][] = [
        ['small', { diskSize: 252 * 2 ** 20 }, /diskSize: 264241152 bytes is too small for the root file system: the disk needs at least \d+ bytes/],
        ['format', { diskFormat: 'vmdk-flat' }, /diskFormat: must be one of "raw", "qcow2"/],
        ['vhd-size', { diskFormat: 'vhd', diskSize: 2 ** 30 + 512 }, /diskSize: 1073742336 is not a whole number of MiB, which a fixed VHD needs/],
        ['bootsize', { bootSize: 'lots' }, /bootSize: "lots" is not a size/],
        ['live', {}, /cannot boot from a disk image: its kernel parameters look for root=LABEL=nixos-fixture-24.05-x86_64/, fx.paths.live],
        ['grub', {}, /cannot boot from a disk image: .*no systemd link, so no systemd-boot/, fx.paths.biosOnly],
      ];
      for (const [name, extra, message, toplevel] of cases) {
        const { out, r } = await build(`bad-${name}.img`, extra, toplevel);
        assert.equal(r.code, 1, `${name}: exit ${r.code}: ${r.stderr}`);
        assert.match(r.stderr, message, name);
        assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line: ${r.stderr}`);
        assert.ok(!existsSync(out), `${name}: nothing written`);
      }
    });

    test('diskSize, bootSize and additionalSpace place the partitions as make-disk-image would', async () => {
      const fixed = await build('fixed.img', { diskSize: 2 ** 30, bootSize: '300MiB' });
      assert.equal(fixed.r.code, 0, fixed.r.stderr);
      assert.equal((await stat(fixed.out)).size, 2 ** 30);
      const [esp, root] = await partitions(fixed.out);
      assert.deepEqual([esp!.start, esp!.start + esp!.size, root!.start + root!.size], [16384, 300 * 2048, 1023 * 2048]);
      await rm(fixed.out);
      // "auto": 100 MiB more additionalSpace gives a disk 100 MiB larger.
      const more = await build('more.img', { additionalSpace: '612M' });
      assert.equal(more.r.code, 0, more.r.stderr);
      assert.equal((await stat(more.out)).size - (await stat(raw)).size, 100 * 2 ** 20);
      await rm(more.out);
    });

});
