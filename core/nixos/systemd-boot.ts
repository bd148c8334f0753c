// systemd-boot's configuration as NixOS's systemd-boot builder writes it
// (nixos/modules/system/boot/loader/systemd-boot/systemd-boot-builder.py): loader/loader.conf,
// one loader/entries/nixos-generation-N.conf per generation, and the kernel and initrd copied
// under EFI/nixos/ with names taken from their store paths.
import { storePathOf } from '../nix/store-path.ts';

export interface LoaderConf {
  /** Seconds the menu waits; NixOS's boot.loader.timeout defaults to 5. */
  timeout: number;
  /** The entry file booted by default, e.g. "nixos-generation-1.conf". */
  defaultEntry: string;
  /** boot.loader.systemd-boot.editor (true by default; false writes "editor 0"). */
  editor: boolean;
  /** boot.loader.systemd-boot.consoleMode, "keep" by default. */
  consoleMode: string;
}

export function loaderConf(c: LoaderConf): string {
  return `timeout ${c.timeout}\ndefault ${c.defaultEntry}\n${c.editor ? '' : 'editor 0\n'}console-mode ${c.consoleMode}\n`;
}

export interface BootEntry {
  title: string;
  sortKey: string;
  generation: number;
  /** bootspec's label, e.g. "24.05.20240101.abcdef (Linux 6.6.8)". */
  label: string;
  /** The generation's build date, YYYY-MM-DD. */
  buildDate: string;
  /** Paths on the FAT volume, each starting with "/". */
  linux: string;
  initrd: string;
  devicetree?: string;
  /** `init=<toplevel>/init` followed by the kernel parameters. */
  options: string;
}

export const entryFileName = (generation: number): string => `nixos-generation-${generation}.conf`;

export function bootEntry(e: BootEntry): string {
  return (
    `title ${e.title}\nsort-key ${e.sortKey}\nversion Generation ${e.generation} ${e.label}, built on ${e.buildDate}\n` +
    `linux ${e.linux}\ninitrd ${e.initrd}\noptions ${e.options}\n` +
    (e.devicetree === undefined ? '' : `devicetree ${e.devicetree}\n`)
  );
}

/** The kernel command line a NixOS boot loader passes: stage 2's init, then the system's parameters. */
export const kernelOptions = (init: string, kernelParams: readonly string[]): string => [`init=${init}`, ...kernelParams].join(' ');

/**
 * Where the builder copies a store file under EFI/nixos/: "<store path base>-<file>.efi", or
 * "<store path base>.efi" when the store path is the file itself.
 */
export function efiFileName(storeFile: string): string {
  const { storePath, subPath } = storePathOf(storeFile);
  const base = storePath.slice(storePath.lastIndexOf('/') + 1);
  const file = subPath === '' ? base : subPath.slice(subPath.lastIndexOf('/') + 1);
  return file === base ? `${base}.efi` : `${base}-${file}.efi`;
}

/** YYYY-MM-DD of a Unix time in UTC (the builder uses the generation's ctime; ours is SOURCE_DATE_EPOCH). */
export const isoDate = (epochSeconds: number): string => new Date(epochSeconds * 1000).toISOString().slice(0, 10);
