// Owns: a read-only, bounds-checked parser for EROFS images held in memory (superblock, long xattr prefixes,
// inodes, xattrs with their byte offsets, directories, path walk/lookup, ishare fingerprints, uncompressed
// file data). It never modifies its input. Compressed data and metabox-resident metadata are not decoded.
import { computeSbChecksum } from "./crc32c.ts";
import {
  CHUNK, COMPAT, COMPAT_NAMES, DEVT, DEVT_SLOT_SIZE, DIRENT_SIZE, FILE_TYPE, IC, IE, IFORMAT, INCOMPAT, INODE_COMPACT_SIZE,
  INODE_EXTENDED_SIZE, ISLOT_BITS, LAYOUT, LAYOUT_NAMES, NULL_ADDR_32, SB, SB_BASE_SIZE, SB_EXTSLOT_SIZE, SB_MAGIC,
  SB_OFFSET, XATTR_ENTRY_SIZE, XATTR_IBODY_HEADER_SIZE, XATTR_INDEX_PREFIX, XATTR_LONG_PREFIX,
  XATTR_LONG_PREFIX_MASK, XE, XH, align4, modeType, xattrIbodySize,
  type InodeType, type LayoutName,
} from "./format.ts";

/** The image bytes do not form a valid EROFS structure at `offset`. */
export class ErofsFormatError extends Error {
  constructor(readonly offset: number, readonly what: string) {
    super(`erofs: ${what} (at byte offset ${offset} / 0x${offset.toString(16)})`);
    this.name = "ErofsFormatError";
  }
}

/** The image is valid but uses something this reader does not decode (compression, metabox, extra devices). */
export class ErofsUnsupportedError extends Error {
  constructor(what: string) {
    super(`erofs: unsupported: ${what}`);
    this.name = "ErofsUnsupportedError";
  }
}

export interface LongXattrPrefix {
  /** Index in the prefix table (what e_name_index & 0x7f and ishare_xattr_prefix_id refer to). */
  index: number;
  baseIndex: number;
  infix: string;
  /** Short prefix of baseIndex + infix, e.g. "erofs.fingerprint.v1" (base 0) or "user.fp" (base 1). */
  name: string;
  /** Byte offset of the entry's u16 length field (undefined when read from the packed inode). */
  offset?: number;
}

export interface DeviceSlot {
  index: number; // 1-based device id
  tag: string;
  blocks: number;
  uniaddr: number;
  offset: number;
}

export interface Superblock {
  magic: number;
  blockSize: number;
  blkszbits: number;
  sbSize: number;
  rootNid: number;
  inodeCount: number;
  blocks: number;
  featureCompat: number;
  featureIncompat: number;
  compatNames: string[];
  metaBlkAddr: number;
  xattrBlkAddr: number;
  xattrPrefixStart: number;
  xattrPrefixCount: number;
  xattrPrefixes: LongXattrPrefix[];
  packedNid: number;
  metaboxNid: number;
  /** Raw on-disk ishare_xattr_prefix_id, or undefined when COMPAT.ISHARE_XATTRS is clear. */
  ishareXattrPrefixId: number | undefined;
  /** Full xattr name of the fingerprint, or undefined when ishare is off or the prefix id is out of range. */
  ishareXattrName: string | undefined;
  checksum: number;
  hasChecksum: boolean;
  /** Stored checksum equals the recomputed one; undefined when the image is not checksummed. */
  checksumValid: boolean | undefined;
  uuid: string;
  volumeName: string;
  epoch: number;
  fixedNsec: number;
  buildTime: number;
  extraDevices: number;
  devices: DeviceSlot[];
}

