import type { DataSource } from '../io/data-source.ts';
import type { ImageFile } from '../image/tree.ts';
import type { BlockPipeline, WrittenBlock } from './block-pipeline.ts';
import { contentKey, fileBlocks, isZeroBlock, sameBytes } from './file-blocks.ts';
import { NO_FRAGMENT } from './format.ts';
import { LeBuilder } from './le-builder.ts';

/** Where a regular file's data lies in the image. */
export interface FileLayout {
  size: number;
  /** Where the blocks begin (a mark in the block pipeline). */
  start: WrittenBlock;
  /** One per full or last partial block; null for an all-zero block (a hole). */
  blocks: readonly (WrittenBlock | null)[];
  /** Bytes in holes, as mksquashfs counts them for the extended inode: at most size - 1. */
  holes: number;
  fragment: number;
  offset: number;
}

const NOWHERE: WrittenBlock = { start: 0, sizeWord: 0 };
const NO_BLOCKS: readonly (WrittenBlock | null)[] = [];
const EMPTY: FileLayout = { size: 0, start: NOWHERE, blocks: NO_BLOCKS, holes: 0, fragment: NO_FRAGMENT, offset: 0 };

/** A file whose data is in the image, for later files with the same bytes. */
interface Placed {
  data: DataSource;
  layout: FileLayout;
}

/**
 * Writes file data as mksquashfs does by default: files smaller than a block are packed into
 * fragment blocks, larger ones are cut into blocks (the last one short, no tail fragment),
 * all-zero blocks become holes, and a file with the same bytes as an earlier one shares its data.
 */
export class DataWriter {
  private readonly layouts = new Map<ImageFile, FileLayout>();
  /** By contentKey: one file, or several when keys collide (an array only then: one per file adds up). */
  private readonly byContent = new Map<number, Placed | Placed[]>();
  private readonly fragments: WrittenBlock[] = [];
  private fragment: Uint8Array;
  private fragmentFill = 0;

  constructor(
    private readonly pipeline: BlockPipeline,
    private readonly blockSize: number,
  ) {
    this.fragment = new Uint8Array(blockSize);
  }

  /** The layout of a file already added. */
  layout(file: ImageFile): FileLayout {
    const l = this.layouts.get(file);
    if (l === undefined) throw new Error('squashfs writer: a file was not written before its inode');
    return l;
  }

  async add(file: ImageFile, path: string): Promise<void> {
    if (this.layouts.has(file)) return;
    this.layouts.set(file, file.data.size === 0 ? EMPTY : await this.place(file.data, path));
  }

  /**
   * Duplicate candidates share the size and the digest of the first block (the whole file when it is
   * smaller than a block), so a large file is read once unless a candidate turns up.
   */
  private async place(data: DataSource, path: string): Promise<FileLayout> {
    const blocks = fileBlocks(data, this.blockSize, path);
    try {
      const first = (await blocks.next()).value as Uint8Array;
      const key = contentKey(data.size, first);
      const known = this.byContent.get(key);
      const candidates = known === undefined ? [] : Array.isArray(known) ? known : [known];
      for (const c of candidates) if (c.data.size === data.size && (await sameBytes(c.data, data, this.blockSize, path))) return c.layout;
      const layout = data.size < this.blockSize ? await this.addFragment(first) : await this.addBlocks(first, blocks, data.size);
      const placed = { data, layout };
      this.byContent.set(key, known === undefined ? placed : [...candidates, placed]);
      return layout;
    } finally {
      await blocks.return(undefined);
    }
  }

  private async addBlocks(first: Uint8Array, rest: AsyncIterable<Uint8Array>, size: number): Promise<FileLayout> {
    const start = this.pipeline.mark();
    const blocks: (WrittenBlock | null)[] = [];
    let holes = 0;
    const add = async (block: Uint8Array) => {
      const hole = isZeroBlock(block);
      if (hole) holes += block.length;
      blocks.push(hole ? null : await this.pipeline.submit(block));
    };
    await add(first);
    for await (const block of rest) await add(block);
    return { size, start, blocks, holes: Math.min(holes, size - 1), fragment: NO_FRAGMENT, offset: 0 };
  }

  private async addFragment(bytes: Uint8Array): Promise<FileLayout> {
    if (this.fragmentFill + bytes.length > this.blockSize) await this.flushFragment();
    const layout = { size: bytes.length, start: NOWHERE, blocks: NO_BLOCKS, holes: 0, fragment: this.fragments.length, offset: this.fragmentFill };
    this.fragment.set(bytes, this.fragmentFill);
    this.fragmentFill += bytes.length;
    return layout;
  }

  private async flushFragment(): Promise<void> {
    const full = this.fragment.subarray(0, this.fragmentFill);
    this.fragment = new Uint8Array(this.blockSize);
    this.fragmentFill = 0;
    this.fragments.push(await this.pipeline.submit(full));
  }

  /** Writes the last fragment block and waits until all data is in the sink. */
  async finish(): Promise<void> {
    if (this.fragmentFill > 0) await this.flushFragment();
    await this.pipeline.drain();
  }

  get fragmentCount(): number {
    return this.fragments.length;
  }

  /** The fragment table's entries: start, size word, unused. */
  fragmentEntries(): Uint8Array {
    const b = new LeBuilder();
    for (const f of this.fragments) b.u64(f.start).u32(f.sizeWord).u32(0);
    return b.contents();
  }
}

