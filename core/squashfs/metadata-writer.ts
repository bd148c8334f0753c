import { LeBuilder } from './le-builder.ts';
import { METADATA_SIZE, METADATA_UNCOMPRESSED } from './format.ts';
import type { BlockCompress } from './compression.ts';

/** Where a byte of a metadata table lies: the table-relative position of its block, and the offset in it. */
export interface MetadataRef {
  block: number;
  offset: number;
}

/**
 * A metadata table (inodes, directories, ...) built in memory: 8 KiB blocks, each compressed
 * as soon as it fills (so every block's position is known once later bytes are appended),
 * stored raw with the flag bit when compression does not shrink it.
 */
export class MetadataWriter {
  private readonly out = new LeBuilder();
  private readonly pending = new LeBuilder();
  /** Table-relative position of each block already compressed. */
  private readonly blockStarts: number[] = [];
  /** Uncompressed bytes appended so far. */
  total = 0;

  constructor(private readonly compress: BlockCompress) {}

  /** Appends `bytes`; returns their uncompressed offset in the table (see locate). */
  async append(bytes: Uint8Array): Promise<number> {
    const at = this.total;
    this.pending.bytes(bytes);
    this.total += bytes.length;
    while (this.pending.length >= METADATA_SIZE) await this.flushBlock(METADATA_SIZE);
    return at;
  }

  /** The block and offset of uncompressed offset `at`, which must be at most `total`. */
  locate(at: number): MetadataRef {
    const ordinal = Math.floor(at / METADATA_SIZE);
    return { block: this.blockStarts[ordinal] ?? this.out.length, offset: at % METADATA_SIZE };
  }

  /** Compresses the last, short block and returns the whole table. */
  async finish(): Promise<Uint8Array> {
    if (this.pending.length > 0) await this.flushBlock(this.pending.length);
    return this.out.contents();
  }

  /** Table-relative positions of the blocks (complete after finish): what a table's index lists. */
  blockPositions(): readonly number[] {
    return this.blockStarts;
  }

  private async flushBlock(n: number): Promise<void> {
    const raw = this.pending.contents().slice(0, n);
    const packed = await this.compress(raw);
    this.blockStarts.push(this.out.length);
    if (packed.length < n) this.out.u16(packed.length).bytes(packed);
    else this.out.u16(n | METADATA_UNCOMPRESSED).bytes(raw);
    this.pending.shift(n);
  }
}
