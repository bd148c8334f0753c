import { NixHashError, parseNixHash, type NixHash } from './hash.ts';
import { DEFAULT_STORE_DIR, parseStorePath, parseStorePathBaseName, StorePathError } from './store-path.ts';
import { NixImagerError } from '../errors.ts';

export interface NarInfo {
  storePath: string;
  /** Relative to the cache root; checked to stay inside the cache. */
  url: string;
  compression: string;
  fileHash?: NixHash;
  fileSize?: number;
  narHash: NixHash;
  narSize: number;
  /** Full store paths, in the order the narinfo lists them. */
  references: string[];
  deriver?: string;
  sigs: string[];
  ca?: string;
}

export interface ParseNarInfoOptions {
  storeDir?: string;
  /** The store path this narinfo was fetched for; a different StorePath is an error. */
  expectedStorePath?: string;
  /** Where the text came from (file name or URL), for messages when the store path is unknown. */
  source?: string;
}

export class NarInfoError extends NixImagerError {
  override name = 'NarInfoError';
  readonly code = 'nar';
  constructor(
    subject: string,
    readonly field: string | undefined,
    problem: string,
  ) {
    super(`narinfo for ${subject}: ${field === undefined ? '' : `field ${field}: `}${problem}`, { subject });
  }
}

const KNOWN_KEYS = new Set(['StorePath', 'URL', 'Compression', 'FileHash', 'FileSize', 'NarHash', 'NarSize', 'References', 'Deriver', 'Sig', 'CA']);

/**
 * Why a narinfo URL would leave the cache (or be unusable), or undefined when it is a
 * plain relative reference. Percent-encoded dots and slashes count as what they decode to,
 * since URL resolution treats `%2e%2e` as `..`.
 */
function urlProblem(url: string): string | undefined {
  if (url === '') return 'it is empty';
  if (/[\x00-\x20\x7f\\]/.test(url)) return 'it contains whitespace, a control character or a backslash';
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(url)) return 'it is an absolute URL';
  if (url.startsWith('/')) return 'it is an absolute path';
  const path = url.split(/[?#]/, 1)[0]!;
  if (path === '') return 'it names no file, only a query or fragment';
  if (/%2f/i.test(path)) return 'it contains an encoded "/"';
  for (const segment of path.split('/')) {
    const decoded = segment.replace(/%2e/gi, '.');
    if (decoded === '..' || decoded === '.') return `it has a "${segment}" path segment`;
  }
  return undefined;
}

function parseDecimal(value: string): number | undefined {
  if (!/^[0-9]{1,16}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Parses a `.narinfo` with Nix's rules, plus a check that URL stays inside the cache and that no key repeats (but Sig). */
export function parseNarInfo(text: string, opts: ParseNarInfoOptions = {}): NarInfo {
  const storeDir = opts.storeDir ?? DEFAULT_STORE_DIR;
  const fields = new Map<string, string>();
  const sigs: string[] = [];
  const early = opts.expectedStorePath ?? opts.source ?? 'a narinfo of unknown origin';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) throw new NarInfoError(early, undefined, `line ${JSON.stringify(line)} is not of the form "Key: value"`);
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (key === 'Sig') {
      if (value === '') throw new NarInfoError(early, 'Sig', 'it is empty');
      sigs.push(value);
    } else if (KNOWN_KEYS.has(key)) {
      if (fields.has(key)) throw new NarInfoError(early, key, 'it appears more than once');
      fields.set(key, value);
    }
  }

  const storePathText = fields.get('StorePath');
  if (storePathText === undefined) throw new NarInfoError(early, 'StorePath', 'it is missing');
  const subject = opts.expectedStorePath ?? storePathText;
  const fail = (field: string, problem: string): never => {
    throw new NarInfoError(subject, field, problem);
  };
  const guard = <T>(field: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof StorePathError || e instanceof NixHashError) return fail(field, e.message);
      throw e;
    }
  };

  const storePath = guard('StorePath', () => parseStorePath(storePathText, storeDir)).path;
  if (opts.expectedStorePath !== undefined && storePath !== opts.expectedStorePath) {
    fail('StorePath', `it is ${storePath}, not the requested ${opts.expectedStorePath}`);
  }

  const url = fields.get('URL') ?? fail('URL', 'it is missing');
  const badUrl = urlProblem(url);
  if (badUrl) fail('URL', `${JSON.stringify(url)} is refused: ${badUrl}`);

  const narHashText = fields.get('NarHash') ?? fail('NarHash', 'it is missing');
  const narHash = guard('NarHash', () => parseNixHash(narHashText));
  if (narHash.algo !== 'sha256') fail('NarHash', `it is a ${narHash.algo} hash, Nix requires sha256`);

  const narSizeText = fields.get('NarSize') ?? fail('NarSize', 'it is missing');
  const narSize = parseDecimal(narSizeText) ?? fail('NarSize', `${JSON.stringify(narSizeText)} is not a decimal number`);
  if (narSize === 0) fail('NarSize', 'it is 0, and no NAR is empty');

  const info: NarInfo = {
    storePath,
    url,
    compression: fields.get('Compression') || 'bzip2',
    narHash,
    narSize,
    references: [],
    sigs,
  };

  const fileHashText = fields.get('FileHash');
  if (fileHashText !== undefined) info.fileHash = guard('FileHash', () => parseNixHash(fileHashText));
  const fileSizeText = fields.get('FileSize');
  if (fileSizeText !== undefined) {
    info.fileSize = parseDecimal(fileSizeText) ?? fail('FileSize', `${JSON.stringify(fileSizeText)} is not a decimal number`);
  }
  const refs = fields.get('References');
  if (refs !== undefined) {
    info.references = refs
      .split(/\s+/)
      .filter((r) => r !== '')
      .map((r) => guard('References', () => parseStorePathBaseName(r, storeDir)).path);
  }
  const deriver = fields.get('Deriver');
  if (deriver !== undefined && deriver !== '' && deriver !== 'unknown-deriver') {
    info.deriver = guard('Deriver', () => parseStorePathBaseName(deriver, storeDir)).path;
  }
  const ca = fields.get('CA');
  if (ca !== undefined && ca !== '') info.ca = ca;
  return info;
}

