import { DEFAULT_STORE_DIR } from './store-path.ts';
import { NixImagerError } from '../errors.ts';

export interface CacheInfo {
  storeDir: string;
  wantMassQuery: boolean;
  priority: number;
}

export class CacheInfoError extends NixImagerError {
  override name = 'CacheInfoError';
  readonly code = 'nar';
}

/** Parses a binary cache's `nix-cache-info` (`Key: value` lines; unknown keys ignored). Defaults as Nix's: /nix/store, false, 50. */
export function parseCacheInfo(text: string): CacheInfo {
  const info: CacheInfo = { storeDir: DEFAULT_STORE_DIR, wantMassQuery: false, priority: 50 };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) throw new CacheInfoError(`nix-cache-info: line ${JSON.stringify(line)} has no "Key: value" form`);
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (key === 'StoreDir') {
      if (!value.startsWith('/')) throw new CacheInfoError(`nix-cache-info: StoreDir ${JSON.stringify(value)} is not an absolute path`);
      info.storeDir = value.replace(/\/+$/, '') || '/';
    } else if (key === 'WantMassQuery') {
      info.wantMassQuery = value === '1';
    } else if (key === 'Priority') {
      if (!/^[0-9]+$/.test(value)) throw new CacheInfoError(`nix-cache-info: Priority ${JSON.stringify(value)} is not a decimal number`);
      info.priority = Number(value);
    }
  }
  return info;
}
