import { binaryToText, type BinaryString } from '../io/binary-string.ts';
import { NixImagerError } from '../errors.ts';

/** Two names of one directory could not be made distinct within the length limit. */
export class IsoNameError extends NixImagerError {
  override name = 'IsoNameError';
  readonly code = 'image';
}

/** A name split the way it is shortened and numbered: the base shrinks, the extension stays. */
export interface NameParts {
  base: string;
  /** null: no "." at all (directories). */
  ext: string | null;
  /** ";1" for ISO 9660 files. */
  suffix: string;
  /** Limit of base + "." + ext, in characters. */
  max: number;
}

function render(p: NameParts, base = p.base): string {
  return base + (p.ext === null ? '' : `.${p.ext}`) + p.suffix;
}

/**
 * The characters of a raw name: each valid UTF-8 sequence is one code point, each
 * byte that is not UTF-8 stands alone as U+FFFD (so it becomes one "_" later, like xorriso).
 */
function codePoints(name: BinaryString): number[] {
  return [...binaryToText(name)].map((c) => c.codePointAt(0)!);
}

/** ISO 9660 level 3 as xorriso `-full-iso9660-filenames` makes it: 31 d-characters, "." before the extension. */
export function isoNameParts(name: BinaryString, isDir: boolean): NameParts {
  const d = codePoints(name)
    .map((c) => (c >= 0x61 && c <= 0x7a ? c - 0x20 : c))
    .map((c) => String.fromCharCode((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e ? c : 0x5f))
    .join('');
  if (isDir) return { base: d.replaceAll('.', '_').slice(0, 31), ext: null, suffix: '', max: 31 };
  const dot = d.lastIndexOf('.');
  let base = (dot < 0 ? d : d.slice(0, dot)).replaceAll('.', '_');
  let ext = dot < 0 ? '' : d.slice(dot + 1);
  if (base.length + 1 + ext.length > 31) {
    ext = ext.slice(0, Math.max(3, 30 - base.length));
    base = base.slice(0, 30 - ext.length);
  }
  return { base, ext, suffix: ';1', max: 31 };
}

const JOLIET_MAX = 64;

/** Joliet as xorriso `-joliet` makes it: UTF-16 (UCS-2 plus surrogate pairs), 64 units, no version. */
export function jolietNameParts(name: BinaryString, isDir: boolean): NameParts {
  const text = codePoints(name)
    .map((c) => (c < 0x20 || c === 0xfffd || '*/:;?\\'.includes(String.fromCharCode(c)) ? '_' : String.fromCodePoint(c)))
    .join('');
  const dot = text.lastIndexOf('.');
  if (isDir || dot <= 0 || text.length - dot > 16) return { base: cutUtf16(text, JOLIET_MAX), ext: null, suffix: '', max: JOLIET_MAX };
  const ext = text.slice(dot + 1);
  return { base: cutUtf16(text.slice(0, dot), JOLIET_MAX - 1 - ext.length), ext, suffix: '', max: JOLIET_MAX };
}

/** The first `n` UTF-16 units, never ending in half a surrogate pair. */
function cutUtf16(s: string, n: number): string {
  if (s.length <= n) return s;
  const c = s.charCodeAt(n - 1);
  return s.slice(0, c >= 0xd800 && c < 0xdc00 ? n - 1 : n);
}

function digits(n: number): number {
  return String(Math.max(0, n)).length;
}

/**
 * Final names of one directory's entries (given in byte order of their original names):
 * names that collide all get a number in place of the end of their base, like xorriso's
 * README0.TXT, README1.TXT: the lowest number whose name is still free, more digits
 * when the numbers of that width run out.
 */
export function uniqueNames(parts: NameParts[], where: string): string[] {
  const out = parts.map((p) => render(p));
  const groups = new Map<string, number[]>();
  out.forEach((n, i) => groups.set(n, [...(groups.get(n) ?? []), i]));
  const taken = new Set<string>();
  for (const [n, members] of groups) if (members.length === 1) taken.add(n);
  // Next number to try per shortened name and width, so many collisions stay linear.
  const next = new Map<string, number>();
  for (const [n, members] of groups) {
    if (members.length === 1) continue;
    for (const i of members) {
      const p = parts[i]!;
      for (let d = digits(members.length - 1); ; d++) {
        const room = p.max - (p.ext === null ? 0 : p.ext.length + 1) - d;
        if (room < 0) throw new IsoNameError(`${where}: cannot give the ${members.length} entries named like ${JSON.stringify(n)} distinct names`);
        const stem = p.base.slice(0, room);
        const key = `${d}/${render(p, stem)}`;
        let k = next.get(key) ?? 0;
        let found: string | undefined;
        for (; k < 10 ** d && found === undefined; k++) {
          const candidate = render(p, stem + String(k).padStart(d, '0'));
          if (!taken.has(candidate)) found = candidate;
        }
        next.set(key, k);
        if (found !== undefined) {
          out[i] = found;
          taken.add(found);
          break;
        }
      }
    }
  }
  return out;
}
