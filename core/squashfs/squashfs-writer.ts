import type { CodecPool } from '../codec/pool.ts';
import type { CodecsLoader } from '../codec/wasm-codecs.ts';
import { sortedEntries, treeDataSize, walk, type ImageDir, type ImageNode } from '../image/tree.ts';
import { binaryToText, type BinaryString } from '../io/binary-string.ts';
import type { SeekableSink } from '../io/sink.ts';
import { BlockPipeline } from './block-pipeline.ts';
import {
  blockCompressors, compressionId, compressorOptions, validateCompression,
  type BlockCompress, type BlockCompressors, type SquashfsCompression,
} from './compression.ts';
import { DataWriter } from './data-writer.ts';
import { encodeListing, type ListedChild } from './directory-listing.ts';
import {
  DEVICE_BLOCK, InodeType, MAX_BLOCK_LOG, MAX_NAME, METADATA_UNCOMPRESSED, MIN_BLOCK_LOG,
  NO_TABLE, SQUASHFS_MAGIC, SUPERBLOCK_SIZE, SuperFlags,
} from './format.ts';
import { dirInode, fileInode, symlinkInode } from './inodes.ts';
import { LeBuilder } from './le-builder.ts';
import { MetadataWriter, type MetadataRef } from './metadata-writer.ts';
import { SquashfsError } from './squashfs-error.ts';

export type { BlockCompress, BlockCompressors, SquashfsCompression } from './compression.ts';
export { SquashfsError } from './squashfs-error.ts';

export interface SquashfsOptions {
  /** A power of two from 4 KiB to 1 MiB; default 1 MiB (make-squashfs.nix's -b 1048576). */
  blockSize?: number;
  compression: SquashfsCompression;
  /**
   * Every inode's mtime and the superblock's creation time. mksquashfs takes both from
   * SOURCE_DATE_EPOCH, which nixpkgs' stdenv sets to 315532800 (1980-01-01) unless told otherwise.
   */
  mtime?: number;
  /** Replace the compressors `compression` implies (same codec and settings assumed: they go into the superblock). */
  compress?: BlockCompressors;
  /** Workers to compress blocks on; without one (and without `compress`) blocks are compressed in this thread. */
  pool?: CodecPool;
  /** This thread's codecs, for blocks compressed here (default: fetched beside the module). */
  codecs?: CodecsLoader;
  /** Blocks compressed ahead of the one being written; default twice the pool size, 1 without a pool. */
  maxInFlight?: number;
  /** Called after each file's data is placed: bytes of file data done so far and in all. */
  onProgress?: (done: number, total: number) => void;
}

const DEFAULT_BLOCK_SIZE = 1 << 20;
const DEFAULT_MTIME = 315532800;
/** Linux's PATH_MAX less the NUL: no symlink read from a file system is longer. */
const MAX_SYMLINK = 4095;
const MAX_INODES = 2 ** 32 - 2;

/**
 * Writes `root` as a squashfs 4.0 image to `sink`, laid out as mksquashfs does: superblock (patched
 * last), compressor options, file data and fragment blocks in tree order, then the inode, directory,
 * fragment, export and id tables. All files are owned by root; hard links are not detected
 * (-no-hardlinks); files with identical content share their data (mksquashfs' duplicate check).
 * Everything that can be refused is refused before the first byte is written. Does not close `sink`.
 */