export interface Inode {
  nid: number;
  /** Byte offset of the on-disk inode. */
  offset: number;
  extended: boolean;
  /** 32 or 64. */
  isize: number;
  format: number;
  layoutId: number;
  layout: LayoutName;
  mode: number;
  type: InodeType;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  ino: number;
  /** Raw i_u (startblk_lo / blocks_lo / rdev / chunk format). */
  iu: number;
  /** Raw i_nb (nlink / startblk_hi / blocks_hi). */
  nb: number;
  xattrIcount: number;
  /** Bytes of the inline xattr area (header + shared ids + inline entries). */
  xattrSize: number;
  /** Start block of flat (plain/inline) data; undefined for other layouts or a NULL address. */
  startBlock: number | undefined;
  /** Chunk format bits, chunked layout only. */
  chunkFormat: number | undefined;
}

export interface Xattr {
  /** Full name, e.g. "user.foo", "trusted.overlay.x", "erofs.fingerprint.v1". */
  name: string;
  nameIndex: number;
  /** Long prefix table index when nameIndex has bit 0x80. */
  longPrefix: number | undefined;
  /** The name bytes stored in the entry (after the prefix). */
  suffix: string;
  value: Uint8Array;
  shared: boolean;
  sharedId: number | undefined;
  /** Byte offsets in the image of the 4-byte entry header, the stored name, and the value. */
  entryOffset: number;
  nameOffset: number;
  valueOffset: number;
  /** Aligned size of the whole entry (header + name + value, rounded up to 4). */
  entrySize: number;
}

export interface Dirent {
  name: string;
  nid: number;
  fileType: number;
  fileTypeName: string;
}

export interface WalkEntry {
  path: string;
  nid: number;
  inode: Inode;
}

const dec = new TextDecoder("utf-8", { fatal: false });
const latin1 = new TextDecoder("latin1");

