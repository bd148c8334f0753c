// VFAT names: every entry has an 8.3 short name (11 bytes, upper case, space padded); a name that
// is not already one is also stored as a long name (UTF-16, up to 255 units) in LFN slots before
// it. Short names for long ones follow the Microsoft FAT specification's basis-name algorithm:
// upper case, spaces and leading dots dropped, characters a short name cannot hold turned into
// "_", base before the last dot cut to 8 and extension to 3; when that lost anything or is
// taken, a numeric tail "~N" (the lowest N free in the directory) replaces the end of the base.
import { FatError } from './fat-error.ts';

export const MAX_LONG_NAME = 255;

export interface DirName {
  /** The name as stored in the long entries (UTF-16), or undefined when the short name is the name. */
  long: string | undefined;
  /** 11 bytes: 8 of base, 3 of extension, space padded. */
  short: Uint8Array;
}

/** Characters a long name may not hold (besides controls below 0x20). */
const NOT_IN_LONG = new Set('"*/:<>?\\|');
/** Characters besides A-Z and 0-9 that a short name may hold (ASCII only: no OEM code page is assumed). */
const SHORT_PUNCTUATION = new Set("!#$%&'()-@^_`{}~");

const isShortChar = (c: string) => (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || SHORT_PUNCTUATION.has(c);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The long name of a tree entry (its UTF-8 bytes decoded), refused with a reason when VFAT cannot hold it. */
export function longNameOf(nameBytes: Uint8Array, shown: () => string): string {
  let name: string;
  try {
    name = utf8.decode(nameBytes);
  } catch {
    throw new FatError(`${shown()}: the name is not UTF-8, and VFAT names are Unicode`);
  }
  if (name.length > MAX_LONG_NAME) throw new FatError(`${shown()}: the name is ${name.length} UTF-16 units long; VFAT holds at most ${MAX_LONG_NAME}`);
  for (const c of name) {
    if (c < ' ' || NOT_IN_LONG.has(c)) throw new FatError(`${shown()}: VFAT names cannot hold ${JSON.stringify(c)}`);
  }
  // Windows and Linux drop trailing dots and spaces when they look a name up, so it could not be found.
  if (name.endsWith('.') || name.endsWith(' ')) throw new FatError(`${shown()}: VFAT names cannot end with a dot or a space`);
  return name;
}

/** The 11 characters of a short name (strings while choosing: cheap to compare and keep in a set). */
const padded = (base: string, ext: string): string => base.padEnd(8, ' ') + ext.padEnd(3, ' ');

function shortBytes(short: string): Uint8Array {
  const out = new Uint8Array(11);
  for (let i = 0; i < 11; i++) out[i] = short.charCodeAt(i);
  return out;
}

/** The name as its own short name, when it is one: 1-8 short characters, optionally a dot and 1-3 more. */
function exactShortName(name: string): string | undefined {
  const m = /^([^.]{1,8})(?:\.([^.]{1,3}))?$/.exec(name);
  if (m === null) return undefined;
  const [, base, ext = ''] = m;
  if (![...base!, ...ext].every(isShortChar)) return undefined;
  return padded(base!, ext);
}

interface Basis {
  base: string;
  ext: string;
  /** Whether the basis lost something (a character turned into "_", or cut off), so it needs a numeric tail. */
  lossy: boolean;
}

function shortChars(s: string): { chars: string; lossy: boolean } {
  let chars = '';
  let lossy = false;
  for (const c of s) {
    if (c === ' ') continue;
    const u = c < '\x80' ? c.toUpperCase() : c;
    if (isShortChar(u)) chars += u;
    else {
      chars += '_';
      lossy = true;
    }
  }
  return { chars, lossy };
}

function basisName(name: string): Basis {
  const stripped = name.replace(/^[. ]+/, '');
  const dot = stripped.lastIndexOf('.');
  const b = shortChars((dot < 0 ? stripped : stripped.slice(0, dot)).replaceAll('.', ''));
  const e = shortChars(dot < 0 ? '' : stripped.slice(dot + 1));
  const base = b.chars === '' ? '_' : b.chars;
  const dropped = stripped !== name || name.includes(' ') || dot !== stripped.indexOf('.');
  const lossy = dropped || b.lossy || e.lossy || b.chars === '' || base.length > 8 || e.chars.length > 3;
  return { base: base.slice(0, 8), ext: e.chars.slice(0, 3), lossy };
}

/** Upper case, one code point for one (so "ß" stays itself rather than becoming "SS"). */
function caseFolded(name: string): string {
  if (/^[\x20-\x7e]*$/.test(name)) return name.toUpperCase();
  let out = '';
  for (const c of name) {
    const u = c.toUpperCase();
    out += [...u].length === 1 ? u : c;
  }
  return out;
}

/**
 * Names for one directory's entries, in the order given: names that are short names keep them,
 * then the others get theirs in order, so the result depends only on the set of names.
 * Two names that FAT would take for one (equal ignoring case) are refused.
 */
export function directoryNames(names: readonly string[], shownDir: () => string): DirName[] {
  const folded = new Map<string, string>();
  for (const n of names) {
    const f = caseFolded(n);
    const other = folded.get(f);
    if (other !== undefined) throw new FatError(`${shownDir()}: ${JSON.stringify(other)} and ${JSON.stringify(n)} differ only in case, and FAT ignores case`);
    folded.set(f, n);
  }
  const taken = new Set<string>();
  const out: (DirName | undefined)[] = names.map((n) => {
    const short = exactShortName(n);
    if (short === undefined) return undefined;
    taken.add(short);
    return { long: undefined, short: shortBytes(short) };
  });
  const tails: Tails = new Map();
  names.forEach((n, i) => {
    if (out[i] !== undefined) return;
    const short = shortNameFor(basisName(n), taken, tails, shownDir);
    taken.add(short);
    out[i] = { long: n, short: shortBytes(short) };
  });
  return out as DirName[];
}

/** The lowest numeric tail tried so far for each basis: every lower one was taken, and taken names stay taken. */
type Tails = Map<string, number>;

function shortNameFor(b: Basis, taken: Set<string>, tails: Tails, shownDir: () => string): string {
  if (!b.lossy) {
    const plain = padded(b.base, b.ext);
    if (!taken.has(plain)) return plain;
  }
  const basis = `${b.base}.${b.ext}`;
  for (let n = tails.get(basis) ?? 1; n < 1_000_000; n++) {
    const tail = `~${n}`;
    const candidate = padded(b.base.slice(0, 8 - tail.length) + tail, b.ext);
    if (!taken.has(candidate)) {
      tails.set(basis, n + 1);
      return candidate;
    }
  }
  throw new FatError(`${shownDir()}: no free short name for ${basis}`);
}

/** The checksum of a short name that each of its long entries carries (a rotate-right-and-add over the 11 bytes). */
export function shortNameChecksum(short: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + short[i]!) & 0xff;
  return sum;
}
