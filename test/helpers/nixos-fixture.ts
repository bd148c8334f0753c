// The NixOS-like fixture (test/fixtures/nixos/): toplevels whose kernel is Debian's and whose
// initrds play NixOS's stage 1, built by real Nix into a signed binary cache, once per version
// of the sources and of the kernel, under test-artifacts/nixos-fixture/<hash>/.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { buildInitramfs, debianKernel, debianPackage, type DebArch } from './boot.ts';
import { run, ROOT } from './cli.ts';
import { FixtureBuildError, sourceHash, withLock } from './fixtures.ts';

export interface NixosFixture {
  dir: string;
  paths: {
    /** An ISO-configured toplevel with boot.json, syslinux in its closure and a systemd link. */
    live: string;
    /** The same without boot.json. */
    plain: string;
    /** A disk-configured toplevel: its stage 1 mounts LABEL=nixos (ext4) and LABEL=ESP (vfat). */
    disk: string;
    /** Live toplevels without syslinux in the closure, and without a systemd link. */
    uefiOnly: string;
    biosOnly: string;
    /** Unsuitable: no kernel; a root=LABEL= too long for a volume ID; neither boot loader. */
    noKernel: string;
    longLabel: string;
    noBootLoader: string;
    kernel: string;
    initrd: string;
    initrdDisk: string;
    syslinux: string;
    systemd: string;
  };
  /** A zstd binary cache, signed with `publicKey`, of every toplevel's closure. */
  cache: string;
  publicKey: string;
  /** The chroot store Nix built into: store paths live under `storeRoot + path`. */
  storeRoot: string;
  /** The volume ID the live toplevels' root=LABEL= names. */
  liveLabel: string;
}

const SOURCES = join(ROOT, 'test/fixtures/nixos');
const STAMP = 'complete';
/** What the live stage 1 needs beyond the CD modules, and what the disk one needs (ESP, ext4 root; IDE or virtio). */
const LIVE_MODULES = ['loop', 'squashfs'];
const DISK_MODULES = ['crc32c_generic', 'ext4', 'nls_cp437', 'nls_ascii', 'vfat', 'virtio_pci', 'virtio_blk'];

/** Marker lines the stage-1 stand-ins print when they found everything. */
export const LIVE_MARKER = 'NIXOS-STAGE1-OK';
export const DISK_MARKER = 'NIXOS-DISK-STAGE1-OK';

/** The NixOS system name of each Debian architecture. */
const SYSTEM: Record<DebArch, string> = { amd64: 'x86_64-linux', arm64: 'aarch64-linux' };

async function initrds(arch: DebArch): Promise<{ version: string; bzImage: string; live: string; disk: string }> {
  const kernel = debianKernel(arch);
  const script = (name: string) => readFile(join(SOURCES, name), 'utf8');
  return {
    version: basename(kernel.modules),
    bzImage: kernel.vmlinuz,
    live: buildInitramfs(kernel, { extraModules: LIVE_MODULES, init: await script('stage-1-live.sh') }),
    disk: buildInitramfs(kernel, { extraModules: DISK_MODULES, init: await script('stage-1-disk.sh') }),
  };
}

const cached = new Map<DebArch, Promise<NixosFixture>>();

/**
 * The NixOS-like fixture for `arch`, built on first use (about a minute: mostly the kernel download
 * and Nix). On arm64 the toplevels are aarch64-linux: an `Image` kernel, systemd-bootaa64.efi, and
 * no syslinux in any closure (so `biosOnly` and `uefiOnly` are alike there).
 */
export function nixosFixture(arch: DebArch = 'amd64'): Promise<NixosFixture> {
  let fixture = cached.get(arch);
  if (fixture === undefined) cached.set(arch, (fixture = buildFixture(arch)));
  return fixture;
}

async function buildFixture(arch: DebArch): Promise<NixosFixture> {
  const inputs = await initrds(arch);
  const systemdBoot = arch === 'amd64' ? [] : [SYSTEM[arch], join(debianPackage('systemd-boot-efi', arch), 'usr/lib/systemd/boot/efi/systemd-bootaa64.efi')];
  const shared = await sourceHash(join(ROOT, 'test/fixtures'));
  const dir = join(ROOT, 'test-artifacts/nixos-fixture', await sourceHash(SOURCES, JSON.stringify({ shared, ...inputs, systemdBoot })));
  const complete = () => existsSync(join(dir, STAMP));
  if (!complete()) {
    await mkdir(dir, { recursive: true });
    await withLock(`${dir}.lock`, complete, async () => {
      const r = await run('bash', [join(SOURCES, 'make-nixos-cache.sh'), dir, inputs.version, inputs.bzImage, inputs.live, inputs.disk, ...systemdBoot]);
      await writeFile(join(dir, 'make-nixos-cache.log'), r.stdout + r.stderr);
      if (r.code !== 0) throw new FixtureBuildError(`test/fixtures/nixos/make-nixos-cache.sh exited ${r.code}:\n${r.stderr.slice(-4000)}`);
      await writeFile(join(dir, STAMP), new Date().toISOString());
    });
  }
  return { dir, ...(JSON.parse(await readFile(join(dir, 'nixos-fixture.json'), 'utf8')) as Omit<NixosFixture, 'dir'>) };
}

/** A config over the fixture's cache building `format` from `toplevel`, with `extra` on top. */
export function toplevelConfig(fx: NixosFixture, toplevel: string, format: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { format, toplevel, substituters: [fx.cache], trustedPublicKeys: [fx.publicKey], ...extra };
}
