// Owns: named, in-place-layout mutations of EROFS images for negative/adversarial ishare tests, and the
// MUTATIONS registry a CLI can list. Every op returns new bytes (input untouched) and recomputes the
// superblock checksum when the image has COMPAT.SB_CHKSUM, so only the intended field is "wrong".
// Kernel expectations cite fs/erofs/{super.c,xattr.c,ishare.c} as of Linux 7.0.
import { updateSbChecksum } from "./crc32c.ts";
import { COMPAT, SB, SB_OFFSET, XATTR_ENTRY_SIZE, XE, align4 } from "./format.ts";
import { ErofsImage, type Xattr } from "./reader.ts";

export type MutationExpect = {
  mount: "ok" | "fails";
  sharing?: "none" | "shared" | "n/a";
  kernelMessage?: string;
};

function copy(img: Uint8Array): { out: Uint8Array; dv: DataView } {
  const out = img.slice();
  return { out, dv: new DataView(out.buffer, out.byteOffset, out.byteLength) };
}

function finish(out: Uint8Array): Uint8Array {
  updateSbChecksum(out);
  return out;
}

function fingerprintEntry(image: ErofsImage, path: string): { nid: number; x: Xattr } {
  const nid = image.resolve(path);
  const x = image.fingerprintXattr(nid);
  if (!x) {
    const name = image.superblock.ishareXattrName ?? "(ishare disabled)";
    throw new Error(`erofs mutate: ${path} has no fingerprint xattr ${name}`);
  }
  return { nid, x };
}

/**
 * Copy Y's (`fromPath`) fingerprint value onto X (`targetPath`); both values must have the same length.
 * Use files of the same size and different content.
 * Correct kernel: mounts; with inode_share both files get the same shared inode (the kernel trusts
 * fingerprints inside one domain), so X may read Y's bytes. This is the trust-model case: fsck.erofs
 * --xattr-inode-digest must flag X; plain fsck accepts it.
 */
export function forgeFingerprint(img: Uint8Array, targetPath: string, fromPath: string): Uint8Array {
  const image = ErofsImage.open(img);
  const to = fingerprintEntry(image, targetPath);
  const from = fingerprintEntry(image, fromPath);
  if (to.x.value.length !== from.x.value.length) {
    throw new Error(`erofs mutate: fingerprint lengths differ (${targetPath}: ${to.x.value.length}, ${fromPath}: ${from.x.value.length})`);
  }
  const { out } = copy(img);
  out.set(from.x.value, to.x.valueOffset);
  return finish(out);
}

/**
 * Same operation as forgeFingerprint, but requires the two files to have different sizes.
 * Correct kernel: mounts; the second inode to be looked up finds the shared inode, sees i_size differ,
 * warns "size(A:B) not matches for the same fingerprint" and is not shared; both files read their own data.
 */
export function sizeMismatchFingerprint(img: Uint8Array, targetPath: string, fromPath: string): Uint8Array {
  const image = ErofsImage.open(img);
  const a = image.inode(image.resolve(targetPath)).size;
  const b = image.inode(image.resolve(fromPath)).size;
  if (a === b) throw new Error(`erofs mutate: ${targetPath} and ${fromPath} have the same size ${a}; pick files of different sizes`);
  return forgeFingerprint(img, targetPath, fromPath);
}

/** Write `value` (same length as the current one, normally 39 bytes) as `path`'s fingerprint. */
export function setFingerprintValue(img: Uint8Array, path: string, value: Uint8Array): Uint8Array {
  const image = ErofsImage.open(img);
  const { x } = fingerprintEntry(image, path);
  if (value.length !== x.value.length) {
    throw new Error(`erofs mutate: new value is ${value.length} bytes, the stored one ${x.value.length}; only same-length writes are in place`);
  }
  const { out } = copy(img);
  out.set(value, x.valueOffset);
  return finish(out);
}

/** Name of the filler xattr emptyFingerprint leaves behind (user namespace, so it is harmless). */
export const PAD_XATTR_SUFFIX = "pcshare.pad";

