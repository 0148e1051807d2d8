// Owns: named, in-place-layout mutations of EROFS images for negative/adversarial ishare tests, and the
// MUTATIONS registry a CLI can list. Every op returns new bytes (input untouched) and recomputes the
// superblock checksum when the image has COMPAT.SB_CHKSUM, so only the intended field is "wrong".
// Kernel expectations cite fs/erofs/{super.c,xattr.c,ishare.c} as of Linux 7.0.
import { updateSbChecksum } from "./crc32c.ts";
import { COMPAT, SB, SB_OFFSET, XATTR_ENTRY_SIZE, XE, align4 } from "./format.ts";
import { ErofsImage, type Xattr } from "./reader.ts";
import { findCollidingPair, ishareHash, multiCollisionFor, type KeyLayout } from "./collide.ts";

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

/**
 * Write `value` as `path`'s fingerprint, allowing a length change as long as the entry keeps its aligned
 * size (4 + name + value rounded up to 4): a 39-byte value with an empty stored name sits in a 44-byte
 * entry, so 37..40 bytes fit. e_value_size is updated; the bytes after a shorter value are zeroed.
 * Used to build key-confusion pairs (e.g. domain "a" + value "b"+V against domain "ab" + V).
 */
export function setFingerprintBytes(img: Uint8Array, path: string, value: Uint8Array): Uint8Array {
  const image = ErofsImage.open(img);
  const { x } = fingerprintEntry(image, path);
  const nameLen = x.valueOffset - x.nameOffset;
  if (x.shared) throw new Error(`erofs mutate: ${path}'s fingerprint is a shared xattr; resizing it would affect every user`);
  if (align4(XATTR_ENTRY_SIZE + nameLen + value.length) !== x.entrySize) {
    throw new Error(`erofs mutate: a ${value.length}-byte value does not fit ${path}'s ${x.entrySize}-byte fingerprint entry (name ${nameLen} bytes)`);
  }
  const { out, dv } = copy(img);
  dv.setUint16(x.entryOffset + XE.valueSize, value.length, true);
  out.fill(0, x.valueOffset, x.entryOffset + x.entrySize);
  out.set(value, x.valueOffset);
  return finish(out);
}

/**
 * Give every fingerprinted regular file at or under `path` (sorted by path) a distinct fingerprint value
 * with one kernel hash (xxh32 of the key) for `domainId` under `layout`: "inversion" (multiCollisionFor, any
 * count) or "birthday" (findCollidingPair, exactly two files). Values stay 39 bytes, written in place.
 * Returns the paths and values written (for manifests).
 */
export function collideFingerprints(
  img: Uint8Array,
  path: string,
  opts: { domainId: string; layout?: KeyLayout; seed?: number; method?: "inversion" | "birthday" },
): { bytes: Uint8Array; written: { path: string; value: Uint8Array }[]; hash: number } {
  const image = ErofsImage.open(img);
  const under = path === "/" ? "/" : `${path}/`;
  const targets = [...image.walk()]
    .filter((e) => e.inode.type === "file" && (e.path === path || e.path.startsWith(under)))
    .map((e) => ({ path: e.path, x: image.fingerprintXattr(e.nid) }))
    .filter((t): t is { path: string; x: Xattr } => t.x !== undefined && t.x.value.length === 39);
  // hardlinks: one inode, several names -> write it once
  const byOffset = new Map<number, { path: string; x: Xattr }>();
  for (const t of targets) if (!byOffset.has(t.x.valueOffset)) byOffset.set(t.x.valueOffset, t);
  const uniq = [...byOffset.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  if (uniq.length < 2) throw new Error(`erofs mutate: collideFingerprints needs two or more fingerprinted files at or under ${path}, found ${uniq.length}`);
  const layout = opts.layout ?? "domain-nul-value";
  let values: Uint8Array[];
  if (opts.method === "birthday") {
    if (uniq.length !== 2) throw new Error(`erofs mutate: the birthday method makes one pair; ${path} holds ${uniq.length} fingerprinted files`);
    const p = findCollidingPair({ domainId: opts.domainId, layout, seed: opts.seed });
    values = [p.a, p.b];
  } else {
    values = multiCollisionFor(uniq.length, { domainId: opts.domainId, layout, seed: opts.seed }).values;
  }
  const { out } = copy(img);
  const written = uniq.map((t, i) => {
    out.set(values[i], t.x.valueOffset);
    return { path: t.path, value: values[i] };
  });
  return { bytes: finish(out), written, hash: ishareHash(values[0], opts.domainId, layout) };
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

/**
 * Set COMPAT.ISHARE_XATTRS (0x20) and ishare_xattr_prefix_id := `id` (default: the prefix count, the first
 * invalid id) on any image, e.g. one without long xattr prefixes (xattr_prefix_count 0: every id is invalid).
 * Correct kernel: mount fails with "invalid ishare xattr prefix id" when id >= the prefix count.
 */
export function setIshareCompat(img: Uint8Array, id?: number): Uint8Array {
  id ??= ErofsImage.open(img).superblock.xattrPrefixCount;
  if (id < 0 || id > 0xff) throw new RangeError(`prefix id ${id} is not a u8`);
  const { out, dv } = copy(img);
  const o = SB_OFFSET + SB.featureCompat;
  dv.setUint32(o, (dv.getUint32(o, true) | COMPAT.ISHARE_XATTRS) >>> 0, true);
  out[SB_OFFSET + SB.ishareXattrPrefixId] = id;
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
  /** collideFingerprints: the domain_id the collision is for, the key layout, PRNG seed and search method. */
  domainId?: string;
  keyLayout?: KeyLayout;
  seed?: number;
  method?: "inversion" | "birthday";
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
    // 7.0 printed "size(A:B) not matches for the same fingerprint"; 7.2 prints "i_size mismatch (A != B) for the same fingerprint"
    expect: { mount: "ok", sharing: "none", kernelMessage: "for the same fingerprint" },
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
  setIshareCompat: {
    describe: "set the ishare_xattrs compat bit (0x20) and ishare_xattr_prefix_id (default: the prefix count), e.g. on an image without prefixes",
    needs: [],
    expect: { mount: "fails", sharing: "n/a", kernelMessage: "invalid ishare xattr prefix id" },
    apply: (img, a) => setIshareCompat(img, a.id),
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
  setFingerprintBytes: {
    describe: "write a fingerprint value of another length that still fits the entry's aligned slot (37..40 bytes for mkfs's 39)",
    needs: ["path", "value"],
    expect: { mount: "ok", sharing: "none" },
    apply: (img, a) => setFingerprintBytes(img, req(a, "path", "setFingerprintBytes"), req(a, "value", "setFingerprintBytes")),
  },
  collideFingerprints: {
    describe: "give every fingerprinted file under path a distinct value with one xxh32 key hash for domainId",
    needs: ["path", "domainId"],
    expect: { mount: "ok", sharing: "none" },
    apply: (img, a) =>
      collideFingerprints(img, req(a, "path", "collideFingerprints"), { domainId: req(a, "domainId", "collideFingerprints"), layout: a.keyLayout, seed: a.seed, method: a.method }).bytes,
  },
};
