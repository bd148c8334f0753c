import { CACHE_NIXOS_ORG_KEY } from '../nix/signature.ts';
import { TARBALL_PRESETS } from '../nixos/tarball-presets.ts';

/**
 * Every config field, described once: parseConfig takes its key lists, types, ranges and defaults
 * from here, the CLI's --help its Config section, the page's form its hints, and ConfigJson (the
 * config as written) its type.
 */
interface Described {
  /** One line for --help and the form. */
  doc: string;
  /** The default in words, where it depends on other fields. */
  defaultText?: string;
}
export type FieldSpec = Described &
  (
    | { type: 'string'; default?: string }
    | { type: 'store-path' }
    | { type: 'boolean'; default?: boolean }
    | { type: 'integer'; min: number; max: number; default?: number }
    /** Bytes, or a number with K, M, G or T as nixpkgs writes "512M". */
    | { type: 'size'; default?: string }
    | { type: 'enum'; values: readonly string[]; default?: string }
    | { type: 'string-list'; default?: readonly string[] }
    /** A list of objects of a shape --help spells out (storeContents, contents). */
    | { type: 'object-list'; shape: string }
    | { type: 'object'; fields: Readonly<Record<string, FieldSpec>> }
  );

export const IMAGE_FORMATS = ['tarball', 'iso', 'squashfs', 'disk', 'netboot'] as const;
export const DISK_FORMATS = ['raw', 'qcow2', 'vhd', 'vhd-dynamic', 'vmdk', 'vdi'] as const;
export const COMPRESSIONS = ['none', 'gzip', 'xz', 'zstd'] as const;
export const SQUASHFS_CODECS = ['zstd', 'xz', 'gzip'] as const;

export const ISO_FIELDS = {
  isoName: { type: 'string', doc: 'file name of the ISO', defaultText: '"nixos-<system>.iso"' },
  volumeID: { type: 'string', doc: 'volume label', defaultText: '"NIXOS_ISO"; with a toplevel, its root=LABEL=' },
  appID: { type: 'string', default: 'nixos', doc: 'application ID in the volume descriptor' },
  publisher: { type: 'string', default: 'nixos', doc: 'publisher in the volume descriptor' },
  bootable: { type: 'boolean', doc: 'El Torito BIOS boot from bootImage', defaultText: 'false; true with a toplevel' },
  bootImage: { type: 'string', default: '/isolinux/isolinux.bin', doc: 'the BIOS boot image, a file in the image' },
  efiBootable: { type: 'boolean', doc: 'El Torito UEFI boot from efiBootImage', defaultText: 'false; true with a toplevel' },
  efiBootImage: { type: 'string', default: '/boot/efi.img', doc: 'the EFI system partition image, a file in the image' },
  usbBootable: { type: 'boolean', doc: 'isohybrid: bootable from a USB stick too', defaultText: 'false; true with a toplevel' },
  isohybridMbrImage: { type: 'string', doc: "the MBR code (syslinux's isohdpfx.bin) for usbBootable: a store or local path" },
  squashfsContents: { type: 'string-list', default: [], doc: 'store paths whose closure goes into /nix-store.squashfs' },
  squashfsCompression: { type: 'enum', values: SQUASHFS_CODECS, doc: 'codec of /nix-store.squashfs', defaultText: 'the top-level squashfsCompression' },
  bootTimeout: { type: 'integer', min: 0, max: 3600, default: 10, doc: 'seconds the boot menus wait (with a toplevel)' },
} as const satisfies Record<string, FieldSpec>;

