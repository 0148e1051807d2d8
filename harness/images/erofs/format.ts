// Owns: EROFS on-disk format constants and struct field offsets (superblock, inodes, xattrs, dirents, chunks).
// Source of truth: erofs-utils include/erofs_fs.h and the kernel's fs/erofs/erofs_fs.h (read, not copied).
// Offsets of superblock fields are relative to the superblock start (SB_OFFSET).

export const SB_OFFSET = 1024;
export const SB_MAGIC = 0xe0f5e1e2;
/** Base superblock size; the real size is 128 + sb_extslots * 16. */
export const SB_BASE_SIZE = 128;
export const SB_EXTSLOT_SIZE = 16;

/** erofs_super_block field offsets. */
export const SB = {
  magic: 0x00, // u32
  checksum: 0x04, // u32 crc32c (when COMPAT.SB_CHKSUM)
  featureCompat: 0x08, // u32
  blkszbits: 0x0c, // u8
  sbExtslots: 0x0d, // u8
  rootNid2b: 0x0e, // u16 (blocks_hi when 48BIT and rootnid_8b != 0)
  inos: 0x10, // u64
  epoch: 0x18, // u64
  fixedNsec: 0x20, // u32
  blocksLo: 0x24, // u32
  metaBlkAddr: 0x28, // u32
  xattrBlkAddr: 0x2c, // u32
  uuid: 0x30, // 16 bytes
  volumeName: 0x40, // 16 bytes
  featureIncompat: 0x50, // u32
  availableComprAlgs: 0x54, // u16 (lz4_max_distance without COMPR_CFGS)
  extraDevices: 0x56, // u16
  devtSlotOff: 0x58, // u16; table at devt_slotoff * DEVT_SLOT_SIZE (absolute)
  dirblkbits: 0x5a, // u8
  xattrPrefixCount: 0x5b, // u8
  xattrPrefixStart: 0x5c, // u32, in units of 4 bytes
  packedNid: 0x60, // u64
  xattrFilterReserved: 0x68, // u8
  ishareXattrPrefixId: 0x69, // u8 (raw long-prefix index, without the 0x80 flag)
  reserved: 0x6a, // 2 bytes
  buildTime: 0x6c, // u32
  rootNid8b: 0x70, // u64 (48BIT)
  reserved2: 0x78, // u64
  metaboxNid: 0x80, // u64 (METABOX; needs sb_extslots >= 1)
  reserved3: 0x88, // u64
} as const;

export const COMPAT = {
  SB_CHKSUM: 0x1,
  MTIME: 0x2,
  XATTR_FILTER: 0x4,
  SHARED_EA_IN_METABOX: 0x8,
  PLAIN_XATTR_PFX: 0x10,
  ISHARE_XATTRS: 0x20,
} as const;

export const INCOMPAT = {
  LZ4_0PADDING: 0x1,
  COMPR_CFGS: 0x2, // == BIG_PCLUSTER
  BIG_PCLUSTER: 0x2,
  CHUNKED_FILE: 0x4,
  DEVICE_TABLE: 0x8, // == COMPR_HEAD2
  COMPR_HEAD2: 0x8,
  ZTAILPACKING: 0x10,
  FRAGMENTS: 0x20, // == DEDUPE
  DEDUPE: 0x20,
  XATTR_PREFIXES: 0x40,
  BIT48: 0x80,
  METABOX: 0x100,
} as const;

export const COMPAT_NAMES: Record<number, string> = {
  0x1: "sb_csum",
  0x2: "mtime",
  0x4: "xattr_filter",
  0x8: "shared_ea_in_metabox",
  0x10: "plain_xattr_pfx",
  0x20: "ishare_xattrs",
};

/** Device table slot (erofs_deviceslot), 128 bytes. */
export const DEVT_SLOT_SIZE = 128;
export const DEVT = { tag: 0, blocksLo: 64, uniaddrLo: 68, blocksHi: 72, uniaddrHi: 74 } as const;

/** Inode slots are 32 bytes: inode byte offset = meta_blkaddr * blksz + nid * 32. */
export const ISLOT_BITS = 5;
export const INODE_COMPACT_SIZE = 32;
export const INODE_EXTENDED_SIZE = 64;

/** i_format bits. */
export const IFORMAT = {
  VERSION_MASK: 0x1, // 0 compact, 1 extended
  DATALAYOUT_BIT: 1,
  DATALAYOUT_MASK: 0x7,
  NLINK_1_BIT: 4, // non-directory compact inodes: nlink == 1, i_nb holds startblk_hi
  DOT_OMITTED_BIT: 4, // directories: "." dirent omitted
  ALL: 0x1f,
} as const;