/**
 * Give `path`'s fingerprint a zero-length value. Approach: e_value_size := 0 shrinks the entry
 * (4 + name + 39 -> 4 + name, both 4-aligned); the freed bytes are filled with one extra inline xattr
 * "user.pcshare.pad" (zero value) of exactly that size, so the inline xattr area, icount, the entries after
 * it and any tail-packed data keep their offsets. Needs the freed space >= 4 + 11 bytes (true for 39-byte values).
 * Correct kernel: mounts; erofs_getxattr returns 0 -> fingerprint rejected (valuelen <= 0) -> the inode is
 * not shared; the file reads normally. Shared (non-inline) fingerprint entries are refused.
 */
export function emptyFingerprint(img: Uint8Array, path: string): Uint8Array {
  const image = ErofsImage.open(img);
  const { x } = fingerprintEntry(image, path);
  if (x.shared) throw new Error(`erofs mutate: ${path}'s fingerprint is a shared xattr; emptying it would affect every user`);
  const nameLen = x.valueOffset - x.nameOffset;
  const newSize = align4(XATTR_ENTRY_SIZE + nameLen);
  const freed = x.entrySize - newSize;
  const padName = new TextEncoder().encode(PAD_XATTR_SUFFIX);
  const padFixed = XATTR_ENTRY_SIZE + padName.length;
  if (freed < padFixed) throw new Error(`erofs mutate: only ${freed} bytes freed, need ${padFixed} for the filler xattr`);
  const { out, dv } = copy(img);
  dv.setUint16(x.entryOffset + XE.valueSize, 0, true);
  out.fill(0, x.entryOffset + XATTR_ENTRY_SIZE + nameLen, x.entryOffset + x.entrySize);
  const pad = x.entryOffset + newSize;
  out[pad + XE.nameLen] = padName.length;
  out[pad + XE.nameIndex] = 1; // user.
  dv.setUint16(pad + XE.valueSize, freed - padFixed, true);
  out.set(padName, pad + XATTR_ENTRY_SIZE);
  return finish(out);
}

/**
 * Claim a value longer than a block: e_value_size := blockSize + 1 (or `valueSize`), without moving
 * anything. The entry then runs past the inode's inline xattr area (and past the block).
 * Exercises the kernel's bounds checks: xattr iteration must fail with -EFSCORRUPTED instead of reading
 * beyond the area, and erofs_xattr_fill_inode_fingerprint also rejects valuelen > block size.
 * Correct kernel: mounts; the inode is not shared; getxattr/listxattr on it fail cleanly (EUCLEAN/EFSCORRUPTED),
 * no oops. Plain data reads of the file still work.
 */
export function oversizeFingerprint(img: Uint8Array, path: string, valueSize?: number): Uint8Array {
  const image = ErofsImage.open(img);
  const { x } = fingerprintEntry(image, path);
  const size = valueSize ?? image.blockSize + 1;
  if (size > 0xffff) throw new RangeError(`e_value_size is 16 bits; ${size} does not fit`);
  const { out, dv } = copy(img);
  dv.setUint16(x.entryOffset + XE.valueSize, size, true);
  return finish(out);
}

/**
 * Set ishare_xattr_prefix_id to `id` (default: the prefix count, i.e. the first invalid id).
 * Correct kernel: mount fails with -EFSCORRUPTED and logs "invalid ishare xattr prefix id <id>"
 * (erofs_read_superblock checks it whenever COMPAT.ISHARE_XATTRS is set, inode_share or not).
 */
export function badIsharePrefixId(img: Uint8Array, id?: number): Uint8Array {
  const image = ErofsImage.open(img);
  const v = id ?? image.superblock.xattrPrefixCount;
  if (v < 0 || v > 0xff) throw new RangeError(`prefix id ${v} is not a u8`);
  const { out } = copy(img);
  out[SB_OFFSET + SB.ishareXattrPrefixId] = v;
  return finish(out);
}

/**
 * Clear COMPAT.ISHARE_XATTRS (0x20); the fingerprint xattrs stay.
 * Correct kernel: mounts; with -o inode_share it logs "on-disk ishare xattrs not found. Turning off
 * inode_share." and shares nothing.
 */
