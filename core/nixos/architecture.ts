// What a NixOS system's architecture decides about booting: the names UEFI and systemd-boot give
// the boot loader, and whether a PC BIOS can start it at all.

export interface Architecture {
  /** The Nix system double, e.g. "x86_64-linux". */
  system: string;
  /** UEFI's name for the machine type in removable-media paths (BOOTX64.EFI → "x64"). */
  efiArch: string;
  /** The UEFI fallback loader path on a FAT volume: EFI/BOOT/<this>. */
  efiBootFile: string;
  /** systemd-boot's binary under <systemd>/lib/systemd/boot/efi/. */
  systemdBootFile: string;
  /** Whether the machine can boot from a PC BIOS (isolinux, El Torito BIOS, isohybrid MBR code). */
  bios: boolean;
}

const ARCHITECTURES: Record<string, Omit<Architecture, 'system' | 'efiBootFile' | 'systemdBootFile'>> = {
  'x86_64-linux': { efiArch: 'x64', bios: true },
  'i686-linux': { efiArch: 'ia32', bios: true },
  'aarch64-linux': { efiArch: 'aa64', bios: false },
  'riscv64-linux': { efiArch: 'riscv64', bios: false },
};

/** The architecture of a Nix system double, or undefined when nix-imager knows no boot names for it. */
export function architectureOf(system: string): Architecture | undefined {
  const a = Object.hasOwn(ARCHITECTURES, system) ? ARCHITECTURES[system] : undefined;
  if (a === undefined) return undefined;
  return { system, ...a, efiBootFile: `BOOT${a.efiArch.toUpperCase()}.EFI`, systemdBootFile: `systemd-boot${a.efiArch}.efi` };
}

export const knownSystems = (): string[] => Object.keys(ARCHITECTURES);
