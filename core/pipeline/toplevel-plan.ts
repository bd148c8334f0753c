// Images from a NixOS toplevel alone (a live ISO, netboot files): reads the toplevel's own NAR
// (nothing else is downloaded until it proves bootable), finds the boot loaders in its closure,
// and turns the config into an ordinary one: the closure in /nix-store.squashfs, the kernel,
// initrd, boot menus and boot images as contents.
import type { BinaryCache } from '../cache/binary-cache.ts';
import { resolvePaths, type ResolveOptions, type ResolvedPath } from '../cache/resolve.ts';
import { NarListing } from '../image/store-tree.ts';
import { fatImage } from '../fat/fat-writer.ts';
import { addPath, newDir, type ImageNode } from '../image/tree.ts';
import { binaryToText, textToBinary } from '../io/binary-string.ts';
import { bytesSource } from '../io/data-source.ts';
import { denseChunks } from '../io/sparse.ts';
import {
  bootableSystem, efiImageFiles, isoKernelPath, ISO_INITRD_PATH, isolinuxCfg, kernelFileName, liveSystem, netbootIpxe,
  type BootableSystem, type EfiFile, type LiveSystem,
} from '../nixos/live-iso.ts';
import { expectSystem, readToplevel, ToplevelError } from '../nixos/toplevel.ts';
import { DEFAULT_STORE_DIR, storePathOf } from '../nix/store-path.ts';
import type { NarCache } from '../store/nar-cache.ts';
import { fetchNar, type FetchNarOptions } from '../store/nar-fetch.ts';
import type { BuildConfig, Content, IsoBuildConfig, IsoConfig, NetbootConfig } from './config.ts';
import { lookupStoreNode, StoreLookupError } from './store-lookup.ts';

export interface ToplevelPlan<C extends BuildConfig = IsoBuildConfig | NetbootConfig> {
  /** The config with the toplevel turned into contents (and ISO options). */
  config: C;
  /** The FAT image El Torito's EFI entry boots (systemd-boot, its entries, kernel and initrd), when UEFI can boot. */
  efiImage: { target: string; files: EfiFile[] } | undefined;
  /** What the ISO cannot do and why (e.g. no syslinux in the closure: no BIOS boot). */
  notes: string[];
}

export interface Sources {
  caches: BinaryCache[];
  resolveOpts: ResolveOptions;
  narCache: NarCache;
  /** The platform's hash and codecs, and the build's signal. */
  narOptions: FetchNarOptions;
}

const SYSLINUX_DIR = 'share/syslinux';
const SYSTEMD_BOOT_DIR = 'lib/systemd/boot/efi';

/** Plans the image `config.format` of its toplevel `top`. */
export function planToplevelImage(config: IsoBuildConfig | NetbootConfig, top: string, sources: Sources): Promise<ToplevelPlan> {
  return config.format === 'netboot' ? planNetboot(config, top, sources) : planLiveIso(config, top, sources);
}

/** The toplevel's closure (narinfos only) and its boot facts (from its own NAR); a toplevel for another system than the config's is refused. */
async function readClosureToplevel(top: string, system: string | null, sources: Sources) {
  const closure = await resolvePaths([top], sources.caches, { ...sources.resolveOpts, closure: true });
  const store = storeReader(closure, sources);
  const t = await readToplevel(top, store.lookupIn([top]));
  expectSystem(t, system);
  return { closure, store, toplevel: t };
}

function checkInClosure(s: BootableSystem, closure: Map<string, ResolvedPath>): void {
  for (const [what, file] of [['kernel', s.kernel], ['initrd', s.initrd]] as const) {
    if (!closure.has(storePathOf(file).storePath)) throw new ToplevelError(s.storePath, `its ${what} ${file} is not in its closure`);
  }
}

