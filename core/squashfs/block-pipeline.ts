import { InOrder } from '../codec/block-pipeline.ts';
import type { ByteSink } from '../io/sink.ts';
import type { BlockCompress } from './compression.ts';
import { BLOCK_UNCOMPRESSED } from './format.ts';

/** Where a data or fragment block landed; filled in when it is written. */
export interface WrittenBlock {
  start: number;
  /** The size word squashfs stores: stored length, with BLOCK_UNCOMPRESSED when stored raw. */
  sizeWord: number;
}

/**
 * Compresses blocks with up to `maxInFlight` running at once and writes them to the sink
 * in submission order, so a worker pool can run ahead while the output stays deterministic.
 */
export class BlockPipeline {
  /** Blocks in compression, and marks (which only record the position), in write order. */
  private readonly queue = new InOrder<{ raw: Uint8Array; slot: WrittenBlock }, Uint8Array>();

  constructor(
    private readonly sink: ByteSink,
    private readonly compress: BlockCompress,
    private readonly maxInFlight: number,
    /** Bytes already in the sink. */
    public position: number,
  ) {}

  /** Queues `raw` (which the pipeline now owns); the returned slot is filled once it is written. */
  async submit(raw: Uint8Array): Promise<WrittenBlock> {
    const slot: WrittenBlock = { start: -1, sizeWord: 0 };
    this.queue.add({ raw, slot }, this.compress(raw));
    while (this.queue.length > this.maxInFlight) await this.writeOldest();
    return slot;
  }

  /** A slot that gets the position the next block will be written at (a file's start, even when all its blocks are holes). */
  mark(): WrittenBlock {
    const slot: WrittenBlock = { start: this.position, sizeWord: 0 };
    if (this.queue.length > 0) this.queue.add({ raw: new Uint8Array(0), slot }, null);
    return slot;
  }

  /** Waits for and writes everything queued. */
  async drain(): Promise<void> {
    while (this.queue.length > 0) await this.writeOldest();
  }

  /** Writes bytes that need no compression (after a drain, so the order holds). */
  async writeRaw(bytes: Uint8Array): Promise<number> {
    await this.drain();
    const at = this.position;
    await this.sink.write(bytes);
    this.position += bytes.length;
    return at;
  }

  private async writeOldest(): Promise<void> {
    const { item, result: out } = await this.queue.next();
    const { raw, slot } = item;
    slot.start = this.position;
    if (out === null) return;
    const keep = out.length < raw.length;
    slot.sizeWord = keep ? out.length : raw.length | BLOCK_UNCOMPRESSED;
    await this.sink.write(keep ? out : raw);
    this.position += keep ? out.length : raw.length;
  }
}
