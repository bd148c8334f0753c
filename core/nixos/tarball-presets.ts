// The container tarballs nixpkgs' own modules build from a toplevel with make-system-tarball:
// the toplevel's closure under /nix/store (with nix-path-registration), a few files linked out of
// the toplevel, and the empty directories the module's extraCommands make.

export type TarballPreset = 'lxc' | 'proxmox-lxc';

export const TARBALL_PRESETS: readonly TarballPreset[] = ['lxc', 'proxmox-lxc'];

export interface PresetLayout {
  /** Files of the toplevel (paths relative to it) and where they land in the image. */
  files: { from: string; target: string }[];
  /** Empty directories (mode 0755, as `mkdir -p` in the build sandbox makes them). */
  directories: string[];
}

const LAYOUTS: Record<TarballPreset, PresetLayout> = {
  // nixos/modules/virtualisation/lxc-container.nix: /sbin/init for LXC, /etc/os-release for
  // systemd-nspawn, and the mount points "mkdir -p proc sys dev".
  lxc: {
    files: [
      { from: 'init', target: '/sbin/init' },
      { from: 'etc/os-release', target: '/etc/os-release' },
    ],
    directories: ['/dev', '/proc', '/sys'],
  },
  // nixos/modules/virtualisation/proxmox-lxc.nix: /sbin/init, and "mkdir -p root etc/systemd/network"
  // (Proxmox writes its network units there before the first boot).
  'proxmox-lxc': {
    files: [{ from: 'init', target: '/sbin/init' }],
    directories: ['/etc/systemd/network', '/root'],
  },
};

export function presetLayout(preset: TarballPreset): PresetLayout {
  return LAYOUTS[preset];
}
