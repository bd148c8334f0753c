import { DEFAULT_STORE_DIR, parseStorePath, storePathOf } from '../nix/store-path.ts';
import { parsePublicKey } from '../nix/signature.ts';
import { NixImagerError } from '../errors.ts';
import { presetLayout, TARBALL_PRESETS, type TarballPreset } from '../nixos/tarball-presets.ts';
import { COMPRESSIONS, CONFIG_FIELDS as F, DISK_FORMATS, IMAGE_FORMATS, ISO_FIELDS as I, SQUASHFS_CODECS } from './config-schema.ts';

/**
 * The build configuration, mirroring the NixOS options of make-system-tarball / iso-image /
 * make-squashfs / make-disk-image. `parseConfig` validates untrusted JSON against config-schema.ts
 * and fills in nixpkgs' defaults.
 */
export type ImageFormat = (typeof IMAGE_FORMATS)[number];
export type DiskFormat = (typeof DISK_FORMATS)[number];
export type Compression = (typeof COMPRESSIONS)[number];
export type SquashfsCodec = (typeof SQUASHFS_CODECS)[number];

export interface StoreContent {
  object: string;
  /** Absolute path of a symlink to `object` in the image, or null for "none". */
  symlink: string | null;
}

export type ContentSource =
  | { kind: 'store'; path: string }
  | { kind: 'local'; path: string }
  | { kind: 'text'; text: string };

export interface Content {
  source: ContentSource;
  target: string;
}

export interface IsoConfig {
  isoName: string;
  /** null: the toplevel's root=LABEL= names the volume. */
  volumeID: string | null;
  appID: string;
  publisher: string;
  bootImage: string | null;
  efiBootImage: string | null;
  isohybridMbrImage: ContentSource | null;
  /** With a toplevel: isohybrid from syslinux's isohdpfx.bin (isohybridMbrImage is found then). */
  usbBootable: boolean;
  squashfsContents: string[];
  squashfsCompression: SquashfsCodec;
  /** From a toplevel: seconds the boot menus wait (isolinux and systemd-boot). */
  bootTimeout: number;
}

/** make-disk-image.nix's options for partitionTableType = "efi" (sizes in bytes). */
export interface DiskConfig {
  /** The whole disk, or "auto": the contents plus make-disk-image's headroom and additionalSpace. */
  diskSize: number | 'auto';
  /** Free space added with diskSize "auto" (nixpkgs: "512M"). */
  additionalSpace: number;
  /** Where the ESP ends, as parted reads make-disk-image's bootSize ("256M" = 256 000 000 bytes). */
  bootEnd: number;
  /** The same bootSize as numfmt --from=iec reads it, which make-disk-image reserves with diskSize "auto". */
  bootReserve: number;
  diskFormat: DiskFormat;
  /** Seconds systemd-boot's menu waits (boot.loader.timeout, default 5). */
  bootTimeout: number;
}

interface CommonConfig {
  substituters: string[];
  trustedPublicKeys: string[];
  requireSigs: boolean;
  storeContents: StoreContent[];
  contents: Content[];
  compression: Compression;
  xzPreset: number;
  xzBlockSize: number;
  /** Worker threads for compression; 0 means one per core. */
  threads: number;
  squashfsCompression: SquashfsCodec;
  squashfsBlockSize: number;
  sourceDateEpoch: number;
  /**
   * A NixOS system's toplevel store path: the image is built for it. An ISO is its live ISO (see
   * core/pipeline/toplevel-plan.ts), netboot its netboot files (the same), a disk its disk image (toplevel-disk.ts); a tarball holds its
   * closure, laid out as `preset` says.
   */
  toplevel: string | null;
  /** Empty directories of the image (a preset's mount points). */
  directories: string[];
  /** Base name make-system-tarball / iso-image would give the output. */
  fileName: string;
  /** The system the config names (`"system"`), which a toplevel must be built for; null when not given. */
  system: string | null;
}

export interface TarballConfig extends CommonConfig {
  format: 'tarball';
  iso: null;
  disk: null;
  /** With a toplevel tarball: the container layout of nixpkgs' module for it (core/nixos/tarball-presets.ts). */
  preset: TarballPreset | null;
}

export interface IsoBuildConfig extends CommonConfig {
  format: 'iso';
  iso: IsoConfig;
  disk: null;
  preset: null;
}

export interface SquashfsConfig extends CommonConfig {
  format: 'squashfs';
  iso: null;
  disk: null;
  preset: null;
}

/** netboot.nix's files for the toplevel (always set). */
export interface NetbootConfig extends CommonConfig {
  format: 'netboot';
  iso: null;
  disk: null;
  preset: null;
}

