/**
 * The config as the CLI reads it (node/cli.ts HELP): plain JSON the form edits, the URL fragment
 * carries and Export writes. core/pipeline/config.ts parseConfig validates it and fills defaults.
 */
export interface StoreContentJson {
  object: string;
  symlink?: string;
}

export type ContentJson = { source: string; target: string } | { text: string; target: string };

export interface IsoJson {
  isoName?: string;
  volumeID?: string;
  appID?: string;
  publisher?: string;
  bootable?: boolean;
  bootImage?: string;
  efiBootable?: boolean;
  efiBootImage?: string;
  usbBootable?: boolean;
  isohybridMbrImage?: string;
  squashfsContents?: string[];
  squashfsCompression?: string;
}

export interface ConfigJson {
  /** The form edits tarball, iso, squashfs and netboot; the toplevel targets (web/targets.ts) may name others. */
  format: 'tarball' | 'iso' | 'squashfs' | 'disk' | 'netboot';
  toplevel?: string;
  preset?: string;
  diskFormat?: string;
  substituters?: string[];
  trustedPublicKeys?: string[];
  requireSigs?: boolean;
  storeContents?: StoreContentJson[];
  contents?: ContentJson[];
  compression?: 'none' | 'gzip' | 'xz' | 'zstd';
  xzPreset?: number;
  xzBlockSize?: number;
  threads?: number;
  squashfsCompression?: string;
  squashfsBlockSize?: number;
  sourceDateEpoch?: number;
  fileName?: string;
  system?: string;
  iso?: IsoJson;
}

/** A content entry's source: a store path, a file dropped into the page (by its name), or typed text. */
export type ContentKind = 'store' | 'file' | 'text';

export function contentKind(c: ContentJson): ContentKind {
  if ('text' in c) return 'text';
  return c.source.startsWith('/nix/store/') ? 'store' : 'file';
}

/** Drops empty optional fields so an exported config stays as short as one written by hand. */
export function tidy(config: ConfigJson): ConfigJson {
  const out = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  const prune = (o: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(o)) {
      if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) delete o[k];
      else if (typeof v === 'object' && v !== null && !Array.isArray(v)) prune(v as Record<string, unknown>);
    }
  };
  prune(out);
  return out as unknown as ConfigJson;
}
