// VMDK streamOptimized (VMware's "Virtual Disk Format 5.0", stream-optimized sparse extent), the
// format OVA imports take: header and descriptor, then each grain that holds data deflated behind
// a grain marker, then the grain tables and directory (known only once the grains are placed),
// a footer repeating the header with the directory's offset, and an end-of-stream marker.
import { zlibSync } from 'fflate';
import { allocatedBlocks, blocksOf, isAllZero, type ContainerImage } from '../io/sparse-blocks.ts';
import { isZeros, type SparseSource } from '../io/sparse.ts';
import { NixImagerError } from '../errors.ts';

const SECTOR = 512;
const GRAIN_SECTORS = 128;
const GRAIN = GRAIN_SECTORS * SECTOR;
const GTES_PER_GT = 512;
const GT_SECTORS = (GTES_PER_GT * 4) / SECTOR;
/** The header, descriptor and padding before the first grain, one grain's worth. */
const OVERHEAD_SECTORS = GRAIN_SECTORS;
/** Newline detection (bit 0), compressed grains (16), markers (17). */
const FLAGS = 0x30001;
const GD_AT_END = 0xffffffffffffffffn;
const MARKER = { eos: 0, gt: 1, gd: 2, footer: 3 } as const;

export class VmdkError extends NixImagerError {
  override name = 'VmdkError';
  readonly code = 'image';
}

export interface VmdkOptions {
  /** The descriptor's content id: derived from the image inputs so the output is reproducible. */
  readonly cid: number;
  /** The extent's file name in the descriptor. */
  readonly fileName: string;
  /**
   * zlib (RFC 1950) compression of one 64 KiB grain, e.g. on a CodecPool's workers; it must copy
   * `grain` if it reads it after returning. By default fflate at level 6 (zlib's default) here.
   */
  readonly compress?: GrainCompress;
  /** Grains compressed at once (e.g. the pool's size); 1 by default. */
  readonly inFlight?: number;
}

export type GrainCompress = (grain: Uint8Array) => Promise<Uint8Array>;

const localCompress: GrainCompress = async (grain) => zlibSync(grain, { level: 6 });

function descriptor(sectors: number, o: VmdkOptions): Uint8Array {
  const text = [
    '# Disk DescriptorFile',
    'version=1',
    `CID=${(o.cid >>> 0).toString(16).padStart(8, '0')}`,
    'parentCID=ffffffff',
    'createType="streamOptimized"',
    '',
    '# Extent description',
    `RW ${sectors} SPARSE "${o.fileName}"`,
    '',
    '# The Disk Data Base',
    '#DDB',
    '',
    'ddb.virtualHWVersion = "4"',
    `ddb.geometry.cylinders = "${Math.min(16383, Math.floor(sectors / (16 * 63)))}"`,
    'ddb.geometry.heads = "16"',
    'ddb.geometry.sectors = "63"',
    'ddb.adapterType = "ide"',
    '',
  ].join('\n');
  return new TextEncoder().encode(text);
}

function header(sectors: number, descriptorSectors: number, gdOffset: bigint): Uint8Array {
  const h = new Uint8Array(SECTOR);
  const v = new DataView(h.buffer);
  h.set(new TextEncoder().encode('KDMV'));
  v.setUint32(4, 3, true);
  v.setUint32(8, FLAGS, true);
  v.setBigUint64(12, BigInt(sectors), true);
  v.setBigUint64(20, BigInt(GRAIN_SECTORS), true);
  v.setBigUint64(28, 1n, true);
  v.setBigUint64(36, BigInt(descriptorSectors), true);
  v.setUint32(44, GTES_PER_GT, true);
  v.setBigUint64(56, gdOffset, true);
  v.setBigUint64(64, BigInt(OVERHEAD_SECTORS), true);
  h.set([0x0a, 0x20, 0x0d, 0x0a], 73);
  v.setUint16(77, 1, true);
  return h;
}

function marker(sectors: number, type: number): Uint8Array {
  const m = new Uint8Array(SECTOR);
  const v = new DataView(m.buffer);
  v.setBigUint64(0, BigInt(sectors), true);
  v.setUint32(12, type, true);
  return m;
}

const padToSector = (n: number) => Math.ceil(n / SECTOR) * SECTOR;

/** A grain marker (guest LBA, compressed length) and the zlib stream, padded to whole sectors. */
function grainRecord(index: number, z: Uint8Array): Uint8Array {
  const rec = new Uint8Array(padToSector(12 + z.length));
  const v = new DataView(rec.buffer);
  v.setBigUint64(0, BigInt(index * GRAIN_SECTORS), true);
  v.setUint32(8, z.length, true);
  rec.set(z, 12);
  return rec;
}

/** The image as a streamOptimized VMDK; all-zero grains are left out. Its size is known only at the end. */
export function vmdkImage(source: SparseSource, o: VmdkOptions): ContainerImage {
  if (source.size % SECTOR !== 0) throw new VmdkError(`a VMDK needs a disk size that is a whole number of 512-byte sectors; ${source.size} bytes is not`);
  const sectors = source.size / SECTOR;
  const desc = descriptor(sectors, o);
  const descSectors = padToSector(desc.length) / SECTOR;
  if (1 + descSectors > OVERHEAD_SECTORS) throw new VmdkError(`VMDK descriptor of ${desc.length} bytes does not fit before the first grain`);
  const gdEntries = Math.ceil(sectors / (GRAIN_SECTORS * GTES_PER_GT));
  return {
    async *chunks() {
      const head = new Uint8Array(OVERHEAD_SECTORS * SECTOR);
      head.set(header(sectors, descSectors, GD_AT_END));
      head.set(desc, SECTOR);
      yield head;
      let at = head.length;
      const tables = new Map<number, Uint32Array>();
      const place = (index: number, z: Uint8Array): Uint8Array => {
        const gt = Math.floor(index / GTES_PER_GT);
        if (!tables.has(gt)) tables.set(gt, new Uint32Array(GTES_PER_GT));
        tables.get(gt)![index % GTES_PER_GT] = at / SECTOR;
        const rec = grainRecord(index, z);
        at += rec.length;
        return rec;
      };
      const compress = o.compress ?? localCompress;
      const queue: { index: number; z: Promise<Uint8Array> }[] = [];
      for await (const g of blocksOf(source, GRAIN, allocatedBlocks(source, GRAIN))) {
        if (isZeros(g.data) || isAllZero(g.data)) continue;
        queue.push({ index: g.index, z: compress(g.data) });
        if (queue.length >= (o.inFlight ?? 1)) {
          const next = queue.shift()!;
          yield place(next.index, await next.z);
        }
      }
      for (const next of queue) yield place(next.index, await next.z);
      const gd = new Uint8Array(padToSector(gdEntries * 4));
      const gdv = new DataView(gd.buffer);
      for (const [gt, entries] of [...tables].sort((a, b) => a[0] - b[0])) {
        yield marker(GT_SECTORS, MARKER.gt);
        gdv.setUint32(gt * 4, at / SECTOR + 1, true);
        const bytes = new Uint8Array(GT_SECTORS * SECTOR);
        const bv = new DataView(bytes.buffer);
        entries.forEach((e, i) => bv.setUint32(i * 4, e, true));
        yield bytes;
        at += SECTOR + bytes.length;
      }
      yield marker(gd.length / SECTOR, MARKER.gd);
      const gdOffset = at / SECTOR + 1;
      yield gd;
      yield marker(1, MARKER.footer);
      yield header(sectors, descSectors, BigInt(gdOffset));
      yield marker(0, MARKER.eos);
    },
  };
}
