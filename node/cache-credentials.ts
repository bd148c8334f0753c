// Where the CLI takes credentials for private caches from: a netrc file as Nix reads one, and
// bearer tokens per host from the command line or the environment.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseNetrc, type CacheCredentials, type NetrcEntry } from '../core/cache/credentials.ts';
import { NixImagerError } from '../core/errors.ts';

export const DEFAULT_NETRC_FILES = ['/etc/nix/netrc', join(homedir(), '.netrc')];
const TOKEN_ENV_PREFIX = 'NIX_IMAGER_TOKEN_';

/** The environment variable that holds a token for `host`: NIX_IMAGER_TOKEN_ and the host, upper-case, with every other character "_". */
export function tokenVariable(host: string): string {
  return TOKEN_ENV_PREFIX + host.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

export class CredentialsError extends NixImagerError {
  override name = 'CredentialsError';
  readonly code = 'config';
}

async function netrcEntries(given: string | undefined): Promise<NetrcEntry[]> {
  if (given !== undefined) {
    let text: string;
    try {
      text = await readFile(given, 'utf8');
    } catch (e) {
      throw new CredentialsError(`cannot read the netrc file ${given}: ${(e as Error).message}`);
    }
    return parseNamed(text, given);
  }
  // The defaults count only when they are there and readable, as curl takes ~/.netrc.
  for (const file of DEFAULT_NETRC_FILES) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) return parseNamed(text, file);
  }
  return [];
}

function parseNamed(text: string, file: string): NetrcEntry[] {
  try {
    return parseNetrc(text);
  } catch (e) {
    throw new CredentialsError(`${file}: ${(e as Error).message}`);
  }
}

/**
 * Credentials for `hosts` (the substituters' host names): the netrc file (`netrcFile`, else
 * $NIX_IMAGER_NETRC, else /etc/nix/netrc, else ~/.netrc) and bearer tokens, `--token HOST=TOKEN`
 * before $NIX_IMAGER_TOKEN_<HOST>.
 */
export async function loadCredentials(opts: { netrcFile?: string; tokens: string[]; hosts: string[]; env: NodeJS.ProcessEnv }): Promise<CacheCredentials> {
  const netrc = await netrcEntries(opts.netrcFile ?? (opts.env['NIX_IMAGER_NETRC'] || undefined));
  const tokens = new Map<string, string>();
  for (const host of opts.hosts) {
    const value = opts.env[tokenVariable(host)];
    if (value) tokens.set(host.toLowerCase(), value);
  }
  for (const t of opts.tokens) {
    const eq = t.indexOf('=');
    if (eq <= 0 || eq === t.length - 1) throw new CredentialsError('--token takes HOST=TOKEN (the host name of a substituter, without scheme or port)');
    tokens.set(t.slice(0, eq).toLowerCase(), t.slice(eq + 1));
  }
  return { netrc, tokens };
}

/** What to tell a user a cache refused (401/403): where credentials for `host` go. */
export function authHint(host: string): string {
  return `give them in a netrc file ("machine ${host} login … password …"; --netrc-file, $NIX_IMAGER_NETRC, /etc/nix/netrc or ~/.netrc) or as a bearer token (--token ${host}=… or $${tokenVariable(host)})`;
}
