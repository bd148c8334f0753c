import type { ConfigJson } from './config-draft.ts';
import { NixImagerError } from '../core/errors.ts';

/** `#config=<base64url of the JSON>`: a link that reproduces a build. */
const KEY = 'config=';

export class ConfigLinkError extends NixImagerError {
  override name = 'ConfigLinkError';
  readonly code = 'config';
}

export function encodeConfigFragment(config: ConfigJson): string {
  const bytes = new TextEncoder().encode(JSON.stringify(config));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return '#' + KEY + btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The config in a location hash, null when there is none; throws ConfigLinkError when it is damaged. */
export function decodeConfigFragment(hash: string): unknown {
  const h = hash.replace(/^#/, '');
  if (!h.startsWith(KEY)) return null;
  const b64 = h.slice(KEY.length).replace(/-/g, '+').replace(/_/g, '/');
  let json: string;
  try {
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    json = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    throw new ConfigLinkError('the link’s #config= part is not valid base64url-encoded UTF-8 (was it cut short when copied?)');
  }
  try {
    return JSON.parse(json);
  } catch (e) {
    throw new ConfigLinkError(`the link’s config is not valid JSON: ${(e as Error).message}`);
  }
}
