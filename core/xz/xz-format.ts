// The .xz container around blocks (stream header, index, stream footer), per the
// .xz file format specification 1.1.0, for the parallel writer that encodes blocks apart.
import { CHECK_ID, CHECK_SIZE, type XzCheck } from './liblzma.ts';
import { crc32 } from '../primitives/crc32.ts';
import { XzError } from './xz-error.ts';

function u32le(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

function vli(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

const MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

export function streamHeader(check: XzCheck): Uint8Array {
  const flags = new Uint8Array([0, CHECK_ID[check]]);
  return new Uint8Array([...MAGIC, ...flags, ...u32le(crc32(flags))]);
}

export interface IndexRecord {
  unpaddedSize: number;
  uncompressedSize: number;
}

/** The index followed by the stream footer. */
export function streamTail(check: XzCheck, records: readonly IndexRecord[]): Uint8Array {
  const index = [0x00, ...vli(records.length)];
  for (const r of records) index.push(...vli(r.unpaddedSize), ...vli(r.uncompressedSize));
  while (index.length % 4 !== 0) index.push(0);
  index.push(...u32le(crc32(new Uint8Array(index))));
  const footerFields = new Uint8Array([...u32le(index.length / 4 - 1), 0, CHECK_ID[check]]);
  return new Uint8Array([...index, ...u32le(crc32(footerFields)), ...footerFields, 0x59, 0x5a]);
}

/**
 * The index record of an encoded block that carries its compressed size in its header
 * (as every block of the parallel writer does).
 */
export function blockRecord(block: Uint8Array, check: XzCheck, uncompressedSize: number): IndexRecord {
  const headerSize = (block[0]! + 1) * 4;
  const flags = block[1]!;
  if (block[0] === 0 || block.length < headerSize || (flags & 0x40) === 0)
    throw new XzError('encoded xz block has no compressed size in its header');
  let compressed = 0;
  for (let i = 2, scale = 1; ; i++, scale *= 0x80) {
    const b = block[i]!;
    compressed += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) break;
  }
  return { unpaddedSize: headerSize + compressed + CHECK_SIZE[check], uncompressedSize };
}