export function clearIshareCompat(img: Uint8Array): Uint8Array {
  const { out, dv } = copy(img);
  const o = SB_OFFSET + SB.featureCompat;
  dv.setUint32(o, dv.getUint32(o, true) & ~COMPAT.ISHARE_XATTRS, true);
  return finish(out);
}

/** Flip one byte of the superblock checksum region without fixing the checksum (control case). */
export function corruptSbChecksum(img: Uint8Array): Uint8Array {
  const { out, dv } = copy(img);
  const o = SB_OFFSET + SB.checksum;
  dv.setUint32(o, (dv.getUint32(o, true) ^ 0xffffffff) >>> 0, true);
  return out;
}

export interface MutationArgs {
  /** File whose fingerprint is changed. */
  path?: string;
  /** Second file (source of a copied fingerprint). */
  fromPath?: string;
  value?: Uint8Array;
  id?: number;
  valueSize?: number;
}

export interface Mutation {
  describe: string;
  /** Which MutationArgs the op needs. */
  needs: (keyof MutationArgs)[];
  expect: MutationExpect;
  apply(img: Uint8Array, args: MutationArgs): Uint8Array;
}

function req<K extends keyof MutationArgs>(args: MutationArgs, k: K, op: string): NonNullable<MutationArgs[K]> {
  const v = args[k];
  if (v === undefined) throw new Error(`erofs mutation ${op}: missing argument "${k}"`);
  return v as NonNullable<MutationArgs[K]>;
}

export const MUTATIONS: Record<string, Mutation> = {
  forgeFingerprint: {
    describe: "copy fromPath's fingerprint onto path (same size, different content): a forged digest",
    needs: ["path", "fromPath"],
    expect: { mount: "ok", sharing: "shared" },
    apply: (img, a) => forgeFingerprint(img, req(a, "path", "forgeFingerprint"), req(a, "fromPath", "forgeFingerprint")),
  },
  sizeMismatchFingerprint: {
    describe: "same fingerprint on two files of different sizes",
    needs: ["path", "fromPath"],
    expect: { mount: "ok", sharing: "none", kernelMessage: "not matches for the same fingerprint" },
    apply: (img, a) => sizeMismatchFingerprint(img, req(a, "path", "sizeMismatchFingerprint"), req(a, "fromPath", "sizeMismatchFingerprint")),
  },
  emptyFingerprint: {
    describe: "fingerprint value of length 0 (freed bytes become a user.pcshare.pad xattr)",
    needs: ["path"],
    expect: { mount: "ok", sharing: "none" },
    apply: (img, a) => emptyFingerprint(img, req(a, "path", "emptyFingerprint")),
  },
  oversizeFingerprint: {
    describe: "fingerprint e_value_size > block size, running past the inline xattr area",
    needs: ["path"],
    expect: { mount: "ok", sharing: "none" },
    apply: (img, a) => oversizeFingerprint(img, req(a, "path", "oversizeFingerprint"), a.valueSize),
  },
  badIsharePrefixId: {
    describe: "ishare_xattr_prefix_id >= xattr_prefix_count",
    needs: [],
    expect: { mount: "fails", sharing: "n/a", kernelMessage: "invalid ishare xattr prefix id" },
    apply: (img, a) => badIsharePrefixId(img, a.id),
  },
  clearIshareCompat: {
    describe: "clear the ishare_xattrs compat bit (0x20), keep the xattrs",
    needs: [],
    expect: { mount: "ok", sharing: "none", kernelMessage: "on-disk ishare xattrs not found" },
    apply: (img) => clearIshareCompat(img),
  },
  setFingerprintValue: {
    describe: "write an arbitrary same-length fingerprint value (e.g. from collide.ts)",
    needs: ["path", "value"],
    expect: { mount: "ok", sharing: "none" },
    apply: (img, a) => setFingerprintValue(img, req(a, "path", "setFingerprintValue"), req(a, "value", "setFingerprintValue")),
  },
};