/** netboot.nix's files: the kernel, the system initrd (the squashfs is appended when written) and netboot.ipxe. */
async function planNetboot(config: NetbootConfig, top: string, sources: Sources): Promise<ToplevelPlan<NetbootConfig>> {
  const { closure, toplevel } = await readClosureToplevel(top, config.system, sources);
  const system = bootableSystem(toplevel, 'the network');
  checkInClosure(system, closure);
  const contents: Content[] = [
    storeFile(system.kernel, `/${kernelFileName(system)}`),
    storeFile(system.initrd, `/${NETBOOT_INITRD}`),
    { source: { kind: 'text', text: netbootIpxe(system) }, target: '/netboot.ipxe' },
  ];
  return { config: { ...config, contents: [...config.contents, ...contents] }, efiImage: undefined, notes: [] };
}

/** The name of netboot's initrd in the output: the system initrd, then a cpio with /nix-store.squashfs. */
export const NETBOOT_INITRD = 'initrd';

/** Plans the live ISO of `top`; refuses, naming the toplevel, one that cannot boot from an ISO. */
async function planLiveIso(config: IsoBuildConfig, top: string, sources: Sources): Promise<ToplevelPlan<IsoBuildConfig>> {
  const iso = config.iso;
  const { closure, store, toplevel: t } = await readClosureToplevel(top, config.system, sources);
  const system = liveSystem(t, iso.volumeID ?? undefined);
  checkInClosure(system, closure);

  // Decide from names and links first, so a toplevel nothing could boot is refused before any download.
  const wantBios = iso.bootImage !== null && system.architecture.bios;
  const syslinuxCandidates = wantBios ? [...closure.keys()].filter((p) => /-syslinux-/.test(p.slice(p.lastIndexOf('/')))) : [];
  if (syslinuxCandidates.length === 0 && t.systemd === undefined) {
    throw new ToplevelError(top, 'cannot boot from an ISO: neither syslinux in its closure (for BIOS) nor a systemd link (for systemd-boot under UEFI)');
  }
  const notes: string[] = [];
  const syslinux = await findSyslinux(syslinuxCandidates, store);
  if (wantBios && syslinux === undefined) notes.push(`${top}: no BIOS boot: no store path in its closure has ${SYSLINUX_DIR}/isolinux.bin (add syslinux to the system)`);
  if (iso.bootImage !== null && !system.architecture.bios) notes.push(`${top}: no BIOS boot: ${system.architecture.system} machines have no PC BIOS`);
  const systemdBoot = iso.efiBootImage !== null ? await findSystemdBoot(t.systemd, system, closure, store) : undefined;
  if (iso.efiBootImage !== null && systemdBoot === undefined) {
    notes.push(`${top}: no UEFI boot: ${t.systemd === undefined ? 'it has no systemd link' : `${t.systemd} has no ${SYSTEMD_BOOT_DIR}/${system.architecture.systemdBootFile}`} (systemd-boot)`);
  }
  if (syslinux === undefined && systemdBoot === undefined) throw new ToplevelError(top, `cannot boot from an ISO: ${notes.map((n) => n.slice(top.length + 2)).join('; ')}`);

  const efiImage = systemdBoot === undefined ? undefined : { target: iso.efiBootImage!, files: efiImageFiles(system, systemdBoot, iso.bootTimeout, config.sourceDateEpoch) };
  return {
    config: { ...config, contents: [...config.contents, ...isoContents(system, config, syslinux)], iso: isoOptions(iso, system, syslinux, efiImage !== undefined) },
    efiImage,
    notes,
  };
}

/** The removable-media loader for `s`: systemd-boot from the toplevel's systemd, when that is in the closure. */
async function findSystemdBoot(systemd: string | undefined, s: LiveSystem, closure: Map<string, ResolvedPath>, store: StoreReader): Promise<string | undefined> {
  if (systemd === undefined || !closure.has(systemd)) return undefined;
  const file = `${systemd}/${SYSTEMD_BOOT_DIR}/${s.architecture.systemdBootFile}`;
  return (await store.lookupIn([systemd])(file))?.kind === 'file' ? file : undefined;
}

/** nixpkgs' efi.img: mkfs.vfat --invariant -i 12345678 -n EFIBOOT, sized to its files plus slack. */
const EFI_LABEL = 'EFIBOOT';
const EFI_VOLUME_ID = 0x12345678;