export class ErofsImage {
  readonly bytes: Uint8Array;
  readonly superblock: Superblock;
  private readonly dv: DataView;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.superblock = this.parseSuperblock();
  }

  /** Parse `bytes` as an EROFS image; throws ErofsFormatError naming the offset and the problem. */
  static open(bytes: Uint8Array): ErofsImage {
    return new ErofsImage(bytes);
  }

  /**
   * When the superblock's block count (the primary device's size) is more than the image holds, the
   * image is truncated: its sizes. Reads past the end would fail later, checksums cover only block 0.
   */
  truncation(): { expectedBytes: number; actualBytes: number } | undefined {
    const expectedBytes = this.superblock.blocks * this.superblock.blockSize;
    return expectedBytes > this.bytes.length ? { expectedBytes, actualBytes: this.bytes.length } : undefined;
  }

  // ---- bounds-checked primitive reads ----

  private need(off: number, len: number, what: string): void {
    if (!Number.isSafeInteger(off) || off < 0 || len < 0 || off + len > this.bytes.length) {
      throw new ErofsFormatError(off, `${what}: ${len} bytes at ${off} run past the end of the image (${this.bytes.length} bytes)`);
    }
  }
  u8(off: number, what = "u8"): number { this.need(off, 1, what); return this.bytes[off]; }
  u16(off: number, what = "u16"): number { this.need(off, 2, what); return this.dv.getUint16(off, true); }
  u32(off: number, what = "u32"): number { this.need(off, 4, what); return this.dv.getUint32(off, true); }
  u64(off: number, what = "u64"): bigint { this.need(off, 8, what); return this.dv.getBigUint64(off, true); }
  slice(off: number, len: number, what = "data"): Uint8Array { this.need(off, len, what); return this.bytes.subarray(off, off + len); }

  // ---- block helpers ----

  get blockSize(): number { return this.superblock.blockSize; }
  /** Byte offset of block `blk`. */
  blockOffset(blk: number): number { return blk * this.superblock.blockSize; }
  /** Block number containing byte `offset`. */
  blockOf(offset: number): number { return Math.floor(offset / this.superblock.blockSize); }
  /** Offset of `offset` inside its block. */
  blockOff(offset: number): number { return offset % this.superblock.blockSize; }
  /** Byte offset of inode `nid` (meta_blkaddr * blksz + nid * 32). */
  inodeOffset(nid: number): number { return this.blockOffset(this.superblock.metaBlkAddr) + nid * (1 << ISLOT_BITS); }
  /** Byte offset of shared xattr `id` (xattr_blkaddr * blksz + id * 4). */
  sharedXattrOffset(id: number): number { return this.blockOffset(this.superblock.xattrBlkAddr) + id * 4; }

  // ---- superblock ----

  private parseSuperblock(): Superblock {
    const S = SB_OFFSET;
    if (this.bytes.length < S + SB_BASE_SIZE) {
      throw new ErofsFormatError(S, `image too small for a superblock (${this.bytes.length} bytes, need ${S + SB_BASE_SIZE})`);
    }
    const magic = this.u32(S + SB.magic);
    if (magic !== SB_MAGIC) {
      throw new ErofsFormatError(S + SB.magic, `bad magic 0x${magic.toString(16)}, expected 0x${SB_MAGIC.toString(16)}`);
    }
    const blkszbits = this.u8(S + SB.blkszbits);
    if (blkszbits < 9 || blkszbits > 16) {
      throw new ErofsFormatError(S + SB.blkszbits, `unsupported blkszbits ${blkszbits} (block size must be 512..65536)`);
    }
    const blockSize = 1 << blkszbits;
    const sbSize = SB_BASE_SIZE + this.u8(S + SB.sbExtslots) * SB_EXTSLOT_SIZE;
    if (S + sbSize > this.bytes.length || (blockSize > S && sbSize > blockSize - S)) {
      throw new ErofsFormatError(S + SB.sbExtslots, `sb_extslots gives superblock size ${sbSize}, which does not fit`);
    }
    const featureCompat = this.u32(S + SB.featureCompat);
    const featureIncompat = this.u32(S + SB.featureIncompat);
    const is48 = (featureIncompat & INCOMPAT.BIT48) !== 0;
    const rootNid8b = Number(this.u64(S + SB.rootNid8b));
    const rootNid = is48 && rootNid8b ? rootNid8b : this.u16(S + SB.rootNid2b);
    let blocks = this.u32(S + SB.blocksLo);
    if (is48 && rootNid8b) blocks += this.u16(S + SB.rootNid2b) * 2 ** 32;
    const metaBlkAddr = this.u32(S + SB.metaBlkAddr);
    if (metaBlkAddr * blockSize > this.bytes.length) {
      throw new ErofsFormatError(S + SB.metaBlkAddr, `meta_blkaddr ${metaBlkAddr} is beyond the image end`);
    }
    const metaboxNid = (featureIncompat & INCOMPAT.METABOX) && sbSize > SB.metaboxNid ? Number(this.u64(S + SB.metaboxNid)) : 0;
    const checksum = this.u32(S + SB.checksum);
    const hasChecksum = (featureCompat & COMPAT.SB_CHKSUM) !== 0;
    let checksumValid: boolean | undefined;
    if (hasChecksum) {
      try { checksumValid = computeSbChecksum(this.bytes) === checksum; } catch { checksumValid = false; }
    }
    const uuidBytes = this.slice(S + SB.uuid, 16);
    const hex = Array.from(uuidBytes, (b) => b.toString(16).padStart(2, "0")).join("");
    const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const vn = this.slice(S + SB.volumeName, 16);
    const vnEnd = vn.indexOf(0);
    const extraDevices = this.u16(S + SB.extraDevices);
    const sb: Superblock = {
      magic, blockSize, blkszbits, sbSize, rootNid,
      inodeCount: Number(this.u64(S + SB.inos)),
      blocks,
      featureCompat, featureIncompat,
      compatNames: compatNames(featureCompat),
      metaBlkAddr,
      xattrBlkAddr: this.u32(S + SB.xattrBlkAddr),
      xattrPrefixStart: this.u32(S + SB.xattrPrefixStart),
      xattrPrefixCount: this.u8(S + SB.xattrPrefixCount),
      xattrPrefixes: [],
      packedNid: Number(this.u64(S + SB.packedNid)),
      metaboxNid,
      ishareXattrPrefixId: featureCompat & COMPAT.ISHARE_XATTRS ? this.u8(S + SB.ishareXattrPrefixId) : undefined,
      ishareXattrName: undefined,
      checksum, hasChecksum, checksumValid,
      uuid,
      volumeName: latin1.decode(vnEnd >= 0 ? vn.subarray(0, vnEnd) : vn),
      epoch: Number(this.u64(S + SB.epoch)),
      fixedNsec: this.u32(S + SB.fixedNsec),
      buildTime: this.u32(S + SB.buildTime),
      extraDevices,
      devices: [],
    };
    (this as { superblock: Superblock }).superblock = sb; // helpers below need blockSize
    if (featureIncompat & INCOMPAT.DEVICE_TABLE && extraDevices) {
      const base = this.u16(S + SB.devtSlotOff) * DEVT_SLOT_SIZE;
      for (let i = 0; i < extraDevices; i++) {
        const o = base + i * DEVT_SLOT_SIZE;
        const tag = this.slice(o + DEVT.tag, 64, `device slot ${i + 1}`);
        const end = tag.indexOf(0);
        sb.devices.push({
          index: i + 1,
          tag: latin1.decode(end >= 0 ? tag.subarray(0, end) : tag),
          blocks: this.u32(o + DEVT.blocksLo) + this.u16(o + DEVT.blocksHi) * 2 ** 32,
          uniaddr: this.u32(o + DEVT.uniaddrLo) + this.u16(o + DEVT.uniaddrHi) * 2 ** 32,
          offset: o,
        });
      }
    }
    sb.xattrPrefixes = this.parsePrefixes(sb);
    if (sb.ishareXattrPrefixId !== undefined && sb.ishareXattrPrefixId < sb.xattrPrefixes.length) {
      sb.ishareXattrName = sb.xattrPrefixes[sb.ishareXattrPrefixId].name;
    }
    this.inode(rootNid); // validates the root inode location and format
    return sb;
  }

  private parsePrefixes(sb: Superblock): LongXattrPrefix[] {
    const count = sb.xattrPrefixCount;
    if (!count) return [];
    const plain = (sb.featureCompat & COMPAT.PLAIN_XATTR_PFX) !== 0;
    let src = this.bytes;
    // Like erofs-utils: without PLAIN_XATTR_PFX the table lives in the metabox or packed inode's data.
    const fromNid = plain ? 0 : sb.metaboxNid || sb.packedNid;
    if (fromNid) {
      try { src = this.readFile(fromNid); } catch (e) {
        if (e instanceof ErofsUnsupportedError) return []; // prefixes in a compressed packed/metabox inode
        throw e;
      }
    }
    const out: LongXattrPrefix[] = [];
    let pos = sb.xattrPrefixStart * 4;
    for (let i = 0; i < count; i++) {
      const at = fromNid ? 0 : pos;
      if (pos + 2 > src.length) throw new ErofsFormatError(at, `long xattr prefix ${i}: length field past the end`);
      const len = src[pos] | (src[pos + 1] << 8);
      if (len < 1 || len > 256 || pos + 2 + len > src.length) {
        throw new ErofsFormatError(at, `long xattr prefix ${i}: bad length ${len}`);
      }
      const baseIndex = src[pos + 2];
      const infix = latin1.decode(src.subarray(pos + 3, pos + 2 + len));
      const short = XATTR_INDEX_PREFIX[baseIndex];
      if (short === undefined) throw new ErofsFormatError(at + 2, `long xattr prefix ${i}: unknown base index ${baseIndex}`);
      out.push({ index: i, baseIndex, infix, name: short + infix, offset: fromNid ? undefined : pos });
      pos = align4(pos + 2 + len);
    }
    return out;
  }

  // ---- inodes ----

  /** Decode the on-disk inode `nid`. */
  inode(nid: number): Inode {
    if (!Number.isSafeInteger(nid) || nid < 0) throw new ErofsFormatError(0, `bad nid ${nid}`);
    const off = this.inodeOffset(nid);
    const format = this.u16(off + IC.format, `inode ${nid} i_format`);
    if (format & ~IFORMAT.ALL) throw new ErofsFormatError(off, `inode ${nid}: unsupported i_format 0x${format.toString(16)}`);
    const layoutId = (format >> IFORMAT.DATALAYOUT_BIT) & IFORMAT.DATALAYOUT_MASK;
    if (layoutId > LAYOUT.CHUNK_BASED) throw new ErofsFormatError(off, `inode ${nid}: unsupported data layout ${layoutId}`);
    const extended = (format & IFORMAT.VERSION_MASK) === 1;
    const isize = extended ? INODE_EXTENDED_SIZE : INODE_COMPACT_SIZE;
    this.need(off, isize, `inode ${nid}`);
    const mode = this.u16(off + IC.mode);
    const type = modeType(mode);
    if (type === "unknown") throw new ErofsFormatError(off + IC.mode, `inode ${nid}: bogus i_mode 0${mode.toString(8)}`);
    const xattrIcount = this.u16(off + IC.xattrIcount);
    const nb = this.u16(off + IC.nb);
    const iu = this.u32(off + IC.u);
    let nlink: number, uid: number, gid: number, size: number, mtime: number, ino: number;
    let startHi = 0;
    if (extended) {
      size = Number(this.u64(off + IE.size));
      ino = this.u32(off + IE.ino);
      uid = this.u32(off + IE.uid);
      gid = this.u32(off + IE.gid);
      mtime = Number(this.u64(off + IE.mtime));
      nlink = this.u32(off + IE.nlink);
      startHi = nb;
    } else {
      size = this.u32(off + IC.size);
      ino = this.u32(off + IC.ino);
      uid = this.u16(off + IC.uid);
      gid = this.u16(off + IC.gid);
      mtime = this.superblock.epoch + this.u32(off + IC.mtime);
      if (type !== "dir" && (format >> IFORMAT.NLINK_1_BIT) & 1) { nlink = 1; startHi = nb; }
      else nlink = nb;
    }
    let startBlock: number | undefined;
    let chunkFormat: number | undefined;
    if (type === "file" || type === "dir" || type === "symlink") {
      if (layoutId === LAYOUT.FLAT_PLAIN || layoutId === LAYOUT.FLAT_INLINE) {
        startBlock = iu === NULL_ADDR_32 && (startHi === 0 || startHi === 0xffff) ? undefined : iu + startHi * 2 ** 32;
      } else if (layoutId === LAYOUT.CHUNK_BASED) {
        chunkFormat = iu & 0xffff;
        if (chunkFormat & ~CHUNK.ALL) throw new ErofsFormatError(off + IC.u, `inode ${nid}: unsupported chunk format 0x${chunkFormat.toString(16)}`);
      }
    }
    return {
      nid, offset: off, extended, isize, format, layoutId, layout: LAYOUT_NAMES[layoutId], mode, type, nlink, uid, gid,
      size, mtime, ino, iu, nb, xattrIcount, xattrSize: xattrIbodySize(xattrIcount), startBlock, chunkFormat,
    };
  }

  // ---- xattrs ----

  /** Parse one xattr entry at `off`; `limit` is the end of the area it must fit in. */
  private entryAt(off: number, limit: number, shared: boolean, sharedId: number | undefined): Xattr {
    const nameLen = this.u8(off + XE.nameLen, "xattr entry");
    const nameIndex = this.u8(off + XE.nameIndex, "xattr entry");
    const valueSize = this.u16(off + XE.valueSize, "xattr entry");
    const entrySize = align4(XATTR_ENTRY_SIZE + nameLen + valueSize);
    if (off + XATTR_ENTRY_SIZE + nameLen + valueSize > limit) {
      throw new ErofsFormatError(off, `xattr entry (name_len ${nameLen}, value_size ${valueSize}) runs past its area end ${limit}`);
    }
    const nameOffset = off + XATTR_ENTRY_SIZE;
    const valueOffset = nameOffset + nameLen;
    const suffix = latin1.decode(this.slice(nameOffset, nameLen, "xattr name"));
    let prefix: string | undefined;
    let longPrefix: number | undefined;
    if (nameIndex & XATTR_LONG_PREFIX) {
      longPrefix = nameIndex & XATTR_LONG_PREFIX_MASK;
      prefix = this.superblock.xattrPrefixes[longPrefix]?.name;
      if (prefix === undefined) throw new ErofsFormatError(off + XE.nameIndex, `xattr entry refers to missing long prefix ${longPrefix}`);
    } else {
      prefix = XATTR_INDEX_PREFIX[nameIndex];
      if (prefix === undefined) prefix = `<index ${nameIndex}>`;
    }
    return {
      name: prefix + suffix, nameIndex, longPrefix, suffix,
      value: this.slice(valueOffset, valueSize, "xattr value").slice(),
      shared, sharedId, entryOffset: off, nameOffset, valueOffset, entrySize,
    };
  }

  /**
   * All xattrs of inode `nid`: inline entries first, then shared ones (the order the kernel's getxattr
   * searches them), each with the byte offsets of its header, name and value.
   */
  xattrs(nid: number): Xattr[] {
    const ino = this.inode(nid);
    if (ino.xattrSize === 0) return [];
    const start = ino.offset + ino.isize;
    const end = start + ino.xattrSize;
    if (ino.xattrSize <= XATTR_IBODY_HEADER_SIZE) return [];
    this.need(start, ino.xattrSize, `inode ${nid} xattr area`);
    const sharedCount = this.u8(start + XH.sharedCount);
    let pos = start + XATTR_IBODY_HEADER_SIZE + sharedCount * 4;
    if (pos > end) throw new ErofsFormatError(start + XH.sharedCount, `inode ${nid}: ${sharedCount} shared xattr ids overflow the xattr area`);
    const out: Xattr[] = [];
    while (pos < end) {
      const x = this.entryAt(pos, end, false, undefined);
      out.push(x);
      pos += x.entrySize;
    }
    if (sharedCount && this.superblock.featureCompat & COMPAT.SHARED_EA_IN_METABOX) {
      throw new ErofsUnsupportedError(`inode ${nid}: shared xattrs stored in the metabox inode`);
    }
    for (let i = 0; i < sharedCount; i++) {
      const id = this.u32(start + XATTR_IBODY_HEADER_SIZE + i * 4);
      const off = this.sharedXattrOffset(id);
      out.push(this.entryAt(off, this.bytes.length, true, id));
    }
    return out;
  }

  /** The xattr named `name` the way the kernel finds it (first inline match, then shared), or undefined. */
  xattr(nid: number, name: string): Xattr | undefined {
    return this.xattrs(nid).find((x) => x.name === name);
  }

  /** Value of the ishare fingerprint xattr (named by ishare_xattr_prefix_id), or undefined. */
  fingerprint(nid: number): Uint8Array | undefined {
    const name = this.superblock.ishareXattrName;
    if (name === undefined) return undefined;
    return this.xattr(nid, name)?.value;
  }

  /** The fingerprint xattr entry itself (with offsets), or undefined. */
  fingerprintXattr(nid: number): Xattr | undefined {
    const name = this.superblock.ishareXattrName;
    return name === undefined ? undefined : this.xattr(nid, name);
  }

  // ---- data ----

  /** Byte offset of the tail-packed (inline) data of a FLAT_INLINE inode. */
  inlineDataOffset(ino: Inode): number {
    return ino.offset + ino.isize + ino.xattrSize;
  }

  /** Full contents of an uncompressed inode (plain, inline, chunked): files, directories, symlinks. */
  readFile(nid: number): Uint8Array {
    const ino = this.inode(nid);
    if (ino.type !== "file" && ino.type !== "dir" && ino.type !== "symlink") return new Uint8Array(0);
    const bs = this.blockSize;
    const size = ino.size;
    const out = new Uint8Array(size);
    switch (ino.layoutId) {
      case LAYOUT.FLAT_PLAIN: {
        if (ino.startBlock === undefined || size === 0) return out; // NULL address: a hole
        out.set(this.slice(this.blockOffset(ino.startBlock), size, `inode ${nid} data`));
        return out;
      }
      case LAYOUT.FLAT_INLINE: {
        const nblocks = Math.ceil(size / bs);
        const lastBlk = Math.max(0, nblocks - 1);
        const head = Math.min(size, lastBlk * bs);
        if (head > 0) {
          if (ino.startBlock === undefined) throw new ErofsFormatError(ino.offset + IC.u, `inode ${nid}: inline layout with NULL start block`);
          out.set(this.slice(this.blockOffset(ino.startBlock), head, `inode ${nid} data`));
        }
        const tail = size - head;
        if (tail > 0) {
          const toff = this.inlineDataOffset(ino);
          if (this.blockOff(toff) + tail > bs) throw new ErofsFormatError(toff, `inode ${nid}: inline tail of ${tail} bytes crosses a block boundary`);
          out.set(this.slice(toff, tail, `inode ${nid} inline tail`), head);
        }
        return out;
      }
      case LAYOUT.CHUNK_BASED: {
        const fmt = ino.chunkFormat ?? 0;
        const chunkSize = bs * 2 ** (fmt & CHUNK.BLKBITS_MASK);
        const indexes = (fmt & CHUNK.INDEXES) !== 0;
        const unit = indexes ? CHUNK.INDEX_SIZE : CHUNK.MAP_ENTRY_SIZE;
        const base = Math.ceil((ino.offset + ino.isize + ino.xattrSize) / unit) * unit;
        const nchunks = Math.ceil(size / chunkSize);
        for (let c = 0; c < nchunks; c++) {
          const e = base + c * unit;
          let blk: number | undefined;
          if (indexes) {
            const lo = this.u32(e + 4, `inode ${nid} chunk index ${c}`);
            const hi = this.u16(e);
            const dev = this.u16(e + 2);
            if (lo === NULL_ADDR_32) blk = undefined;
            else {
              if (dev !== 0) throw new ErofsUnsupportedError(`inode ${nid} chunk ${c} lives on extra device ${dev}`);
              blk = lo + (fmt & CHUNK.BIT48 ? hi * 2 ** 32 : 0);
            }
          } else {
            const v = this.u32(e, `inode ${nid} chunk map ${c}`);
            blk = v === NULL_ADDR_32 ? undefined : v;
          }
          const lo = c * chunkSize;
          const len = Math.min(chunkSize, size - lo);
          if (blk !== undefined) {
            const abs = this.blockOffset(blk);
            if (abs + len > this.bytes.length && this.superblock.devices.length) {
              throw new ErofsUnsupportedError(`inode ${nid} chunk ${c} at block ${blk} is outside the primary device`);
            }
            out.set(this.slice(abs, len, `inode ${nid} chunk ${c}`), lo);
          }
        }
        return out;
      }
      default:
        throw new ErofsUnsupportedError(`inode ${nid} uses ${ino.layout} layout; compressed data is not decoded by this reader`);
    }
  }

  // ---- directories ----

  /** Entries of directory `nid` in on-disk order (including "." and ".." when present). */
  readdir(nid: number): Dirent[] {
    const ino = this.inode(nid);
    if (ino.type !== "dir") throw new ErofsFormatError(ino.offset + IC.mode, `inode ${nid} is not a directory`);
    const data = this.readFile(nid);
    const bs = this.blockSize;
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const out: Dirent[] = [];
    for (let blkStart = 0; blkStart < data.length; blkStart += bs) {
      const maxsize = Math.min(bs, data.length - blkStart);
      if (maxsize < DIRENT_SIZE) throw new ErofsFormatError(ino.offset, `directory ${nid}: block ${blkStart / bs} too small`);
      const nameoff0 = dv.getUint16(blkStart + 8, true);
      if (nameoff0 < DIRENT_SIZE || nameoff0 >= maxsize || nameoff0 % DIRENT_SIZE) {
        throw new ErofsFormatError(ino.offset, `directory ${nid}: bad first nameoff ${nameoff0} in block ${blkStart / bs}`);
      }
      const count = nameoff0 / DIRENT_SIZE;
      for (let i = 0; i < count; i++) {
        const d = blkStart + i * DIRENT_SIZE;
        const rawNid = dv.getBigUint64(d, true);
        const nameoff = dv.getUint16(d + 8, true);
        const fileType = data[d + 10];
        let nameEnd = i + 1 < count ? dv.getUint16(d + DIRENT_SIZE + 8, true) : maxsize;
        if (nameoff < nameoff0 || nameEnd > maxsize || nameEnd < nameoff) {
          throw new ErofsFormatError(ino.offset, `directory ${nid}: bad name range ${nameoff}..${nameEnd} in block ${blkStart / bs}`);
        }
        let nameBytes = data.subarray(blkStart + nameoff, blkStart + nameEnd);
        if (i + 1 === count) {
          const z = nameBytes.indexOf(0);
          if (z >= 0) nameBytes = nameBytes.subarray(0, z);
        }
        if (rawNid >> 63n) throw new ErofsUnsupportedError(`directory ${nid}: entry "${dec.decode(nameBytes)}" is in the metabox`);
        out.push({
          name: dec.decode(nameBytes),
          nid: Number(rawNid),
          fileType,
          fileTypeName: FILE_TYPE[fileType] ?? `type${fileType}`,
        });
      }
    }
    return out;
  }

  /** Every inode reachable from the root, depth first in directory order; root is "/". */
  *walk(): Generator<WalkEntry> {
    const root = this.superblock.rootNid;
    const seenDirs = new Set<number>();
    const stack: WalkEntry[] = [{ path: "/", nid: root, inode: this.inode(root) }];
    while (stack.length) {
      const e = stack.pop()!;
      yield e;
      if (e.inode.type !== "dir" || seenDirs.has(e.nid)) continue;
      seenDirs.add(e.nid);
      const kids = this.readdir(e.nid).filter((d) => d.name !== "." && d.name !== "..");
      for (let i = kids.length - 1; i >= 0; i--) {
        const d = kids[i];
        stack.push({ path: (e.path === "/" ? "" : e.path) + "/" + d.name, nid: d.nid, inode: this.inode(d.nid) });
      }
    }
  }

  /** nid of `path` ("/a/b"), or undefined if it does not exist. */
  lookup(path: string): number | undefined {
    let nid = this.superblock.rootNid;
    for (const part of path.split("/").filter((p) => p && p !== ".")) {
      if (this.inode(nid).type !== "dir") return undefined;
      const d = this.readdir(nid).find((x) => x.name === part);
      if (!d) return undefined;
      nid = d.nid;
    }
    return nid;
  }

  /** Like lookup but throws a clear error when the path is missing. */
  resolve(path: string): number {
    const nid = this.lookup(path);
    if (nid === undefined) throw new Error(`erofs: no such path in image: ${path}`);
    return nid;
  }
}

function compatNames(bits: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < 32; i++) {
    const b = 2 ** i;
    if (bits & b) out.push(COMPAT_NAMES[b] ?? `0x${b.toString(16)}`);
  }
  return out;
}
