import type { NarEntry } from '../nix/nar-reader.ts';

/**
 * What one full verification of a cached NAR found, kept beside it so the next build can trust the
 * entry without hashing it again: the narinfo's NarHash (nix32) and NarSize it matched, the file's
 * identity when it was verified (`stamp`: size, times, inode as the cache knows them) and the NAR's
 * listing. Trusted only while all three still match.
 */
export interface NarRecord {
  narHash: string;
  narSize: number;
  stamp: string;
  entries: NarEntry[];
}

type EntryCells = ['d', string] | ['r', string, boolean, number, number] | ['s', string, string];

const cellsOf = (e: NarEntry): EntryCells => (e.type === 'directory' ? ['d', e.path] : e.type === 'regular' ? ['r', e.path, e.executable, e.size, e.offset] : ['s', e.path, e.target]);

/** JSON keeps binary-string paths exactly (every char is ≤ 0xff). */
export function encodeNarRecord(r: NarRecord): string {
  return JSON.stringify({ v: 1, narHash: r.narHash, narSize: r.narSize, stamp: r.stamp, entries: r.entries.map(cellsOf) });
}

const isString = (x: unknown): x is string => typeof x === 'string';
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

function entryOf(c: unknown, narSize: number): NarEntry | null {
  if (!Array.isArray(c) || !isString(c[1])) return null;
  if (c[0] === 'd' && c.length === 2) return { type: 'directory', path: c[1] };
  if (c[0] === 's' && c.length === 3 && isString(c[2])) return { type: 'symlink', path: c[1], target: c[2] };
  if (c[0] === 'r' && c.length === 5 && typeof c[2] === 'boolean' && isCount(c[3]) && isCount(c[4]) && c[3] + c[4] <= narSize) {
    return { type: 'regular', path: c[1], executable: c[2], size: c[3], offset: c[4] };
  }
  return null;
}

/** The record in `text`, or null when it is not one of ours in full (a torn or foreign file: verify again). */
export function decodeNarRecord(text: string): NarRecord | null {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return null;
  }
  const o = j as Partial<Record<'v' | 'narHash' | 'narSize' | 'stamp' | 'entries', unknown>>;
  if (o === null || typeof o !== 'object' || o.v !== 1 || !isString(o.narHash) || !isCount(o.narSize) || !isString(o.stamp) || !Array.isArray(o.entries)) return null;
  const entries: NarEntry[] = [];
  for (const c of o.entries) {
    const e = entryOf(c, o.narSize);
    if (e === null) return null;
    entries.push(e);
  }
  return { narHash: o.narHash, narSize: o.narSize, stamp: o.stamp, entries };
}
