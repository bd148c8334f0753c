// The images a NixOS user asks for, by name: each target is a config for the toplevel, the file
// it gives and what it is for. Whether a target can be built is asked of the same parser the CLI
// uses, so a format this version does not have yet shows as unavailable, with the parser's reason.
import { ConfigError, parseConfig } from '../core/pipeline/config.ts';
import type { ToplevelReport } from '../core/pipeline/toplevel-inspect.ts';
import type { ConfigJson } from './config-draft.ts';

type Suits = keyof ToplevelReport['suits'];

export interface Target {
  id: string;
  title: string;
  /** One line: what the file is for. */
  use: string;
  /** The kind of system it needs; tarballs suit any. */
  needs?: Suits;
  config: Record<string, unknown>;
}

const disk = (id: string, title: string, diskFormat: string, use: string): Target => ({ id, title, use, needs: 'disk', config: { format: 'disk', diskFormat } });

export const TARGETS: readonly Target[] = [
  { id: 'iso', title: 'Live ISO (USB stick or CD)', use: 'Write it to a USB stick (dd, Etcher) or burn it; boots BIOS and UEFI PCs.', needs: 'liveIso', config: { format: 'iso' } },
  disk('raw-efi', 'Raw EFI disk', 'raw', 'dd it to a drive, or attach it to any VM, and boot it under UEFI.'),
  disk('qcow2', 'QCOW2 disk', 'qcow2', 'A Proxmox VM, libvirt/virt-manager, QEMU or OpenStack.'),
  disk('vhd', 'VHD disk', 'vhd', 'Azure and Hyper-V.'),
  disk('vmdk', 'VMDK disk', 'vmdk', 'VMware Workstation, Fusion and ESXi.'),
  disk('vdi', 'VDI disk', 'vdi', 'VirtualBox.'),
  { id: 'netboot', title: 'Netboot (iPXE)', use: 'Kernel, initrd and an iPXE script to boot over the network.', needs: 'netboot', config: { format: 'netboot' } },
  { id: 'lxc', title: 'LXC container', use: 'lxc-create / incus image import: a system container (lxc-container.nix).', config: { format: 'tarball', preset: 'lxc' } },
  { id: 'proxmox-lxc', title: 'Proxmox LXC container', use: 'A Proxmox VE CT template: copy it to /var/lib/vz/template/cache (proxmox-lxc.nix).', config: { format: 'tarball', preset: 'proxmox-lxc' } },
  { id: 'wsl', title: 'WSL distribution', use: 'wsl --import on Windows (NixOS-WSL).', config: { format: 'tarball', preset: 'wsl' } },
  { id: 'tarball', title: 'System tarball', use: 'The closure and nix-path-registration, as make-system-tarball lays them out.', config: { format: 'tarball' } },
];

/**
 * A rough size of the image from the closure alone: compressed images are about as big as the
 * cache's compressed NARs, uncompressed ones about as big as the NARs unpacked.
 */
export function estimatedSize(config: ConfigJson, closure: { narBytes: number; downloadBytes: number }): number {
  const compressed = config.format === 'iso' || (config.format === 'tarball' && config.compression !== 'none') || (config.format === 'disk' && config.diskFormat !== 'raw' && config.diskFormat !== 'vhd');
  return compressed ? closure.downloadBytes : closure.narBytes;
}

export interface Choice {
  target: Target;
  config: ConfigJson;
  /** The file the build writes, when it can be built. */
  fileName: string | null;
  /** Why it cannot be chosen, in words; null when it can. */
  unavailable: string | null;
}

const NEEDS_WHY: Record<Suits, string> = {
  liveIso: 'its kernel parameters have no root=LABEL=: build the system with iso-image.nix (installation-cd-*.nix) for a live ISO',
  disk: 'its stage 1 looks for a live medium (root=LABEL=): build the system with disk-image.nix for a disk',
  netboot: 'it has no kernel or initrd',
};

/** Each target for `toplevel` over `source` (its caches and keys), available or with the reason it is not. */
export function choicesFor(toplevel: string, source: Pick<ConfigJson, 'substituters' | 'trustedPublicKeys'>, report: Pick<ToplevelReport, 'suits'>): Choice[] {
  return TARGETS.map((target) => {
    const config = { ...target.config, toplevel, ...source } as unknown as ConfigJson;
    let fileName: string | null = null;
    let unavailable: string | null = null;
    try {
      fileName = parseConfig(config).fileName;
    } catch (e) {
      unavailable = e instanceof ConfigError && /must be one of|unknown field/.test(e.message) ? 'not in this version of nix-imager yet' : e instanceof Error ? e.message : String(e);
    }
    if (unavailable === null && target.needs !== undefined && !report.suits[target.needs]) unavailable = `Not for this system: ${NEEDS_WHY[target.needs]}`;
    return { target, config, fileName, unavailable };
  });
}
