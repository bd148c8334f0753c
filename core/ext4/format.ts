// On-disk constants of ext4 as `mke2fs -t ext4` (e2fsprogs 1.47, /etc/mke2fs.conf) lays it out:
// 4 KiB blocks, 256-byte inodes, 16 groups per flex group, 64-byte group descriptors.

export const BLOCK = 4096;
export const BLOCKS_PER_GROUP = BLOCK * 8;
export const INODE_SIZE = 256;
export const INODES_PER_BLOCK = BLOCK / INODE_SIZE;
/** One bitmap block can mark at most this many inodes of a group. */
export const MAX_INODES_PER_GROUP = BLOCK * 8;
export const DESC_SIZE = 64;
export const LOG_GROUPS_PER_FLEX = 4;
export const GROUPS_PER_FLEX = 1 << LOG_GROUPS_PER_FLEX;
/** i_extra_isize: the fixed fields past the 128-byte ext2 inode, up to i_projid. */
export const EXTRA_ISIZE = 32;
export const MAX_NAME = 255;
/** Linux's PATH_MAX less the NUL; a slow symlink's target fits one block. */
export const MAX_SYMLINK = 4095;
/** A target shorter than i_block (60 bytes) is stored in the inode (a fast symlink). */
export const FAST_SYMLINK_MAX = 59;
/** ee_len above 32768 marks an unwritten extent, so written extents stop there. */
export const MAX_EXTENT_BLOCKS = 32768;

export const SUPER_MAGIC = 0xef53;
export const EXTENT_MAGIC = 0xf30a;

export const Ino = { badBlocks: 1, root: 2, journal: 8, lostFound: 11, firstFree: 11 } as const;

export const Compat = { hasJournal: 0x4, extAttr: 0x8, dirIndex: 0x20 } as const;
export const Incompat = { filetype: 0x2, extents: 0x40, bit64: 0x80, flexBg: 0x200 } as const;
export const RoCompat = {
  sparseSuper: 0x1, largeFile: 0x2, hugeFile: 0x8, dirNlink: 0x20, extraIsize: 0x40, metadataCsum: 0x400,
} as const;

export const InodeFlags = { index: 0x1000, extents: 0x80000 } as const;
export const BgFlags = { itableZeroed: 0x4 } as const;

export const Mode = { dir: 0o040000, file: 0o100000, symlink: 0o120000 } as const;
export const FileType = { file: 1, dir: 2, symlink: 7 } as const;

/** s_def_hash_version: half MD4, the default of mke2fs. */
export const HASH_HALF_MD4 = 1;
/** s_flags: names hashed with signed chars, as mke2fs on x86 records. */
export const FLAGS_SIGNED_HASH = 0x1;
/** s_default_mount_opts: user_xattr and acl (mke2fs.conf's default_mntopts). */
export const DEFAULT_MOUNT_OPTS = 0x4 | 0x8;