export interface DiskBuildConfig extends CommonConfig {
  format: 'disk';
  iso: null;
  disk: DiskConfig;
  preset: null;
}

/** What parseConfig returns: one shape per format. */
export type BuildConfig = TarballConfig | IsoBuildConfig | SquashfsConfig | DiskBuildConfig | NetbootConfig;

export class ConfigError extends NixImagerError {
  override name = 'ConfigError';
  readonly code = 'config';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`config: ${field}: ${problem}`, { subject: field });
  }
}

type Json = unknown;
type Obj = Record<string, Json>;

function isObj(v: Json): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(o: Obj, field: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new ConfigError(field === '' ? k : `${field}.${k}`, `unknown field (known: ${allowed.join(', ')})`);
  }
}

function str(o: Obj, key: string, field: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ConfigError(field, 'must be a string');
  return v;
}

function bool(o: Obj, key: string, field: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new ConfigError(field, 'must be true or false');
  return v;
}

function int(o: Obj, key: string, field: string, min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(field, `must be a whole number from ${min} to ${max}`);
  return v;
}

function oneOf<T extends string>(o: Obj, key: string, field: string, values: readonly T[]): T | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw new ConfigError(field, `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
  return v as T;
}

function array(o: Obj, key: string, field: string): Json[] {
  const v = o[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ConfigError(field, 'must be a list');
  return v;
}

function stringList(o: Obj, key: string, field: string): string[] | undefined {
  if (o[key] === undefined) return undefined;
  return array(o, key, field).map((v, i) => {
    if (typeof v !== 'string' || v === '') throw new ConfigError(`${field}[${i}]`, 'must be a non-empty string');
    return v;
  });
}

function storePath(v: string, field: string, storeDir: string): string {
  try {
    return parseStorePath(v, storeDir).path;
  } catch (e) {
    throw new ConfigError(field, e instanceof Error ? e.message : String(e));
  }
}

/** An absolute path inside the image; `..` or anything else that would land outside is refused. */
function imagePath(v: string | undefined, field: string): string {
  if (v === undefined || v === '') throw new ConfigError(field, 'is required');
  if (!v.startsWith('/')) throw new ConfigError(field, `${JSON.stringify(v)} must be an absolute path in the image`);
  const parts = v.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ConfigError(field, `${JSON.stringify(v)} would land outside the image`);
  if (v.includes('\0')) throw new ConfigError(field, 'contains a NUL character');
  if (parts.length === 0) throw new ConfigError(field, `${JSON.stringify(v)} is the image root`);
  return '/' + parts.join('/');
}

/** A file name, not a path: it is joined to the output directory, so "/" or ".." would choose where the image lands. */
function fileName(v: string | undefined, field: string): string | undefined {
  if (v === undefined) return undefined;
  if (v === '' || v === '.' || v === '..' || v.includes('/') || v.includes('\0')) {
    throw new ConfigError(field, `${JSON.stringify(v)} must be a file name, without "/" (and not "." or "..")`);
  }
  return v;
}

function contentSource(o: Obj, field: string, storeDir: string): ContentSource {
  const source = str(o, 'source', `${field}.source`);
  const text = str(o, 'text', `${field}.text`);
  if ((source === undefined) === (text === undefined)) throw new ConfigError(field, 'needs exactly one of "source" or "text"');
  if (text !== undefined) return { kind: 'text', text };
  if (source === '') throw new ConfigError(`${field}.source`, 'is empty');
  if (source!.startsWith(storeDir + '/')) {
    try {
      storePathOf(source!, storeDir);
    } catch (e) {
      throw new ConfigError(`${field}.source`, e instanceof Error ? e.message : String(e));
    }
    return { kind: 'store', path: source! };
  }
  return { kind: 'local', path: source! };
}

const TOP_KEYS = Object.keys(F);
const DISK_KEYS = ['diskSize', 'additionalSpace', 'bootSize', 'diskFormat', 'bootTimeout'] as const satisfies readonly (keyof typeof F)[];
/** make-disk-image.nix's file names (nixos.img for raw, nixos.vhd for vpc). */
const DISK_FILE: Record<DiskFormat, string> = { raw: 'nixos.img', qcow2: 'nixos.qcow2', vhd: 'nixos.vhd', 'vhd-dynamic': 'nixos.vhd', vmdk: 'nixos.vmdk', vdi: 'nixos.vdi' };
const ISO_KEYS = Object.keys(I);
const EXTENSION: Record<Compression, string> = { none: '', gzip: '.gz', xz: '.xz', zstd: '.zst' };

export interface ParseConfigOptions {
  storeDir?: string;
  /**
   * Makes a substituter as written into the URL to fetch from: the CLI resolves relative paths
   * against the config file's directory, the page against its own URL. Default: as written.
   */
  resolveSubstituter?: (substituter: string) => string;
}

/** Validates untrusted JSON and fills in the defaults; the result is final (nobody rewrites it afterwards). */
export function parseConfig(json: Json, opts: ParseConfigOptions = {}): BuildConfig {
  const storeDir = opts.storeDir ?? DEFAULT_STORE_DIR;
  if (!isObj(json)) throw new ConfigError('(top level)', 'must be a JSON object');
  onlyKeys(json, '', TOP_KEYS);
  const format = oneOf(json, 'format', 'format', IMAGE_FORMATS);
  if (format === undefined) throw new ConfigError('format', 'is required ("tarball", "iso", "squashfs", "disk" or "netboot")');

  const written = stringList(json, 'substituters', 'substituters') ?? [...F.substituters.default];
  if (written.length === 0) throw new ConfigError('substituters', 'needs at least one binary cache');
  const substituters = written.map((s, i) => {
    try {
      return opts.resolveSubstituter ? opts.resolveSubstituter(s) : s;
    } catch (e) {
      throw new ConfigError(`substituters[${i}]`, e instanceof Error ? e.message : String(e));
    }
  });
  const trustedPublicKeys = stringList(json, 'trustedPublicKeys', 'trustedPublicKeys') ?? [...F.trustedPublicKeys.default];
  trustedPublicKeys.forEach((k, i) => {
    try {
      parsePublicKey(k);
    } catch (e) {
      throw new ConfigError(`trustedPublicKeys[${i}]`, e instanceof Error ? e.message : String(e));
    }
  });

  const storeContents = array(json, 'storeContents', 'storeContents').map((v, i): StoreContent => {
    const field = `storeContents[${i}]`;
    if (!isObj(v)) throw new ConfigError(field, 'must be an object like {"object": "/nix/store/…", "symlink": "none"}');
    onlyKeys(v, field, ['object', 'symlink']);
    const object = str(v, 'object', `${field}.object`);
    if (object === undefined) throw new ConfigError(`${field}.object`, 'is required');
    const symlink = str(v, 'symlink', `${field}.symlink`) ?? 'none';
    return { object: storePath(object, `${field}.object`, storeDir), symlink: symlink === 'none' ? null : imagePath(symlink, `${field}.symlink`) };
  });

  const contents = array(json, 'contents', 'contents').map((v, i): Content => {
    const field = `contents[${i}]`;
    if (!isObj(v)) throw new ConfigError(field, 'must be an object like {"source": "…", "target": "/…"}');
    onlyKeys(v, field, ['source', 'text', 'target']);
    return { source: contentSource(v, field, storeDir), target: imagePath(str(v, 'target', `${field}.target`), `${field}.target`) };
  });

  const squashfsCompression = oneOf(json, 'squashfsCompression', 'squashfsCompression', SQUASHFS_CODECS) ?? F.squashfsCompression.default;
  const compression = oneOf(json, 'compression', 'compression', COMPRESSIONS) ?? (format === 'tarball' ? 'xz' : 'none');
  const givenSystem = fileName(str(json, 'system', 'system'), 'system') ?? null;
  const system = givenSystem ?? F.system.default;
  const top = str(json, 'toplevel', 'toplevel');
  const toplevel = top === undefined ? null : storePath(top, 'toplevel', storeDir);
  if (toplevel !== null && format === 'squashfs') throw new ConfigError('toplevel', 'builds "format": "iso" (a live ISO), "disk" (a disk image) or "tarball" (a system or container tarball), or netboot files ("netboot"), not "squashfs"');
  const preset = oneOf(json, 'preset', 'preset', TARBALL_PRESETS) ?? null;
  if (preset !== null && (toplevel === null || format !== 'tarball')) throw new ConfigError('preset', 'applies to a tarball of a "toplevel" ("format": "tarball" with "toplevel" set)');
  const seen = new Map<string, number>();
  contents.forEach((c, i) => {
    const j = seen.get(c.target);
    if (j !== undefined) throw new ConfigError(`contents[${i}].target`, `${JSON.stringify(c.target)} is also the target of contents[${j}]`);
    seen.set(c.target, i);
  });
  const system_ = toplevel !== null && format === 'tarball' ? systemTarball(toplevel, preset) : { storeContents: [], contents: [], directories: [] };
  for (const c of system_.contents) {
    const j = seen.get(c.target);
    if (j !== undefined) throw new ConfigError(`contents[${j}].target`, `${JSON.stringify(c.target)} is where the ${preset} preset puts ${c.source.path}`);
  }
  storeContents.unshift(...system_.storeContents);
  contents.push(...system_.contents);
  if (format === 'disk' && toplevel === null) throw new ConfigError('toplevel', 'is required for "format": "disk" (the NixOS system the disk boots)');
  if (format === 'netboot' && toplevel === null) throw new ConfigError('toplevel', 'is required for "format": "netboot" (the system to boot)');
  if (format !== 'disk') for (const k of DISK_KEYS) if (json[k] !== undefined) throw new ConfigError(k, 'only applies to "format": "disk"');
  const disk = format === 'disk' ? parseDisk(json) : null;
  const iso = format === 'iso' ? parseIso(json['iso'], storeDir, squashfsCompression, system, toplevel !== null) : null;
  if (format !== 'iso' && json['iso'] !== undefined) throw new ConfigError('iso', `only applies to "format": "iso"`);
  if (format !== 'iso' && format !== 'disk' && format !== 'netboot' && storeContents.length === 0) throw new ConfigError('storeContents', `a ${format} needs at least one store object`);

  const defaultName =
    format === 'tarball' ? `nixos-system-${system}.tar` : iso !== null ? iso.isoName : disk !== null ? DISK_FILE[disk.diskFormat] : format === 'netboot' ? `netboot-${system}.tar` : `nixos-store-${system}.squashfs`;
  const common: CommonConfig = {
    substituters,
    trustedPublicKeys,
    requireSigs: bool(json, 'requireSigs', 'requireSigs') ?? F.requireSigs.default,
    storeContents,
    contents,
    compression,
    xzPreset: intField(json, 'xzPreset', F.xzPreset) ?? F.xzPreset.default,
    xzBlockSize: intField(json, 'xzBlockSize', F.xzBlockSize) ?? F.xzBlockSize.default,
    threads: intField(json, 'threads', F.threads) ?? F.threads.default,
    squashfsCompression,
    squashfsBlockSize: intField(json, 'squashfsBlockSize', F.squashfsBlockSize) ?? F.squashfsBlockSize.default,
    sourceDateEpoch: intField(json, 'sourceDateEpoch', F.sourceDateEpoch) ?? F.sourceDateEpoch.default,
    toplevel,
    directories: system_.directories,
    fileName: (fileName(str(json, 'fileName', 'fileName'), 'fileName') ?? defaultName) + EXTENSION[compression],
    system: givenSystem,
  };
  if (iso !== null) return { format: 'iso', ...common, iso, disk: null, preset: null };
  if (disk !== null) return { format: 'disk', ...common, iso: null, disk, preset: null };
  if (format === 'tarball') return { format, ...common, iso: null, disk: null, preset };
  if (format === 'netboot') return { format, ...common, iso: null, disk: null, preset: null };
  return { format: 'squashfs', ...common, iso: null, disk: null, preset: null };
}

/** An integer field within the range its spec gives (`field` is its key at the top level). */
function intField(o: Obj, field: string, spec: { min: number; max: number }, key = field): number | undefined {
  return int(o, key, field, spec.min, spec.max);
}

type StoreFileContent = Content & { source: { kind: 'store' } };

/** make-system-tarball's arguments for a toplevel: its closure, and the files and directories of `preset`. */
function systemTarball(toplevel: string, preset: TarballPreset | null): { storeContents: StoreContent[]; contents: StoreFileContent[]; directories: string[] } {
  const layout = preset === null ? { files: [], directories: [] } : presetLayout(preset);
  return {
    storeContents: [{ object: toplevel, symlink: null }],
    contents: layout.files.map((f): StoreFileContent => ({ source: { kind: 'store', path: `${toplevel}/${f.from}` }, target: f.target })),
    directories: layout.directories,
  };
}

const MIB = 2 ** 20;
const IEC: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };
const SI: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/**
 * A size as nixpkgs writes one: bytes as a number, or a string such as "512M". numfmt --from=iec
 * reads the suffix in powers of 1024; parted (`si`) reads "256M" as 256 000 000 bytes.
 */
function sizeOf(o: Obj, key: string, fallback: string, reading: 'iec' | 'si'): number {
  const v = o[key] ?? fallback;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v <= 0) throw new ConfigError(key, 'must be a positive whole number of bytes');
    return v;
  }
  const m = typeof v === 'string' ? /^(\d+)([KMGT]?)(i?B?)$/.exec(v) : null;
  if (m === null) throw new ConfigError(key, `${JSON.stringify(v)} is not a size (bytes, or a number with K, M, G or T as nixpkgs writes "512M")`);
  const binary = reading === 'iec' || m[3] === 'iB';
  return Number(m[1]) * (binary ? IEC : SI)[m[2]!]!;
}

function parseDisk(o: Obj): DiskConfig {
  const diskFormat = oneOf(o, 'diskFormat', 'diskFormat', DISK_FORMATS) ?? F.diskFormat.default;
  const diskSize = o['diskSize'] === 'auto' || o['diskSize'] === undefined ? 'auto' : sizeOf(o, 'diskSize', '', 'iec');
  if (diskSize !== 'auto' && diskSize % 512 !== 0) throw new ConfigError('diskSize', `${diskSize} is not a whole number of 512-byte sectors`);
  if (diskSize !== 'auto' && diskFormat === 'vhd' && diskSize % MIB !== 0) throw new ConfigError('diskSize', `${diskSize} is not a whole number of MiB, which a fixed VHD needs (Azure)`);
  return {
    diskSize,
    additionalSpace: sizeOf(o, 'additionalSpace', F.additionalSpace.default, 'iec'),
    bootEnd: sizeOf(o, 'bootSize', F.bootSize.default, 'si'),
    bootReserve: sizeOf(o, 'bootSize', F.bootSize.default, 'iec'),
    diskFormat,
    bootTimeout: intField(o, 'bootTimeout', F.bootTimeout) ?? F.bootTimeout.default,
  };
}

/** `fromToplevel`: the boot loaders come from the toplevel's closure, so booting is on by default and needs no images named. */
function parseIso(v: Json, storeDir: string, squashfsDefault: SquashfsCodec, system: string, fromToplevel: boolean): IsoConfig {
  if (v !== undefined && !isObj(v)) throw new ConfigError('iso', 'must be an object');
  const o: Obj = v ?? {};
  onlyKeys(o, 'iso', ISO_KEYS);
  const bootable = bool(o, 'bootable', 'iso.bootable') ?? fromToplevel;
  const efiBootable = bool(o, 'efiBootable', 'iso.efiBootable') ?? fromToplevel;
  const usbBootable = bool(o, 'usbBootable', 'iso.usbBootable') ?? fromToplevel;
  if (!fromToplevel && o['bootTimeout'] !== undefined) throw new ConfigError('iso.bootTimeout', 'only applies with "toplevel" (the boot menus are generated from it)');
  const bootImage = str(o, 'bootImage', 'iso.bootImage') ?? I.bootImage.default;
  const efiBootImage = str(o, 'efiBootImage', 'iso.efiBootImage') ?? I.efiBootImage.default;
  let mbr: ContentSource | null = null;
  if (usbBootable && !fromToplevel) {
    if (!bootable) throw new ConfigError('iso.usbBootable', 'needs "bootable": true (the MBR chains to the El Torito boot image)');
    const src = str(o, 'isohybridMbrImage', 'iso.isohybridMbrImage');
    if (src === undefined) throw new ConfigError('iso.isohybridMbrImage', 'is required when usbBootable is true (e.g. syslinux isohdpfx.bin)');
    mbr = contentSource({ source: src }, 'iso.isohybridMbrImage', storeDir);
  }
  const squashfsContents = stringList(o, 'squashfsContents', 'iso.squashfsContents') ?? [];
  return {
    isoName: fileName(str(o, 'isoName', 'iso.isoName'), 'iso.isoName') ?? `nixos-${system}.iso`,
    volumeID: str(o, 'volumeID', 'iso.volumeID') ?? (fromToplevel ? null : 'NIXOS_ISO'),
    appID: str(o, 'appID', 'iso.appID') ?? I.appID.default,
    publisher: str(o, 'publisher', 'iso.publisher') ?? I.publisher.default,
    bootImage: bootable ? imagePath(bootImage, 'iso.bootImage') : null,
    efiBootImage: efiBootable ? imagePath(efiBootImage, 'iso.efiBootImage') : null,
    isohybridMbrImage: mbr,
    usbBootable,
    squashfsContents: squashfsContents.map((p, i) => storePath(p, `iso.squashfsContents[${i}]`, storeDir)),
    squashfsCompression: oneOf(o, 'squashfsCompression', 'iso.squashfsCompression', SQUASHFS_CODECS) ?? squashfsDefault,
    // iso-image.nix sets boot.loader.timeout = 10.
    bootTimeout: intField(o, 'iso.bootTimeout', I.bootTimeout, 'bootTimeout') ?? I.bootTimeout.default,
  };
}
