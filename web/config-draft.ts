import type { ConfigJson, ContentJson } from '../core/pipeline/config-schema.ts';

/**
 * The config as the CLI reads it: plain JSON the form edits, the URL fragment carries and Export
 * writes. Its type derives from core/pipeline/config-schema.ts; parseConfig validates it and fills defaults.
 */
export type { ConfigJson, ContentJson, IsoJson, StoreContentJson } from '../core/pipeline/config-schema.ts';

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
