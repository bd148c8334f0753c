// Credentials for private binary caches, taken the way Nix takes them: a netrc file (Nix hands
// `netrc-file` to curl, which sends Basic auth to the host a `machine` line names) and, for caches
// that want one, a bearer token per host. A secret is only ever sent to the host it was given for.
import { base64Encode } from '../nix/base64.ts';
import { NixImagerError } from '../errors.ts';

export interface NetrcEntry {
  /** The host name, lower-case; undefined for the `default` entry. */
  machine: string | undefined;
  login: string;
  password: string;
}

export class NetrcError extends NixImagerError {
  override name = 'NetrcError';
  readonly code = 'config';
}

/** Whitespace-separated tokens; a double-quoted token may hold spaces and \" \\ \n \r \t escapes (as curl reads them). */
function* tokens(text: string): Generator<{ value: string; line: number }> {
  let line = 1;
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    let value = '';
    if (c === '"') {
      const ESC: Record<string, string> = { n: '\n', r: '\r', t: '\t' };
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\' && i + 1 < text.length) value += ESC[text[++i]!] ?? text[i];
        else value += text[i];
      }
      if (i >= text.length) throw new NetrcError(`netrc line ${line}: a quoted value has no closing quote`);
      i++;
    } else {
      while (i < text.length && !/\s/.test(text[i]!)) value += text[i++];
    }
    yield { value, line };
  }
}

/** The text with each `macdef` and its body (up to the next empty line) blanked, line numbers kept. */
function withoutMacros(text: string): string {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const at = lines[i]!.search(/(^|\s)macdef(\s|$)/);
    if (at < 0) continue;
    lines[i] = lines[i]!.slice(0, at);
    for (i++; i < lines.length && lines[i]!.trim() !== ''; i++) lines[i] = '';
  }
  return lines.join('\n');
}

/** Parses a netrc file: `machine`, `default`, `login`, `password`; `account` and `macdef` (a macro, to the next empty line) are read past. */
export function parseNetrc(text: string): NetrcEntry[] {
  const out: NetrcEntry[] = [];
  let current: NetrcEntry | undefined;
  const it = tokens(withoutMacros(text));
  const next = (after: string, line: number): string => {
    const t = it.next();
    if (t.done) throw new NetrcError(`netrc line ${line}: "${after}" needs a value`);
    return t.value.value;
  };
  for (let t = it.next(); !t.done; t = it.next()) {
    const { value, line } = t.value;
    switch (value) {
      case 'machine':
        out.push((current = { machine: next(value, line).toLowerCase(), login: '', password: '' }));
        break;
      case 'default':
        out.push((current = { machine: undefined, login: '', password: '' }));
        break;
      case 'login':
      case 'password':
        if (current === undefined) throw new NetrcError(`netrc line ${line}: "${value}" before any "machine" or "default"`);
        current[value] = next(value, line);
        break;
      case 'account':
        next(value, line);
        break;
      default:
        throw new NetrcError(`netrc line ${line}: unexpected word (expected machine, default, login, password or account)`);
    }
  }
  return out;
}

export interface CacheCredentials {
  netrc: readonly NetrcEntry[];
  /** Bearer tokens by host name (lower-case). */
  tokens: ReadonlyMap<string, string>;
}

export const NO_CREDENTIALS: CacheCredentials = { netrc: [], tokens: new Map() };

/**
 * The Authorization header for a request to `url`, or undefined: a bearer token for its host if one
 * is set, else the first netrc entry for its host (port ignored), else the `default` entry.
 */
export function authorizationFor(url: string, creds: CacheCredentials): string | undefined {
  let host: string;
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
    host = u.hostname.toLowerCase();
  } catch {
    return undefined;
  }
  const token = creds.tokens.get(host);
  if (token !== undefined) return `Bearer ${token}`;
  const entry = creds.netrc.find((e) => e.machine === host) ?? creds.netrc.find((e) => e.machine === undefined);
  if (entry === undefined) return undefined;
  return `Basic ${base64Encode(new TextEncoder().encode(`${entry.login}:${entry.password}`))}`;
}

/** Every secret in `creds`, for scrubbing text that is about to be shown. */
export function secretsOf(creds: CacheCredentials): string[] {
  return [...creds.tokens.values(), ...creds.netrc.map((e) => e.password)].filter((s) => s.length >= 4);
}
