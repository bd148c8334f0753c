import type { StreamCompressor } from '../codec/stream-compressor.ts';
import { identity } from '../codec/stream-compressor.ts';
import { gzipCompressor } from '../codec/gzip.ts';
import type { CodecPool } from '../codec/pool.ts';
import { xzCompressor } from '../xz/xz-compressor.ts';
import { zstdCompressor } from '../zstd/zstd.ts';
import { addPath, lookup, newDir, type ImageDir } from '../image/tree.ts';
import { bytesSource, concatSources, sliceSource, type DataSource } from '../io/data-source.ts';
import { cpioStream } from '../cpio/cpio-writer.ts';
import { NETBOOT_INITRD } from './toplevel-plan.ts';
import type { ByteSink, SeekableSink } from '../io/sink.ts';
import { isoStream } from '../iso9660/iso-writer.ts';
import type { IsoOptions } from '../iso9660/iso-options.ts';
import { writeSquashfs, type SquashfsCompression } from '../squashfs/squashfs-writer.ts';
import { tarStream } from '../tar/tar-writer.ts';
import type { BuildConfig, SquashfsCodec } from './config.ts';
import { diskImage, pumpImage } from './write-disk.ts';
import type { Platform, ScratchFile } from '../platform.ts';
import type { CodecsLoader } from '../codec/wasm-codecs.ts';
import type { ProgressListener, Stage } from './progress.ts';

export interface WriteContext {
  platform: Platform;
  scratch: ScratchFile[];
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** The tree of /nix-store.squashfs, when the ISO carries one. */
  squashfs?: () => Promise<ImageDir>;
  /** syslinux's isohdpfx.bin, for a USB-bootable ISO. */
  isohybridMbr?: Uint8Array;
  /** The ESP's tree, for a disk image (the tree given is its root file system). */
  esp?: ImageDir;
}

export function compressorFor(config: BuildConfig, pool: () => CodecPool | undefined, codecs: CodecsLoader): StreamCompressor {
  switch (config.compression) {
    case 'none':
      return identity;
    case 'gzip':
      return gzipCompressor();
    case 'xz':
      return xzCompressor({ preset: config.xzPreset, blockSize: config.xzBlockSize, pool: pool(), codecs });
    case 'zstd':
      return zstdCompressor(19, { pool: pool(), codecs });
  }
}

export function squashfsCompression(codec: SquashfsCodec): SquashfsCompression {
  switch (codec) {
    case 'gzip':
      return { codec: 'gzip', level: 9 };
    case 'xz':
      return { codec: 'xz', bcj: 'x86' };
    case 'zstd':
      return { codec: 'zstd', level: 19 };
  }
}

async function* counted(input: AsyncIterable<Uint8Array>, stage: Stage, total: number, ctx: WriteContext): AsyncGenerator<Uint8Array> {
  let done = 0;
  for await (const chunk of input) {
    ctx.signal?.throwIfAborted();
    done += chunk.length;
    ctx.onProgress?.({ stage, done, total });
    yield chunk;
  }
}

async function pump(input: AsyncIterable<Uint8Array>, sink: ByteSink): Promise<number> {
  let n = 0;
  for await (const chunk of input) {
    await sink.write(chunk);
    n += chunk.length;
  }
  return n;
}