export async function writeSquashfs(root: ImageDir, sink: SeekableSink, opts: SquashfsOptions): Promise<void> {
  const blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
  const blockLog = Math.log2(blockSize);
  if (!Number.isInteger(blockLog) || blockLog < MIN_BLOCK_LOG || blockLog > MAX_BLOCK_LOG) {
    throw new SquashfsError(`block size ${blockSize} is not a power of two from 4 KiB to 1 MiB`);
  }
  validateCompression(opts.compression, blockSize);
  const mtime = opts.mtime ?? DEFAULT_MTIME;
  if (!Number.isInteger(mtime) || mtime < 0 || mtime >= 2 ** 32) throw new SquashfsError(`mtime ${mtime} does not fit squashfs' 32-bit time`);
  const counts = countInodes(root);
  const inodeCount = counts.get(root)!;
  if (inodeCount > MAX_INODES) throw new SquashfsError(`${inodeCount} inodes are more than squashfs can number`);

  const compress = opts.compress ?? blockCompressors(opts.compression, blockSize, opts.pool, opts.codecs);
  const options = compressorOptions(opts.compression, blockSize);
  const head = new LeBuilder().bytes(new Uint8Array(SUPERBLOCK_SIZE));
  if (options) head.u16(options.length | METADATA_UNCOMPRESSED).bytes(options);
  await sink.write(head.contents());

  const pipeline = new BlockPipeline(sink, compress.data, opts.maxInFlight ?? (opts.pool ? opts.pool.size * 2 : 1), head.length);
  const data = new DataWriter(pipeline, blockSize);
  const total = treeDataSize(root);
  let done = 0;
  for (const { path, node } of walk(root)) {
    if (node.kind !== 'file') continue;
    await data.add(node, shown(path));
    done += node.data.size;
    opts.onProgress?.(done, total);
  }
  await data.finish();

  const inodes = new MetadataWriter(compress.metadata);
  const dirs = new MetadataWriter(compress.metadata);
  const exportRefs = new Uint8Array(inodeCount * 8);
  const exportView = new DataView(exportRefs.buffer);
  const addInode = async (ino: number, bytes: Uint8Array): Promise<MetadataRef> => {
    const ref = inodes.locate(await inodes.append(bytes));
    exportView.setBigUint64((ino - 1) * 8, inodeRef(ref), true);
    return ref;
  };

  // Numbers as mksquashfs gives them: pre-order (a directory before its entries), the root last.
  const writeDir = async (dir: ImageDir, ino: number, firstChildIno: number, parentIno: number): Promise<ListedChild> => {
    const children: ListedChild[] = [];
    let next = firstChildIno;
    let subdirs = 0;
    for (const [name, node] of sortedEntries(dir)) {
      if (node.kind === 'dir') {
        const child = await writeDir(node, next, next + 1, ino);
        next += counts.get(node)!;
        subdirs++;
        children.push({ ...child, name });
        continue;
      }
      const childIno = next++;
      const base = { mode: node.kind === 'file' ? node.mode : 0o777, mtime, ino: childIno };
      const bytes = node.kind === 'file' ? fileInode(base, data.layout(node)) : symlinkInode(base, node.target);
      const type = node.kind === 'file' ? InodeType.file : InodeType.symlink;
      children.push({ name, type, ino: childIno, inode: await addInode(childIno, bytes) });
    }
    const listingAt = dirs.total;
    const listing = encodeListing(children);
    await dirs.append(listing.bytes);
    const inode = dirInode(
      { mode: dir.mode, mtime, ino },
      {
        nlink: 2 + subdirs,
        fileSize: listing.bytes.length + 3,
        listing: dirs.locate(listingAt),
        parentIno,
        index: listing.index.map((e) => ({ index: e.at, block: dirs.locate(listingAt + e.at).block, name: e.name })),
      },
    );
    return { name: '', type: InodeType.dir, ino, inode: await addInode(ino, inode) };
  };
  // mksquashfs gives the root the parent number one past the last inode.
  const rootRef = (await writeDir(root, inodeCount, 1, inodeCount + 1)).inode;

  const inodeTableStart = await pipeline.writeRaw(await inodes.finish());
  const directoryTableStart = await pipeline.writeRaw(await dirs.finish());
  const fragmentTableStart = await writeIndexedTable(pipeline, compress.metadata, data.fragmentEntries());
  const lookupTableStart = await writeIndexedTable(pipeline, compress.metadata, exportRefs);
  const idTableStart = await writeIndexedTable(pipeline, compress.metadata, new LeBuilder().u32(0).contents());
  const bytesUsed = pipeline.position;
  const padding = (DEVICE_BLOCK - (bytesUsed % DEVICE_BLOCK)) % DEVICE_BLOCK;
  if (padding > 0) await pipeline.writeRaw(new Uint8Array(padding));

  const flags = SuperFlags.duplicates | SuperFlags.exportable | (options ? SuperFlags.compressorOptions : 0);
  const superblock = new LeBuilder()
    .u32(SQUASHFS_MAGIC).u32(inodeCount).u32(mtime).u32(blockSize).u32(data.fragmentCount)
    .u16(compressionId(opts.compression)).u16(blockLog).u16(flags).u16(1).u16(4).u16(0)
    .u64(inodeRef(rootRef)).u64(bytesUsed).u64(idTableStart).u64(NO_TABLE)
    .u64(inodeTableStart).u64(directoryTableStart).u64(fragmentTableStart).u64(lookupTableStart);
  await sink.writeAt(0, superblock.contents());
}

function inodeRef(ref: MetadataRef): bigint {
  return (BigInt(ref.block) << 16n) | BigInt(ref.offset);
}

/** A table of fixed-size entries in metadata blocks, followed by the list of those blocks' positions; returns that list's position. */
async function writeIndexedTable(pipeline: BlockPipeline, compress: BlockCompress, entries: Uint8Array): Promise<number> {
  const table = new MetadataWriter(compress);
  await table.append(entries);
  const start = await pipeline.writeRaw(await table.finish());
  const index = new LeBuilder();
  for (const p of table.blockPositions()) index.u64(start + p);
  return pipeline.writeRaw(index.contents());
}

function shown(path: BinaryString): string {
  return JSON.stringify(binaryToText(path));
}

/**
 * Inodes in each directory's subtree, itself included; checks names and symlink targets on the way
 * so that a tree squashfs cannot hold is refused before anything is written.
 */
function countInodes(root: ImageDir): Map<ImageDir, number> {
  const counts = new Map<ImageDir, number>();
  const visit = (dir: ImageDir, path: BinaryString): number => {
    let n = 1;
    for (const [name, node] of dir.entries) {
      const p = path === '' ? name : `${path}/${name}`;
      checkNode(name, node, p);
      n += node.kind === 'dir' ? visit(node, p) : 1;
    }
    counts.set(dir, n);
    return n;
  };
  visit(root, '');
  return counts;
}

function checkNode(name: BinaryString, node: ImageNode, path: BinaryString): void {
  if (name.length === 0 || name.length > MAX_NAME) throw new SquashfsError(`${shown(path)}: a name must be 1 to ${MAX_NAME} bytes, this one is ${name.length}`);
  if (name === '.' || name === '..' || name.includes('/') || name.includes('\0')) throw new SquashfsError(`${shown(path)}: ${shown(name)} is not a valid file name`);
  if (node.kind === 'symlink' && (node.target.length === 0 || node.target.length > MAX_SYMLINK)) {
    throw new SquashfsError(`${shown(path)}: symlink target must be 1 to ${MAX_SYMLINK} bytes, this one is ${node.target.length}`);
  }
  if (node.kind === 'file' && !(Number.isSafeInteger(node.data.size) && node.data.size >= 0)) {
    throw new SquashfsError(`${shown(path)}: file size ${node.data.size} is not a byte count`);
  }
}
