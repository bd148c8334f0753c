import { isNix32Char } from './nix32.ts';
import { NixImagerError } from '../errors.ts';

export const DEFAULT_STORE_DIR = '/nix/store';

/** Length of the nix32 hash part of a store path (160 bits). */
export const HASH_PART_LENGTH = 32;
/** Longest name Nix accepts after `<hash>-`. */
export const MAX_NAME_LENGTH = 211;

export interface StorePath {
  /** The full path, `<storeDir>/<hash>-<name>`. */
  path: string;
  hashPart: string;
  name: string;
}

export class StorePathError extends NixImagerError {
  override name = 'StorePathError';
  readonly code = 'config';
  constructor(
    readonly storePath: string,
    rule: string,
  ) {
    super(`invalid store path "${storePath}": ${rule}`, { subject: storePath });
  }
}

const NAME_CHAR = /^[0-9a-zA-Z+\-._?=]$/;

/** The problem with a store path name, per Nix's checkName (leading dots allowed, but not `.`, `..`, `.-…`, `..-…`). */
function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'the name is empty';
  if (name.length > MAX_NAME_LENGTH) return `the name is longer than ${MAX_NAME_LENGTH} characters`;
  if (name === '.' || name === '..' || name.startsWith('.-') || name.startsWith('..-')) {
    return `the name's first dash-separated component must not be "." or ".."`;
  }
  for (const c of name) if (!NAME_CHAR.test(c)) return `the name contains the illegal character ${JSON.stringify(c)}`;
  return undefined;
}

/** Parses a base name `<hash>-<name>` (what narinfo References hold). */
export function parseStorePathBaseName(baseName: string, storeDir = DEFAULT_STORE_DIR): StorePath {
  const path = `${storeDir}/${baseName}`;
  if (baseName.length < HASH_PART_LENGTH + 1) throw new StorePathError(path, 'it is too short to hold a hash part and a name');
  const hashPart = baseName.slice(0, HASH_PART_LENGTH);
  for (const c of hashPart) {
    if (!isNix32Char(c)) throw new StorePathError(path, `the hash part contains ${JSON.stringify(c)}, which is not a nix32 character`);
  }
  if (baseName[HASH_PART_LENGTH] !== '-') throw new StorePathError(path, `the hash part is not followed by "-"`);
  const name = baseName.slice(HASH_PART_LENGTH + 1);
  const problem = nameProblem(name);
  if (problem) throw new StorePathError(path, problem);
  return { path, hashPart, name };
}

/** Parses a full store path `<storeDir>/<hash>-<name>`. */
export function parseStorePath(path: string, storeDir = DEFAULT_STORE_DIR): StorePath {
  const prefix = `${storeDir}/`;
  if (!path.startsWith(prefix)) throw new StorePathError(path, `it is not in the store directory ${storeDir}`);
  const baseName = path.slice(prefix.length);
  if (baseName.includes('/')) throw new StorePathError(path, 'it names a path inside a store path, not a store path');
  return parseStorePathBaseName(baseName, storeDir);
}

/** Splits `<storeDir>/<hash>-<name>/sub/path` into the store path and the rest (`''`, or starting with `/`). */
export function storePathOf(fullPathInside: string, storeDir = DEFAULT_STORE_DIR): { storePath: string; subPath: string } {
  const prefix = `${storeDir}/`;
  if (!fullPathInside.startsWith(prefix)) throw new StorePathError(fullPathInside, `it is not in the store directory ${storeDir}`);
  const slash = fullPathInside.indexOf('/', prefix.length);
  const storePath = slash < 0 ? fullPathInside : fullPathInside.slice(0, slash);
  parseStorePath(storePath, storeDir);
  return { storePath, subPath: slash < 0 ? '' : fullPathInside.slice(slash) };
}