export const CONFIG_FIELDS = {
  format: { type: 'enum', values: IMAGE_FORMATS, doc: 'what to build (required)' },
  substituters: { type: 'string-list', default: ['https://cache.nixos.org'], doc: 'binary caches, tried in order: "https://…", "file:///…" or a relative path' },
  trustedPublicKeys: { type: 'string-list', default: [CACHE_NIXOS_ORG_KEY], doc: '["name:base64", …] that narinfo signatures must be made with', defaultText: 'the cache.nixos.org-1 key' },
  requireSigs: { type: 'boolean', default: true, doc: 'refuse paths not signed by a trusted key' },
  storeContents: {
    type: 'object-list',
    shape: '[{ "object": "/nix/store/…", "symlink": "/run/current-system" | "none" }]',
    doc: 'their closure goes under /nix/store, with /nix-path-registration and the symlinks',
  },
  contents: {
    type: 'object-list',
    shape: '[{ "source": "/nix/store/…/file" | "./local-file", "target": "/abs/path" }, { "text": "…", "target": "/abs/path" }]',
    doc: 'copied like cp -a; text is written 0444; a local source may be any path the user running the build can read',
  },
  compression: { type: 'enum', values: COMPRESSIONS, doc: 'of the whole output file', defaultText: '"xz" for a tarball, else "none"' },
  xzPreset: { type: 'integer', min: 0, max: 9, default: 6, doc: 'xz compression preset' },
  xzBlockSize: { type: 'integer', min: 4096, max: 2 ** 40, default: 24 * 2 ** 20, doc: 'bytes per xz block (blocks compress in parallel)' },
  threads: { type: 'integer', min: 0, max: 256, default: 0, doc: 'compression workers, 0 = one per core' },
  squashfsCompression: { type: 'enum', values: SQUASHFS_CODECS, default: 'zstd', doc: 'codec of squashfs images' },
  squashfsBlockSize: { type: 'integer', min: 4096, max: 2 ** 20, default: 2 ** 20, doc: 'squashfs block size in bytes' },
  sourceDateEpoch: { type: 'integer', min: 0, max: 2 ** 32 - 1, default: 315532800, doc: 'timestamps in ISO and squashfs images' },
  fileName: { type: 'string', doc: 'output base name without the compression extension', defaultText: 'as nixpkgs names the image' },
  system: { type: 'string', default: 'x86_64-linux', doc: 'the Nix system, used in default names' },
  toplevel: { type: 'store-path', doc: "a NixOS system's toplevel: a live ISO, netboot files (required for \"netboot\"), a disk image or a system tarball of it" },
  preset: {
    type: 'enum',
    values: TARBALL_PRESETS,
    doc: 'with "toplevel" and "tarball": the container tarball of nixpkgs\' module ("lxc": LXC/Incus, "proxmox-lxc": a Proxmox VE CT template)',
  },
  diskSize: { type: 'size', doc: 'the whole disk (format "disk")', defaultText: '"auto": the contents plus additionalSpace' },
  additionalSpace: { type: 'size', default: '512M', doc: 'free space added with diskSize "auto" (format "disk")' },
  bootSize: { type: 'size', default: '256M', doc: 'the EFI system partition (format "disk")' },
  diskFormat: { type: 'enum', values: DISK_FORMATS, default: 'raw', doc: 'the disk image container (format "disk")' },
  bootTimeout: { type: 'integer', min: 0, max: 3600, default: 5, doc: "seconds systemd-boot's menu waits (format \"disk\")" },
  iso: { type: 'object', fields: ISO_FIELDS, doc: 'ISO options (format "iso")' },
} as const satisfies Record<string, FieldSpec>;

/** The JSON a field holds as written; the two object lists have shapes of their own. */
type JsonOf<F> = F extends { type: 'string' | 'store-path' }
  ? string
  : F extends { type: 'size' }
    ? number | string
    : F extends { type: 'boolean' }
    ? boolean
    : F extends { type: 'integer' }
      ? number
      : F extends { type: 'enum'; values: readonly (infer V)[] }
        ? V
        : F extends { type: 'string-list' }
          ? string[]
          : F extends { type: 'object'; fields: infer Fs }
            ? { -readonly [K in keyof Fs]?: JsonOf<Fs[K]> }
            : never;

export interface StoreContentJson {
  object: string;
  symlink?: string;
}
export type ContentJson = { source: string; target: string } | { text: string; target: string };

type Fields = typeof CONFIG_FIELDS;
/** A config as written (a config file, the page's form): parseConfig turns it into a BuildConfig. */
export type ConfigJson = { format: JsonOf<Fields['format']>; storeContents?: StoreContentJson[]; contents?: ContentJson[] } & {
  -readonly [K in Exclude<keyof Fields, 'format' | 'storeContents' | 'contents'>]?: JsonOf<Fields[K]>;
};
export type IsoJson = NonNullable<ConfigJson['iso']>;

/** The form's hint for a field: its default (or the words for it) and its range. */
export function fieldHint(spec: FieldSpec): { placeholder?: string; min?: string; max?: string } {
  const shown = 'default' in spec && spec.default !== undefined && !Array.isArray(spec.default) ? String(spec.default) : undefined;
  return {
    ...(shown !== undefined ? { placeholder: shown } : {}),
    ...(spec.type === 'integer' ? { min: String(spec.min), max: String(spec.max) } : {}),
  };
}

function valueText(spec: FieldSpec): string {
  switch (spec.type) {
    case 'enum':
      return spec.values.map((v) => JSON.stringify(v)).join(' | ');
    case 'integer':
      return `${spec.min}-${spec.max}`;
    case 'object-list':
      return spec.shape;
    default:
      return '';
  }
}

function defaultText(spec: FieldSpec): string | undefined {
  if (spec.defaultText !== undefined) return spec.defaultText;
  if (!('default' in spec) || spec.default === undefined) return undefined;
  return JSON.stringify(spec.default);
}

/** The Config section of --help: one entry per field, nested fields indented. */
export function configHelp(fields: Readonly<Record<string, FieldSpec>> = CONFIG_FIELDS, indent = '  '): string {
  const out: string[] = [];
  for (const [key, spec] of Object.entries(fields)) {
    const values = valueText(spec);
    const dflt = defaultText(spec);
    out.push(`${indent}${key.padEnd(20)}${spec.doc}${dflt === undefined ? '' : ` (default ${dflt})`}`);
    if (values !== '') out.push(`${indent}${' '.repeat(20)}${values}`);
    if (spec.type === 'object') out.push(configHelp(spec.fields, indent + '  '));
  }
  return out.join('\n');
}