export const LAYOUT = {
  FLAT_PLAIN: 0,
  COMPRESSED_FULL: 1,
  FLAT_INLINE: 2,
  COMPRESSED_COMPACT: 3,
  CHUNK_BASED: 4,
} as const;

export type LayoutName = "plain" | "compressed-full" | "inline" | "compressed-compact" | "chunked";
export const LAYOUT_NAMES: readonly LayoutName[] = ["plain", "compressed-full", "inline", "compressed-compact", "chunked"];

/** erofs_inode_compact (32 bytes). */
export const IC = {
  format: 0, xattrIcount: 2, mode: 4, nb: 6, size: 8, mtime: 12, u: 16, ino: 20, uid: 24, gid: 26, reserved: 28,
} as const;
/** erofs_inode_extended (64 bytes). */
export const IE = {
  format: 0, xattrIcount: 2, mode: 4, nb: 6, size: 8, u: 16, ino: 20, uid: 24, gid: 28, mtime: 32, mtimeNsec: 40,
  nlink: 44, reserved2: 48,
} as const;

/** Chunk format (i_u.c.format for CHUNK_BASED inodes). */
export const CHUNK = {
  BLKBITS_MASK: 0x1f, // chunk size = block size << (format & mask)
  INDEXES: 0x20, // 8-byte erofs_inode_chunk_index entries (else 4-byte block map)
  BIT48: 0x40,
  ALL: 0x7f,
  INDEX_SIZE: 8, // { u16 startblk_hi; u16 device_id; u32 startblk_lo }
  MAP_ENTRY_SIZE: 4,
} as const;
export const NULL_ADDR_32 = 0xffffffff;

/** xattr ibody header (12 bytes) followed by h_shared_count u32 shared xattr ids, then inline entries. */
export const XATTR_IBODY_HEADER_SIZE = 12;
export const XH = { nameFilter: 0, sharedCount: 4 } as const;
/** Entry header (4 bytes): u8 e_name_len, u8 e_name_index, u16 e_value_size; then name, value; 4-byte aligned. */
export const XATTR_ENTRY_SIZE = 4;
export const XE = { nameLen: 0, nameIndex: 1, valueSize: 2 } as const;
export const XATTR_LONG_PREFIX = 0x80;
export const XATTR_LONG_PREFIX_MASK = 0x7f;
export const XATTR_FILTER_SEED = 0x25bbe08f;

/** Short name prefixes by e_name_index (0 = no prefix). */
export const XATTR_INDEX_PREFIX: Record<number, string> = {
  0: "",
  1: "user.",
  2: "system.posix_acl_access",
  3: "system.posix_acl_default",
  4: "trusted.",
  5: "lustre.",
  6: "security.",
};

/** inline xattr area size for i_xattr_icount (0 => no xattrs). */
export function xattrIbodySize(icount: number): number {
  return icount === 0 ? 0 : XATTR_IBODY_HEADER_SIZE + 4 * (icount - 1);
}
export const align4 = (n: number): number => (n + 3) & ~3;

/** erofs_dirent, 12 bytes: u64 nid, u16 nameoff, u8 file_type, u8 reserved. */
export const DIRENT_SIZE = 12;
export const DIRENT_NID_METABOX_BIT = 63n;
export const FILE_TYPE = ["unknown", "file", "dir", "chrdev", "blkdev", "fifo", "sock", "symlink"] as const;

/** The default ishare xattr name written by mkfs.erofs --xattr-inode-digest. */
export const DEFAULT_ISHARE_XATTR = "erofs.fingerprint.v1";
/** Fingerprint value written by mkfs: ASCII "sha256:" + 32 raw digest bytes. */
export const FINGERPRINT_PREFIX = "sha256:";
export const FINGERPRINT_SIZE = 39;

/** S_IFMT values. */
export const S_IFMT = 0o170000;
export const S_IF = {
  SOCK: 0o140000, LNK: 0o120000, REG: 0o100000, BLK: 0o060000, DIR: 0o040000, CHR: 0o020000, FIFO: 0o010000,
} as const;
export type InodeType = "file" | "dir" | "symlink" | "chrdev" | "blkdev" | "fifo" | "sock" | "unknown";
export function modeType(mode: number): InodeType {
  switch (mode & S_IFMT) {
    case S_IF.REG: return "file";
    case S_IF.DIR: return "dir";
    case S_IF.LNK: return "symlink";
    case S_IF.CHR: return "chrdev";
    case S_IF.BLK: return "blkdev";
    case S_IF.FIFO: return "fifo";
    case S_IF.SOCK: return "sock";
    default: return "unknown";
  }
}
