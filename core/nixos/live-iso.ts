// What a NixOS live ISO holds besides the store, decided from the toplevel alone, as
// nixos/modules/installer/cd-dvd/iso-image.nix lays it out: the kernel and initrd under /boot/,
// /version.txt, isolinux with a generated isolinux.cfg for BIOS, and for UEFI a FAT image with
// systemd-boot, its loader entries and the kernel and initrd (systemd-boot reads only that volume);
// and for netboot (nixos/modules/installer/netboot/netboot.nix) the iPXE script.
import { architectureOf, type Architecture } from './architecture.ts';
import { bootEntry, efiFileName, entryFileName, isoDate, kernelOptions, loaderConf } from './systemd-boot.ts';
import { ToplevelError, type Toplevel } from './toplevel.ts';

/** A toplevel with what a boot loader needs, checked. */
export interface BootableSystem {
  storePath: string;
  architecture: Architecture;
  kernel: string;
  initrd: string;
  init: string;
  kernelParams: string[];
  /** The menu label: "NixOS <label>". */
  label: string;
}

/** A toplevel that can boot from an ISO. */
export interface LiveSystem extends BootableSystem {
  /** The ISO's volume ID, which stage 1 looks for (root=LABEL=…). */
  volumeID: string;
}

const MAX_VOLUME_ID = 32;

/** The value of root=LABEL= in the kernel parameters, as a NixOS ISO's stage 1 reads it. */
export const rootLabel = (params: readonly string[]): string | undefined =>
  params.findLast((p) => p.startsWith('root=LABEL='))?.slice('root=LABEL='.length);

/** What booting any system needs from its toplevel; what is missing is added to `missing` (the result is whole only when nothing is). */
export function bootFacts(t: Toplevel, missing: string[]): BootableSystem {
  if (t.kernel === undefined) missing.push('no kernel');
  if (t.initrd === undefined) missing.push('no initrd');
  if (t.init === undefined) missing.push('no init');
  const system = t.system ?? 'x86_64-linux';
  const architecture = architectureOf(system);
  if (architecture === undefined) missing.push(`system ${JSON.stringify(system)} has no known boot loader names`);
  return {
    storePath: t.storePath,
    architecture: architecture!,
    kernel: t.kernel!,
    initrd: t.initrd!,
    init: t.init!,
    kernelParams: t.kernelParams,
    label: t.label ?? '',
  };
}

/** Checks that `t` can boot at all (netboot: kernel, initrd, init); one error naming all that is missing. */
export function bootableSystem(t: Toplevel, image: string): BootableSystem {
  const missing: string[] = [];
  const facts = bootFacts(t, missing);
  if (missing.length > 0) throw new ToplevelError(t.storePath, `cannot boot from ${image}: ${missing.join('; ')}`);
  return facts;
}

/** Checks that `t` can boot from an ISO (volume ID from root=LABEL= unless `volumeID` is given); one error naming all that is missing. */
export function liveSystem(t: Toplevel, volumeID: string | undefined): LiveSystem {
  const missing: string[] = [];
  const facts = bootFacts(t, missing);
  const id = volumeID ?? rootLabel(t.kernelParams);
  if (id === undefined) missing.push('no root=LABEL= in its kernel parameters to name the ISO volume by (set iso.volumeID)');
  else if (id.length === 0 || id.length > MAX_VOLUME_ID) missing.push(`volume ID ${JSON.stringify(id)} is ${id.length} characters; an ISO 9660 volume ID holds 1 to ${MAX_VOLUME_ID}`);
  else if (!/^[\x21-\x7e]+$/.test(id)) missing.push(`volume ID ${JSON.stringify(id)} has characters an ISO 9660 volume ID cannot hold (printable ASCII without spaces)`);
  if (missing.length > 0) throw new ToplevelError(t.storePath, `cannot boot from an ISO: ${missing.join('; ')}`);
  return { ...facts, volumeID: id! };
}

/** The kernel's file name in its store path: bzImage (x86), Image (aarch64). */
export const kernelFileName = (s: BootableSystem): string => s.kernel.slice(s.kernel.lastIndexOf('/') + 1);

/** Where the ISO keeps the kernel and initrd: /boot/<kernel file name> and /boot/initrd. */
export const isoKernelPath = (s: BootableSystem): string => `/boot/${kernelFileName(s)}`;
export const ISO_INITRD_PATH = '/boot/initrd';

/** isolinux.cfg like iso-image.nix's (no splash): the default entry, then nixpkgs' variants. */
export function isolinuxCfg(s: LiveSystem, timeoutSeconds: number): string {
  const menu = `NixOS ${s.label}`.trimEnd();
  const entry = (name: string, title: string, extra: string) =>
    `LABEL ${name}\nMENU LABEL ${menu}${title}\nLINUX ${isoKernelPath(s)}\nAPPEND ${kernelOptions(s.init, s.kernelParams)}${extra}\nINITRD ${ISO_INITRD_PATH}\n`;
  // syslinux counts tenths of a second, and TIMEOUT 0 would wait for ever.
  return [
    `SERIAL 0 115200\nTIMEOUT ${Math.max(1, timeoutSeconds * 10)}\nUI vesamenu.c32\nMENU TITLE NixOS\n\nDEFAULT boot\n`,
    entry('boot', '', ''),
    entry('boot-nomodeset', ' (nomodeset)', ' nomodeset'),
    entry('boot-copytoram', ' (copytoram)', ' copytoram'),
    entry('boot-debug', ' (debug)', ' loglevel=7'),
    entry('boot-serial', ' (serial console=ttyS0,115200n8)', ' console=ttyS0,115200n8'),
  ].join('\n');
}

/** A file of the EFI image: copied from the store, or text. */
export type EfiFile = { path: string; storeFile: string } | { path: string; text: string };

/** The EFI image's files: systemd-boot as the removable-media loader, loader.conf, one entry, the kernel and initrd. */
export function efiImageFiles(s: BootableSystem, systemdBoot: string, timeoutSeconds: number, epoch: number): EfiFile[] {
  const kernel = `/EFI/nixos/${efiFileName(s.kernel)}`;
  const initrd = `/EFI/nixos/${efiFileName(s.initrd)}`;
  const entry = entryFileName(1);
  return [
    { path: `/EFI/BOOT/${s.architecture.efiBootFile}`, storeFile: systemdBoot },
    { path: kernel, storeFile: s.kernel },
    { path: initrd, storeFile: s.initrd },
    { path: '/loader/loader.conf', text: loaderConf({ timeout: timeoutSeconds, defaultEntry: entry, editor: false, consoleMode: 'keep' }) },
    {
      path: `/loader/entries/${entry}`,
      text: bootEntry({
        title: 'NixOS',
        sortKey: 'nixos',
        generation: 1,
        label: s.label,
        buildDate: isoDate(epoch),
        linux: kernel,
        initrd,
        options: kernelOptions(s.init, s.kernelParams),
      }),
    },
  ];
}

/** netboot.nix's iPXE script; ${cmdline} lets a chainloading script (netboot.xyz) add parameters. */
export function netbootIpxe(s: BootableSystem): string {
  return `#!ipxe\nkernel ${kernelFileName(s)} ${kernelOptions(s.init, ['initrd=initrd', ...s.kernelParams])} \${cmdline}\ninitrd initrd\nboot\n`;
}
