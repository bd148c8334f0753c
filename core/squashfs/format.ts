/** On-disk constants of squashfs 4.0 (linux fs/squashfs/squashfs_fs.h). */

export const SQUASHFS_MAGIC = 0x73717368;
export const SUPERBLOCK_SIZE = 96;
/** Uncompressed size of every metadata block but a table's last. */
export const METADATA_SIZE = 8192;
/** Set in a metadata block's 16-bit length word when the block is stored uncompressed. */
export const METADATA_UNCOMPRESSED = 0x8000;
/** Set in a data or fragment block's 32-bit size word when the block is stored uncompressed. */
export const BLOCK_UNCOMPRESSED = 1 << 24;
/** A regular file's fragment index when it has no tail in a fragment block. */
export const NO_FRAGMENT = 0xffffffff;
/** The xattr table start when there is none. */
export const NO_TABLE = 2n ** 64n - 1n;
/** mksquashfs pads the image to a multiple of this (not counted in bytes_used). */
export const DEVICE_BLOCK = 4096;
/** Longest name a directory entry holds. */
export const MAX_NAME = 256;
export const MIN_BLOCK_LOG = 12;
export const MAX_BLOCK_LOG = 20;

export const InodeType = { dir: 1, file: 2, symlink: 3, longDir: 8, longFile: 9 } as const;

export const CompressionId = { gzip: 1, xz: 4, zstd: 6 } as const;

export const SuperFlags = {
  duplicates: 0x40,
  exportable: 0x80,
  compressorOptions: 0x400,
} as const;