/** Writes `tree` in the configured format (and compression) to `sink`; returns the bytes written. */
export async function writeFormat(config: BuildConfig, tree: ImageDir, sink: ByteSink, ctx: WriteContext): Promise<number> {
  const compress = compressorFor(config, () => ctx.platform.codecPool(), ctx.platform.codecs);
  const squashfsOptions = (codec: SquashfsCodec) => ({
    blockSize: config.squashfsBlockSize,
    compression: squashfsCompression(codec),
    mtime: config.sourceDateEpoch,
    pool: ctx.platform.codecPool(),
    codecs: ctx.platform.codecs,
  });
  switch (config.format) {
    case 'tarball':
      return pump(counted(compress(counted(tarStream(tree, { mtime: 1 }), 'write', 0, ctx)), 'compress', 0, ctx), sink);
    case 'squashfs': {
      if (config.compression === 'none' && 'writeAt' in sink) {
        const seekable = countingSink(sink as SeekableSink);
        await writeSquashfs(tree, seekable, squashfsOptions(config.squashfsCompression));
        return seekable.size();
      }
      const file = await scratchSquashfs(tree, 'image.squashfs', squashfsOptions(config.squashfsCompression), ctx);
      return pump(counted(compress(sliceSource(file.open, 0, file.size).stream()), 'compress', 0, ctx), sink);
    }
    case 'iso': {
      const { iso } = config;
      if (ctx.squashfs) {
        const file = await scratchSquashfs(await ctx.squashfs(), 'nix-store.squashfs', squashfsOptions(iso.squashfsCompression), ctx);
        addPath(tree, 'nix-store.squashfs', { kind: 'file', mode: 0o444, data: sliceSource(file.open, 0, file.size) });
      }
      for (const [field, path] of [['bootImage', iso.bootImage], ['efiBootImage', iso.efiBootImage]] as const) {
        if (path !== null && lookup(tree, path)?.kind !== 'file') throw new Error(`config: iso.${field}: ${path} is not a file in the image (add it with "contents")`);
      }
      if (iso.volumeID === null) throw new Error('config: iso.volumeID: not set from the toplevel');
      const opts: IsoOptions = {
        volumeID: iso.volumeID,
        appID: iso.appID,
        publisher: iso.publisher,
        sourceDateEpoch: config.sourceDateEpoch,
        ...(iso.bootImage !== null ? { bootImage: iso.bootImage } : {}),
        ...(iso.efiBootImage !== null ? { efiBootImage: iso.efiBootImage } : {}),
        ...(ctx.isohybridMbr ? { isohybridMbr: ctx.isohybridMbr } : { efiPartitionTable: iso.usbBootable }),
      };
      return pump(counted(compress(counted(isoStream(tree, opts), 'write', 0, ctx)), 'compress', 0, ctx), sink);
    }
    case 'netboot':
      await appendStoreToInitrd(tree, await squashfsFile(ctx, squashfsOptions(config.squashfsCompression)), config.sourceDateEpoch, ctx);
      return pump(counted(compress(counted(tarStream(tree, { mtime: config.sourceDateEpoch }), 'write', 0, ctx)), 'compress', 0, ctx), sink);
    case 'disk': {
      const { image } = diskImage(config, { root: tree, esp: ctx.esp! });
      return pumpImage(image, sink, (input) => counted(compress(counted(input, 'write', 0, ctx)), 'compress', 0, ctx), config.compression === 'none');
    }
  }
}

/** The squashfs of the store the caller asked for, written to scratch space. */
function squashfsFile(ctx: WriteContext, opts: Parameters<typeof writeSquashfs>[2]): Promise<DataSource> {
  if (!ctx.squashfs) throw new Error('netboot: no store closure to put in /nix-store.squashfs');
  return ctx.squashfs().then(async (tree) => {
    const file = await scratchSquashfs(tree, 'nix-store.squashfs', opts, ctx);
    return sliceSource(file.open, 0, file.size);
  });
}

/** Level of nixpkgs' zstd initrd compressor (initrd-compressor-meta.nix: zstd -10). */
const INITRD_ZSTD_LEVEL = 10;

/**
 * netboot.nix's ramdisk: the system initrd, then a zstd'ed newc cpio holding /nix-store.squashfs,
 * which the kernel unpacks into the same rootfs (each archive starts on a 4-byte boundary).
 */
async function appendStoreToInitrd(tree: ImageDir, squashfs: DataSource, mtime: number, ctx: WriteContext): Promise<void> {
  const initrd = tree.entries.get(NETBOOT_INITRD);
  if (initrd?.kind !== 'file') throw new Error(`netboot: /${NETBOOT_INITRD} is not a file`);
  const cpio = newDir(0o755);
  addPath(cpio, 'nix-store.squashfs', { kind: 'file', mode: 0o444, data: squashfs });
  const file = await ctx.platform.scratchFile('nix-store.cpio.zst');
  ctx.scratch.push(file);
  let size = 0;
  for await (const chunk of zstdCompressor(INITRD_ZSTD_LEVEL, { pool: ctx.platform.codecPool(), codecs: ctx.platform.codecs })(cpioStream(cpio, { mtime }))) {
    await file.sink.write(chunk);
    size += chunk.length;
  }
  await file.sink.close();
  const pad = bytesSource(new Uint8Array((4 - (initrd.data.size % 4)) % 4));
  tree.entries.set(NETBOOT_INITRD, { ...initrd, data: concatSources([initrd.data, pad, sliceSource(file.open, 0, size)]) });
}

async function scratchSquashfs(tree: ImageDir, name: string, opts: Parameters<typeof writeSquashfs>[2], ctx: WriteContext) {
  const file = await ctx.platform.scratchFile(name);
  ctx.scratch.push(file);
  const sink = countingSink(file.sink);
  await writeSquashfs(tree, sink, opts);
  await file.sink.close();
  const size = sink.size();
  ctx.onProgress?.({ stage: 'squashfs', done: size, total: size });
  return { open: file.open, size };
}

function countingSink(sink: SeekableSink): SeekableSink & { size(): number } {
  let size = 0;
  return {
    write: async (chunk) => {
      await sink.write(chunk);
      size += chunk.length;
    },
    writeAt: (offset, bytes) => sink.writeAt(offset, bytes),
    close: () => sink.close(),
    abort: (reason) => sink.abort(reason),
    size: () => size,
  };
}
