// What a NixOS disk image holds besides the store, decided from the toplevel alone, as
// make-disk-image.nix (partitionTableType "efi") and systemd-boot-builder.py leave it: the ESP with
// systemd-boot, loader.conf, generation 1's entry, kernel and initrd; on the root, the system
// profile links and /etc/NIXOS as nixos-install makes them.
import { bootFacts, efiImageFiles, rootLabel, type BootableSystem, type EfiFile } from './live-iso.ts';
import { ToplevelError, type Toplevel } from './toplevel.ts';

/** A toplevel that can boot from a disk with systemd-boot: what the ESP needs, checked. */
export interface DiskSystem extends BootableSystem {
  storePath: string;
  /** systemd-boot's EFI binary in the store. */
  systemdBoot: string;
}

/** The label make-disk-image gives the root file system, by which NixOS's fileSystems find it. */
export const DISK_ROOT_LABEL = 'nixos';

/** Checks that `t` can boot from an EFI disk image; one error naming all that is missing. */
export function diskSystem(t: Toplevel): DiskSystem {
  const missing: string[] = [];
  const facts = bootFacts(t, missing);
  if (t.systemd === undefined) missing.push('no systemd link, so no systemd-boot (a GRUB-only system needs grub-mkimage, which nix-imager does not run: enable boot.loader.systemd-boot)');
  const label = rootLabel(t.kernelParams);
  if (label !== undefined && label !== DISK_ROOT_LABEL) missing.push(`its kernel parameters look for root=LABEL=${label} (a live ISO's volume), not the disk's root file system "${DISK_ROOT_LABEL}"`);
  if (missing.length > 0) throw new ToplevelError(t.storePath, `cannot boot from a disk image: ${missing.join('; ')}`);
  return { ...facts, systemdBoot: `${t.systemd}/lib/systemd/boot/efi/${facts.architecture.systemdBootFile}` };
}

/** The ESP as systemd-boot-builder.py leaves it: also EFI/systemd/ holds the boot loader. */
export function espFiles(s: DiskSystem, timeoutSeconds: number, epoch: number): EfiFile[] {
  return [{ path: `/EFI/systemd/${s.architecture.systemdBootFile}`, storeFile: s.systemdBoot }, ...efiImageFiles(s, s.systemdBoot, timeoutSeconds, epoch)];
}

/** Links nixos-install makes: the system profile's generation 1 is the toplevel. */
export const PROFILE_LINKS: readonly { path: string; target: (toplevel: string) => string }[] = [
  { path: '/nix/var/nix/profiles/system', target: () => 'system-1-link' },
  { path: '/nix/var/nix/profiles/system-1-link', target: (top) => top },
];

/**
 * Directories the installed root has before first boot: /etc/nixos and the ESP's mount point /boot
 * (make-disk-image), and Nix's state directories that registering the closure and setting the
 * profile create (nixos-install). Stage 1 makes /dev, /proc, /sys and /run itself.
 */
export const ROOT_DIRS: readonly string[] = ['/boot', '/etc/nixos', '/nix/var/nix/db', '/nix/var/nix/gcroots', '/nix/var/nix/profiles'];

/** The empty file that marks a NixOS installation (nixos-install: switch-to-configuration checks it). */
export const NIXOS_MARKER = '/etc/NIXOS';
