// 32-byte directory entries: the short entry (name, attributes, times, first cluster, size) and
// the long-name (LFN) entries before it, 13 UTF-16 units each, last part first.
import { shortNameChecksum } from './short-names.ts';

export const ENTRY = 32;
export const ATTR_READ_ONLY = 0x01;
export const ATTR_VOLUME_ID = 0x08;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;
const ATTR_LONG_NAME = 0x0f;
const LAST_LONG_ENTRY = 0x40;
const UNITS_PER_LONG_ENTRY = 13;
/** Where a long entry keeps its 13 units: 5 after the order byte, 6 after the checksum, 2 after the cluster field. */
const UNIT_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

/** A FAT date and time (local time with no zone: we write UTC) with 2-second resolution, and the creation time's tenths. */
export interface DosTime {
  date: number;
  time: number;
  /** Hundredths of a second (0-199) added to the creation time: the odd second. */
  hundredths: number;
}

/** FAT dates run from 1980 to 2107; times outside are pinned to the nearest end (mkfs.fat pins to 1980-01-01 too). */
export function dosTime(epochSeconds: number): DosTime {
  const first = Date.UTC(1980, 0, 1) / 1000;
  const last = Date.UTC(2107, 11, 31, 23, 59, 58) / 1000;
  const t = new Date(Math.min(Math.max(epochSeconds, first), last) * 1000);
  return {
    date: ((t.getUTCFullYear() - 1980) << 9) | ((t.getUTCMonth() + 1) << 5) | t.getUTCDate(),
    time: (t.getUTCHours() << 11) | (t.getUTCMinutes() << 5) | (t.getUTCSeconds() >> 1),
    hundredths: (t.getUTCSeconds() & 1) * 100,
  };
}

export interface ShortEntry {
  short: Uint8Array;
  attr: number;
  /** 0 for empty files and for ".." pointing at the root. */
  cluster: number;
  size: number;
  time: DosTime;
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Writes a short entry at `at` in a zeroed buffer. */
export function putShortEntry(b: Uint8Array, at: number, e: ShortEntry): void {
  const v = view(b);
  b.set(e.short, at);
  b[at + 11] = e.attr;
  b[at + 13] = e.time.hundredths;
  v.setUint16(at + 14, e.time.time, true);
  v.setUint16(at + 16, e.time.date, true);
  v.setUint16(at + 18, e.time.date, true);
  v.setUint16(at + 20, e.cluster >>> 16, true);
  v.setUint16(at + 22, e.time.time, true);
  v.setUint16(at + 24, e.time.date, true);
  v.setUint16(at + 26, e.cluster & 0xffff, true);
  v.setUint32(at + 28, e.size, true);
}

export const longEntryCount = (long: string | undefined): number => (long === undefined ? 0 : Math.ceil(long.length / UNITS_PER_LONG_ENTRY));

/** Entries a name takes in its directory. */
export const entriesFor = (long: string | undefined): number => 1 + longEntryCount(long);

/**
 * Writes the long entries of `long` at `at` (longEntryCount(long) × 32 bytes): the name ends with a
 * 0x0000 unit unless it fills its last entry, then 0xFFFF fills the rest.
 */
export function putLongEntries(b: Uint8Array, at: number, long: string, short: Uint8Array): void {
  const count = longEntryCount(long);
  const checksum = shortNameChecksum(short);
  const v = view(b);
  for (let k = 0; k < count; k++) {
    const part = count - k; // 1-based part number; the last part is written first
    const e = at + k * ENTRY;
    b[e] = part | (part === count ? LAST_LONG_ENTRY : 0);
    b[e + 11] = ATTR_LONG_NAME;
    b[e + 13] = checksum;
    for (let u = 0; u < UNITS_PER_LONG_ENTRY; u++) {
      const i = (part - 1) * UNITS_PER_LONG_ENTRY + u;
      v.setUint16(e + UNIT_OFFSETS[u]!, i < long.length ? long.charCodeAt(i) : i === long.length ? 0 : 0xffff, true);
    }
  }
}
