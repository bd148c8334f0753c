import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Kernels and initramfs images built once and kept between runs. */
const CACHE = resolve('test-artifacts/boot');

function sh(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

export interface Kernel {
  arch: DebArch;
  vmlinuz: string;
  /** lib/modules/<version> of the unpacked package. */
  modules: string;
}

/** Debian's architectures the boot tests run: x86_64 PCs and aarch64 (qemu's virt machine). */
export type DebArch = 'amd64' | 'arm64';

/** Unpacks one Debian package (for `arch`, downloaded from the apt archive, not installed) under test-artifacts/boot/<name>; returns that directory. */
export function debianPackage(pkg: string, arch: DebArch, name = `${pkg}-${arch}`): string {
  const dir = join(CACHE, name);
  if (existsSync(join(dir, 'done'))) return dir;
  const work = mkdtempSync(join(tmpdir(), 'deb-'));
  try {
    sh('apt-get', ['download', `${pkg}:${arch}`], work);
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'))!;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    sh('dpkg', ['-x', join(work, deb), dir]);
    writeFileSync(join(dir, 'done'), pkg);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return dir;
}

/** Debian's newest generic 6.1 kernel for `arch` from the apt cache, unpacked under test-artifacts/boot (arm64's vmlinuz is an EFI-stub `Image`). */
export function debianKernel(arch: DebArch = 'amd64'): Kernel {
  const suffix = new RegExp(`^linux-image-6\\.1\\.0-\\d+-${arch}$`);
  const pkg = sh('apt-cache', ['pkgnames', 'linux-image-6.1.0-'])
    .split('\n')
    .filter((p) => suffix.test(p))
    .sort((a, b) => Number(a.split('-')[3]) - Number(b.split('-')[3]))
    .pop();
  if (!pkg) throw new Error(`no linux-image-6.1.0-*-${arch} in the apt cache (run scripts/setup-system.sh)`);
  const name = arch === 'amd64' ? 'kernel' : `kernel-${arch}`;
  const fresh = !existsSync(join(CACHE, name, 'done'));
  const dir = debianPackage(pkg, arch, name);
  // The package leaves modules.dep to depmod at install time.
  if (fresh) sh('depmod', ['-b', dir, readdirSync(join(dir, 'lib/modules'))[0]!]);
  const vmlinuz = readdirSync(join(dir, 'boot')).find((f) => f.startsWith('vmlinuz-'))!;
  const version = vmlinuz.slice('vmlinuz-'.length);
  return { arch, vmlinuz: join(dir, 'boot', vmlinuz), modules: join(dir, 'lib/modules', version) };
}

/**
 * Modules (with their dependencies) the kernel needs to read an ISO from a CD drive or disk: IDE on
 * qemu's PC, virtio-scsi and virtio-blk on its aarch64 virt machine; the crypto ones back sd_mod's CRCs.
 */
export const CD_MODULES: Record<DebArch, string[]> = {
  amd64: ['ata_piix', 'sr_mod', 'crct10dif_generic', 'crc64_rocksoft_generic', 'sd_mod', 'isofs'],
  arm64: ['virtio_pci', 'virtio_scsi', 'virtio_blk', 'sr_mod', 'crct10dif_generic', 'crc64_rocksoft_generic', 'sd_mod', 'isofs'],
};

/** busybox-static for the kernel's architecture: the host's on amd64, Debian's arm64 package otherwise. */
function busyboxFor(arch: DebArch): string {
  return arch === 'amd64' ? '/bin/busybox' : join(debianPackage('busybox-static', arch), 'bin/busybox');
}

export interface InitramfsOptions {
  /** Module names, loaded in this order after CD_MODULES (e.g. loop, squashfs). */
  extraModules: string[];
  /** Shell commands run by busybox sh once /proc, /sys, /dev are mounted and the modules loaded. */
  init: string;
}

/** The module files to load for `name`, dependencies first (from modules.dep). */
function moduleFiles(modules: string, name: string, seen: Set<string>): string[] {
  const base = (path: string) => path.split('/').pop()!.replace(/\.ko(\.xz|\.zst)?$/, '').replaceAll('-', '_');
  const deps = new Map<string, string[]>();
  for (const line of readFileSync(join(modules, 'modules.dep'), 'utf8').split('\n')) {
    const [path, rest] = line.split(':');
    if (path && rest !== undefined) deps.set(base(path), [path, ...rest.trim().split(/\s+/).filter(Boolean)]);
  }
  const visit = (n: string): string[] => {
    const entry = deps.get(n.replaceAll('-', '_'));
    if (entry === undefined || seen.has(entry[0]!)) return []; // built in, or already loaded
    seen.add(entry[0]!);
    const [path, ...needs] = entry;
    return [...needs.reverse().flatMap((d) => visit(base(d))), join(modules, path!)];
  };
  return visit(name);
}

/**
 * A gzip'd newc initramfs with busybox-static, the CD modules plus `extraModules`,
 * and an /init running `init`; cached by content under test-artifacts/boot.
 */
export function buildInitramfs(kernel: Kernel, opts: InitramfsOptions): string {
  const names = [...CD_MODULES[kernel.arch], ...opts.extraModules];
  const key = createHash('sha256').update(JSON.stringify([kernel.modules, names, opts.init])).digest('hex').slice(0, 16);
  const out = join(CACHE, `initramfs-${key}.gz`);
  if (existsSync(out)) return out;
  const root = mkdtempSync(join(tmpdir(), 'initramfs-'));
  try {
    for (const d of ['bin', 'lib/modules', 'proc', 'sys', 'dev', 'mnt']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync(busyboxFor(kernel.arch), join(root, 'bin/busybox'));
    const loaded: string[] = [];
    const seen = new Set<string>();
    for (const path of names.flatMap((n) => moduleFiles(kernel.modules, n, seen))) {
      const file = path.split('/').pop()!.replace(/\.(xz|zst)$/, '');
      if (path.endsWith('.xz')) writeFileSync(join(root, 'lib/modules', file), execFileSync('xz', ['-dc', path]));
      else copyFileSync(path, join(root, 'lib/modules', file));
      loaded.push(file);
    }
    const init = [
      '#!/bin/busybox sh',
      '/bin/busybox --install -s /bin',
      'mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev',
      ...loaded.map((f) => `insmod /lib/modules/${f}`),
      opts.init,
      'poweroff -f',
      '',
    ].join('\n');
    writeFileSync(join(root, 'init'), init);
    chmodSync(join(root, 'init'), 0o755);
    const list = sh('sh', ['-c', 'find . | LC_ALL=C sort'], root);
    const cpio = execFileSync('bsdtar', ['--format', 'newc', '--uid', '0', '--gid', '0', '-cf', '-', '-T', '-'], { cwd: root, input: list, maxBuffer: 256 << 20 });
    mkdirSync(CACHE, { recursive: true });
    writeFileSync(`${out}.tmp`, execFileSync('gzip', ['-9'], { input: cpio, maxBuffer: 256 << 20 }));
    renameSync(`${out}.tmp`, out);
    return out;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** x86_64 UEFI firmware (Debian's ovmf package), for `bootQemu(…, 'uefi')`. */
export const OVMF = '/usr/share/ovmf/OVMF.fd';

/** Boots qemu (TCG) from `iso` as a CD or as an IDE disk, under SeaBIOS or OVMF; resolves with the serial output. */
export function bootQemu(iso: string, as: 'cdrom' | 'disk', timeoutSeconds = 150, firmware: 'bios' | 'uefi' = 'bios'): Promise<string> {
  const drive = as === 'cdrom' ? ['-cdrom', iso] : ['-drive', `file=${iso},format=raw,if=ide,snapshot=on`];
  return runQemu([...(firmware === 'uefi' ? ['-bios', OVMF] : []), ...drive], timeoutSeconds);
}

/** Boots qemu (TCG) under OVMF (UEFI) from a disk image in qemu format `format` (raw, qcow2, vpc, vmdk, vdi); resolves with the serial output. */
export function bootUefiDisk(image: string, format: string, timeoutSeconds = 150): Promise<string> {
  return runQemu(['-bios', OVMF, '-drive', `file=${image},format=${format},if=ide,snapshot=on`], timeoutSeconds);
}

/**
 * Boots qemu (TCG) straight into `vmlinuz` with `initrd`, as a bootloader (or iPXE) would, with
 * `disk` (raw; the guest's writes land in it) as the first IDE disk if given; resolves with the serial output.
 */
export function bootKernel(vmlinuz: string, initrd: string, cmdline: string, timeoutSeconds = 150, disk?: string): Promise<string> {
  const drive = disk === undefined ? [] : ['-drive', `file=${disk},format=raw,if=ide`];
  return runQemu(['-kernel', vmlinuz, '-initrd', initrd, '-append', `console=ttyS0 panic=-1 no_timer_check ${cmdline}`, ...drive], timeoutSeconds);
}

/** qemu's PC (SeaBIOS unless told otherwise), 512 MiB, serial console on stdio. */
const PC = ['qemu-system-x86_64', '-accel', 'tcg', '-display', 'none', '-serial', 'stdio', '-m', '512', '-no-reboot'];
/** qemu's aarch64 virt machine, as RECIPES.md boots it; firmware is added by the caller. */
const VIRT = ['qemu-system-aarch64', '-M', 'virt', '-cpu', 'cortex-a57', '-m', '1024', '-accel', 'tcg', '-display', 'none', '-serial', 'stdio', '-no-reboot', '-nic', 'none'];
/** aarch64 UEFI firmware (Debian's qemu-efi-aarch64): code, and variables a boot may write (copied per boot). */
export const AAVMF = { code: '/usr/share/AAVMF/AAVMF_CODE.fd', vars: '/usr/share/AAVMF/AAVMF_VARS.fd' };

/** Boots qemu's aarch64 virt machine under AAVMF from `image` as a virtio-scsi CD or a virtio-blk disk (in qemu's `format`); resolves with the serial output. */
export async function bootAarch64(image: string, as: 'cdrom' | 'disk', timeoutSeconds = 240, format = 'raw'): Promise<string> {
  const vars = join(mkdtempSync(join(tmpdir(), 'aavmf-')), 'vars.fd');
  copyFileSync(AAVMF.vars, vars);
  const media = as === 'cdrom' ? ['-drive', `if=none,id=d,file=${image},format=raw,media=cdrom,snapshot=on`, '-device', 'virtio-scsi-pci', '-device', 'scsi-cd,drive=d']
    : ['-drive', `if=none,id=d,file=${image},format=${format},media=disk,snapshot=on`, '-device', 'virtio-blk-pci,drive=d'];
  const firmware = ['-drive', `if=pflash,format=raw,readonly=on,file=${AAVMF.code}`, '-drive', `if=pflash,format=raw,file=${vars}`];
  try {
    return await runQemu([...firmware, ...media], timeoutSeconds, VIRT);
  } finally {
    rmSync(join(vars, '..'), { recursive: true, force: true });
  }
}

/** Boots the aarch64 virt machine straight into `image` (an arm64 Image) with `initrd`, as iPXE would; resolves with the serial output. */
export function bootKernelAarch64(image: string, initrd: string, cmdline: string, timeoutSeconds = 240): Promise<string> {
  return runQemu(['-kernel', image, '-initrd', initrd, '-append', `console=ttyAMA0 panic=-1 ${cmdline}`], timeoutSeconds, VIRT);
}

function runQemu(boot: string[], timeoutSeconds: number, machine = PC): Promise<string> {
  const args = [String(timeoutSeconds), ...machine, ...boot];
  return new Promise((done, fail) => {
    const p = spawn('timeout', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    p.stderr.on('data', (d: Buffer) => (out += d.toString('latin1')));
    p.on('error', fail);
    p.on('close', () => done(out));
  });
}
