// The FAT itself: entries 0 and 1 reserved (the media byte, then all ones: cleanly unmounted, no
// errors), each extent's clusters pointing at the next and its last one marked end-of-chain,
// everything after free (zero). Streamed in pieces, so a large volume's FAT is never held whole.
import { ROOT_CLUSTER } from './boot-sector.ts';
import type { FatType, Geometry } from './geometry.ts';
import type { Extent } from './layout.ts';

/** The end-of-chain mark mkfs.fat writes (…FF8); any value from …FF8 up ends a chain. */
const END_OF_CHAIN = 0x0ffffff8;
const ENTRIES_PER_PIECE = 1 << 16;

const mask = (t: FatType) => (t === 12 ? 0xfff : t === 16 ? 0xffff : 0x0fffffff);

/** Bytes of the FAT that hold entries 0 … entries-1. */
export const fatBytesFor = (t: FatType, entries: number): number => (t === 12 ? Math.ceil((entries * 3) / 2) : (entries * t) / 8);

/** Entry values in cluster order from 0 up to the last used cluster. */
function* entryValues(g: Geometry, extents: readonly Extent[]): Generator<number> {
  const m = mask(g.fatType);
  yield (0x0fffff00 | g.media) & m;
  yield m;
  let cluster = ROOT_CLUSTER;
  for (const e of extents) {
    for (let i = 1; i < e.clusters; i++) yield ++cluster;
    yield END_OF_CHAIN & m;
    cluster++;
  }
}

function putEntry(t: FatType, b: Uint8Array, d: DataView, i: number, v: number): void {
  if (t === 32) d.setUint32(i * 4, v, true);
  else if (t === 16) d.setUint16(i * 2, v, true);
  else {
    const at = (i * 3) >> 1;
    if ((i & 1) === 0) {
      b[at] = v & 0xff;
      b[at + 1] = (b[at + 1]! & 0xf0) | (v >> 8);
    } else {
      b[at] = (b[at]! & 0x0f) | ((v & 0x0f) << 4);
      b[at + 1] = v >> 4;
    }
  }
}

/** The used part of one FAT copy (fatBytesFor(type, usedClusters + 2) bytes), in pieces of 65536 entries. */
export function* fatPieces(g: Geometry, extents: readonly Extent[], usedClusters: number): Generator<Uint8Array> {
  const total = usedClusters + 2;
  const values = entryValues(g, extents);
  for (let first = 0; first < total; first += ENTRIES_PER_PIECE) {
    const n = Math.min(ENTRIES_PER_PIECE, total - first);
    const b = new Uint8Array(fatBytesFor(g.fatType, n));
    const d = new DataView(b.buffer);
    for (let i = 0; i < n; i++) putEntry(g.fatType, b, d, i, values.next().value!);
    yield b;
  }
}
