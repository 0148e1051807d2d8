// Owns: CRC32C (Castagnoli) as EROFS uses it for the superblock checksum, and computing/writing that checksum.
// erofs: crc32c(~0, sb_bytes, len) with the checksum field zeroed and no final inversion; the region starts at
// offset 1024 and is (blocksize - 1024) bytes long, or blocksize bytes when blocksize <= 1024 (erofs-utils lib/super.c).
import { COMPAT, SB, SB_OFFSET } from "./format.ts";

const POLY = 0x82f63b78;
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** Raw CRC32C register update (no pre/post inversion): pass ~0 as `crc` for the erofs convention. */
export function crc32c(crc: number, data: Uint8Array): number {
  let c = crc >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return c >>> 0;
}

/** Byte range [start, end) of the image covered by the superblock checksum. */
export function sbChecksumRange(blockSize: number): { start: number; end: number } {
  const len = blockSize > SB_OFFSET ? blockSize - SB_OFFSET : blockSize;
  return { start: SB_OFFSET, end: SB_OFFSET + len };
}

/** The checksum erofs expects for this image's superblock (checksum field treated as zero). */
export function computeSbChecksum(img: Uint8Array): number {
  const blockSize = 1 << img[SB_OFFSET + SB.blkszbits];
  const { start, end } = sbChecksumRange(blockSize);
  if (end > img.length) throw new RangeError(`superblock checksum range ${start}..${end} exceeds image size ${img.length}`);
  const buf = img.slice(start, end);
  buf.fill(0, SB.checksum, SB.checksum + 4);
  return crc32c(0xffffffff, buf);
}

/** Rewrite the stored checksum in place if the image has COMPAT.SB_CHKSUM; returns whether it did. */
export function updateSbChecksum(img: Uint8Array): boolean {
  const dv = new DataView(img.buffer, img.byteOffset, img.byteLength);
  if (!(dv.getUint32(SB_OFFSET + SB.featureCompat, true) & COMPAT.SB_CHKSUM)) return false;
  dv.setUint32(SB_OFFSET + SB.checksum, computeSbChecksum(img), true);
  return true;
}
