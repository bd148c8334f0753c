import { both16, both32, putShortDate, SECTOR } from './both-endian.ts';
import { ceEntry, CE_SIZE } from './rock-ridge.ts';
import { concatBytes as concat } from '../io/bytes.ts';

export const FLAG_DIR = 0x02;
export const FLAG_MULTI_EXTENT = 0x80;

/** What one directory record says; `susp` is null in Joliet directories. */
export interface RecordSpec {
  /** File identifier bytes: 0x00 for ".", 0x01 for "..", d-characters or UCS-2 BE. */
  id: Uint8Array;
  lba: number;
  size: number;
  flags: number;
  susp: SuspSpec | null;
}

/** Rock Ridge entries of a record: `fixed` always stay in the record, the name may be split, `rest` may move out. */
export interface SuspSpec {
  fixed: Uint8Array[];
  name: Uint8Array[] | ((firstRoom: number) => Uint8Array[]);
  rest: Uint8Array[];
}

/** Records are kept even-sized, so 254 is the longest (ECMA-119 9.1.1 allows 255). */
const MAX_RECORD = 254;

function sum(parts: Uint8Array[]): number {
  return parts.reduce((n, p) => n + p.length, 0);
}


function encodeRecord(spec: RecordSpec, susp: Uint8Array[], epoch: number): Uint8Array {
  const idLen = spec.id.length;
  const base = 33 + idLen + (idLen % 2 === 0 ? 1 : 0);
  const suspLen = sum(susp);
  const rec = new Uint8Array(base + suspLen + (suspLen % 2));
  rec[0] = rec.length;
  both32(rec, 2, spec.lba);
  both32(rec, 10, spec.size);
  putShortDate(rec, 18, epoch);
  rec[25] = spec.flags;
  both16(rec, 28, 1);
  rec[32] = idLen;
  rec.set(spec.id, 33);
  rec.set(concat(susp), base);
  return rec;
}

/**
 * Continuation areas of one directory, allocated in record order in the blocks that follow
 * the directory's extent. A record's overflow is cut into pieces that never cross a block,
 * chained by CE entries.
 */
class ContinuationArea {
  private parts: Uint8Array[] = [];
  private used = 0;
  constructor(private readonly lba: number) {}

  /** Places `entries` and returns the CE entry that points at them. */
  place(entries: Uint8Array[]): Uint8Array {
    const pieces: Uint8Array[][] = [[]];
    let len = 0;
    entries.forEach((e, i) => {
      const last = i === entries.length - 1;
      if (len + e.length > SECTOR - (last ? 0 : CE_SIZE)) {
        pieces.push([]);
        len = 0;
      }
      pieces[pieces.length - 1]!.push(e);
      len += e.length;
    });
    let cursor = this.used;
    const starts = pieces.map((p, i) => {
      const size = sum(p) + (i < pieces.length - 1 ? CE_SIZE : 0);
      if ((cursor % SECTOR) + size > SECTOR) cursor = Math.ceil(cursor / SECTOR) * SECTOR;
      const start = cursor;
      cursor += size;
      return { start, size };
    });
    pieces.forEach((p, i) => {
      const { start, size } = starts[i]!;
      if (start > this.used) this.parts.push(new Uint8Array(start - this.used));
      const next = starts[i + 1];
      this.parts.push(...(next ? [...p, this.ceFor(next.start, next.size)] : p));
      this.used = start + size;
    });
    const first = starts[0]!;
    return this.ceFor(first.start, first.size);
  }

  private ceFor(offset: number, size: number): Uint8Array {
    return ceEntry(this.lba + Math.floor(offset / SECTOR), offset % SECTOR, size);
  }

  bytes(): Uint8Array {
    const size = Math.ceil(this.used / SECTOR) * SECTOR;
    return concat(this.parts, size);
  }
}

function splitSusp(spec: RecordSpec, ce: ContinuationArea): Uint8Array[] {
  const s = spec.susp;
  if (s === null) return [];
  const room = MAX_RECORD - (33 + spec.id.length + (spec.id.length % 2 === 0 ? 1 : 0));
  const wholeName = typeof s.name === 'function' ? s.name(255) : s.name;
  if (sum(s.fixed) + sum(wholeName) + sum(s.rest) <= room) return [...s.fixed, ...wholeName, ...s.rest];
  const nameRoom = room - sum(s.fixed) - CE_SIZE;
  const name = typeof s.name === 'function' && nameRoom >= 6 ? s.name(nameRoom) : wholeName;
  const inline = name.length > 0 && name[0]!.length <= nameRoom ? [name[0]!] : [];
  return [...s.fixed, ...inline, ce.place([...name.slice(inline.length), ...s.rest])];
}

/**
 * The extent of a directory (records never straddle a block) and its continuation
 * area, which goes in the blocks at `ceLba`. Sizes do not depend on the LBAs given,
 * so the layout pass calls this with placeholders to learn them.
 */
export function encodeDirectory(records: RecordSpec[], ceLba: number, epoch: number): { extent: Uint8Array; ce: Uint8Array } {
  const ce = new ContinuationArea(ceLba);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const spec of records) {
    const rec = encodeRecord(spec, splitSusp(spec, ce), epoch);
    if ((at % SECTOR) + rec.length > SECTOR) {
      const pad = SECTOR - (at % SECTOR);
      parts.push(new Uint8Array(pad));
      at += pad;
    }
    parts.push(rec);
    at += rec.length;
  }
  return { extent: concat(parts, Math.ceil(at / SECTOR) * SECTOR), ce: ce.bytes() };
}

/** The 34-byte record of a root directory, as the volume descriptors hold it. */
export function rootRecord(lba: number, size: number, epoch: number): Uint8Array {
  return encodeRecord({ id: new Uint8Array([0]), lba, size, flags: FLAG_DIR, susp: null }, [], epoch);
}
