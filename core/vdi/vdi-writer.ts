// VDI, VirtualBox's disk image (a dynamic image as VirtualBox's VDICore.h lays it out): a header,
// a block map of one 32-bit entry per 1 MiB block, then the blocks that hold data in guest order.
// The map comes from allocated() before any data is read, so the file is written in one pass.
import { allocatedBlocks, blocksOf, type ContainerImage } from '../io/sparse-blocks.ts';
import type { SparseSource } from '../io/sparse.ts';
import { NixImagerError } from '../errors.ts';

const SECTOR = 512;
const BLOCK = 1 << 20;
const SIGNATURE = 0xbeda107f;
const VERSION_1_1 = 0x00010001;
/** Size of the version 1.1 header that follows the 72-byte pre-header. */
const HEADER_SIZE = 400;
const TYPE_DYNAMIC = 1;
const BMAP_OFFSET = SECTOR;

export class VdiError extends NixImagerError {
  override name = 'VdiError';
  readonly code = 'image';
}

export interface VdiOptions {
  /** The image's UUID (16 bytes), derived from the image inputs so the output is reproducible. */
  readonly uuid: Uint8Array;
}

function header(size: number, blocks: number, allocated: number, dataOffset: number, o: VdiOptions): Uint8Array {
  const h = new Uint8Array(SECTOR);
  const v = new DataView(h.buffer);
  h.set(new TextEncoder().encode('<<< Oracle VM VirtualBox Disk Image >>>\n'));
  v.setUint32(64, SIGNATURE, true);
  v.setUint32(68, VERSION_1_1, true);
  v.setUint32(72, HEADER_SIZE, true);
  v.setUint32(76, TYPE_DYNAMIC, true);
  v.setUint32(340, BMAP_OFFSET, true);
  v.setUint32(344, dataOffset, true);
  v.setUint32(360, SECTOR, true);
  v.setBigUint64(368, BigInt(size), true);
  v.setUint32(376, BLOCK, true);
  v.setUint32(384, blocks, true);
  v.setUint32(388, allocated, true);
  // The image UUID, and the same as "last modification" UUID: the image has had one writer.
  h.set(o.uuid, 392);
  h.set(o.uuid, 408);
  return h;
}

/** The image as a dynamic VDI with 1 MiB blocks; blocks no allocated range touches are left out. */
export function vdiImage(source: SparseSource, o: VdiOptions): ContainerImage & { size: number } {
  if (o.uuid.length !== 16) throw new VdiError(`VDI UUID must be 16 bytes, not ${o.uuid.length}`);
  if (source.size % SECTOR !== 0) throw new VdiError(`a VDI needs a disk size that is a whole number of 512-byte sectors; ${source.size} bytes is not`);
  const count = Math.ceil(source.size / BLOCK);
  const used = allocatedBlocks(source, BLOCK);
  // Data starts on a MiB boundary, as VirtualBox places it.
  const dataOffset = Math.ceil((BMAP_OFFSET + count * 4) / BLOCK) * BLOCK;
  if (dataOffset > 0xffffffff) throw new VdiError(`a disk of ${source.size} bytes is too large for a VDI block map`);
  const head = new Uint8Array(dataOffset);
  head.set(header(source.size, count, used.length, dataOffset, o));
  const map = new DataView(head.buffer, BMAP_OFFSET, count * 4);
  for (let b = 0; b < count; b++) map.setUint32(b * 4, 0xffffffff, true);
  used.forEach((b, k) => map.setUint32(b * 4, k, true));
  return {
    size: dataOffset + used.length * BLOCK,
    async *chunks() {
      yield head;
      for await (const b of blocksOf(source, BLOCK, used)) yield b.data;
    },
  };
}