/** The EFI image as a file of the ISO; `storeFile` reads a file of the closure. */
export async function efiImageNode(files: EfiFile[], epoch: number, storeFile: (path: string) => Promise<ImageNode>): Promise<ImageNode> {
  const root = newDir(0o755);
  for (const f of files) {
    const node = 'text' in f ? { kind: 'file' as const, mode: 0o444, data: bytesSource(new TextEncoder().encode(f.text)) } : await storeFile(f.storeFile);
    addPath(root, textToBinary(f.path), node);
  }
  const fat = fatImage(root, { mtime: epoch, label: EFI_LABEL, volumeId: EFI_VOLUME_ID });
  return { kind: 'file', mode: 0o444, data: { size: fat.size, stream: () => denseChunks(fat) } };
}

interface Syslinux {
  storePath: string;
  /** Names of the files in share/syslinux, to copy to /isolinux/. */
  files: string[];
}

async function findSyslinux(candidates: string[], store: StoreReader): Promise<Syslinux | undefined> {
  for (const p of candidates) {
    const dir = await store.lookupIn([p])(`${p}/${SYSLINUX_DIR}`);
    if (dir?.kind !== 'dir' || dir.entries.get('isolinux.bin')?.kind !== 'file') continue;
    const files = [...dir.entries].filter(([, n]) => n.kind === 'file').map(([name]) => binaryToText(name));
    return { storePath: p, files: files.sort() };
  }
  return undefined;
}

const storeFile = (path: string, target: string): Content => ({ source: { kind: 'store', path }, target });

function isoContents(s: LiveSystem, config: IsoBuildConfig, syslinux: Syslinux | undefined): Content[] {
  const out: Content[] = [
    storeFile(s.kernel, isoKernelPath(s)),
    storeFile(s.initrd, ISO_INITRD_PATH),
    { source: { kind: 'text', text: s.label }, target: '/version.txt' },
  ];
  if (syslinux !== undefined) {
    for (const f of syslinux.files) out.push(storeFile(`${syslinux.storePath}/${SYSLINUX_DIR}/${f}`, `/isolinux/${f}`));
    out.push({ source: { kind: 'text', text: isolinuxCfg(s, config.iso.bootTimeout) }, target: '/isolinux/isolinux.cfg' });
  }
  return out;
}

function isoOptions(iso: IsoConfig, s: LiveSystem, syslinux: Syslinux | undefined, uefi: boolean): IsoConfig {
  const mbr = syslinux !== undefined && iso.usbBootable && syslinux.files.includes('isohdpfx.bin');
  return {
    ...iso,
    volumeID: s.volumeID,
    bootImage: syslinux !== undefined ? '/isolinux/isolinux.bin' : null,
    isohybridMbrImage: mbr ? { kind: 'store', path: `${syslinux.storePath}/${SYSLINUX_DIR}/isohdpfx.bin` } : null,
    efiBootImage: uefi ? iso.efiBootImage : null,
    squashfsContents: [s.storePath, ...iso.squashfsContents.filter((p) => p !== s.storePath)],
  };
}

export interface StoreReader {
  /** A lookup that reads only `paths` (fetching their NARs): anything else reads as missing. */
  lookupIn(paths: string[]): (fullPath: string) => Promise<ImageNode | undefined>;
}

export function storeReader(closure: Map<string, ResolvedPath>, sources: Sources): StoreReader {
  const trees = new Map<string, Promise<ImageNode>>();
  const tree = (p: string): Promise<ImageNode> => {
    let t = trees.get(p);
    if (t === undefined) {
      t = fetchNar(closure.get(p)!, sources.narCache, sources.narOptions).then((nar) => NarListing.pack(nar.entries).tree(nar.open));
      trees.set(p, t);
    }
    return t;
  };
  return {
    lookupIn: (paths) => async (fullPath) => {
      try {
        return await lookupStoreNode(fullPath, DEFAULT_STORE_DIR, (p) => (paths.includes(p) && closure.has(p) ? tree(p) : Promise.reject(new StoreLookupError(`${p} is not read here`))));
      } catch (e) {
        if (e instanceof StoreLookupError) return undefined;
        throw e;
      }
    },
  };
}
