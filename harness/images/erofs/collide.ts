// Owns: crafting ishare fingerprint values whose kernel hash collides, and a model of how the kernel hashes them.
//
// Kernel scheme (fs/erofs/ishare.c + fs/erofs/xattr.c, Linux 7.0):
//   erofs_xattr_fill_inode_fingerprint(): valuelen = erofs_getxattr(inode, base_index, infix, NULL, 0);
//     rejects valuelen <= 0 || valuelen > block size (-EFSCORRUPTED: the inode is simply not shared);
//     fp->size = valuelen + strlen(domain_id); fp->opaque = value || domain_id   (no separator, no NUL)
//   erofs_ishare_fill_inode(): hash = xxh32(fp.opaque, fp.size, 0);
//     iget5_locked(erofs_ishare_mnt->mnt_sb, hash, erofs_ishare_iget5_eq, ...)
//   erofs_ishare_iget5_eq(): fp1->size == fp2->size && !memcmp(fp1->opaque, fp2->opaque, fp2->size)
//   fs/inode.c hash(sb, hashval): tmp = (hashval * (ulong)sb) ^ (GOLDEN_RATIO_PRIME + hashval) / L1_CACHE_BYTES;
//     tmp ^= (tmp ^ GOLDEN_RATIO_PRIME) >> i_hash_shift; bucket = tmp & i_hash_mask
// So the 32-bit xxh32 value is the inode-hash key; the bucket also depends on the (unknowable) address of the
// pseudo-fs superblock and on the boot-time table size, so "same bucket" can only be guaranteed through a
// full 32-bit collision. Full collisions are what this module produces:
//   - findCollidingPair: a birthday search (~2^16 tries) for one domain_id;
//   - multiCollision: N values with the same xxh32 for EVERY domain_id, built by inverting the xxh32 lane
//     round (bijective in its input word): the digest bytes that fill stripe 1 (key bytes 16..31) are solved
//     so that all four lane states after stripe 1 equal a fixed target, whatever the free digest bytes
//     0..8 in stripe 0 are; everything after byte 31 (digest bytes 25..31, then domain_id) is common.
// A correct kernel keeps such files apart (the eq callback compares the whole key); many equal hashes only
// lengthen one hash chain.
import { FINGERPRINT_PREFIX } from "./format.ts";
import { xxh32, xxh32InitLanes, xxh32Round, xxh32RoundInverse } from "./xxh32.ts";

const enc = new TextEncoder();

/** "sha256:" + digest (32 bytes) as the 39-byte value mkfs.erofs writes. */
export function fingerprintValue(digest: Uint8Array): Uint8Array {
  if (digest.length !== 32) throw new RangeError(`digest must be 32 bytes, got ${digest.length}`);
  const out = new Uint8Array(39);
  out.set(enc.encode(FINGERPRINT_PREFIX));
  out.set(digest, 7);
  return out;
}

/**
 * How the kernel lays out the hash/compare key:
 *  - "value-domain": xattr value || domain_id, no separator (the layout described in the header);
 *  - "domain-nul-value": domain_id || NUL || xattr value (fs/erofs/xattr.c erofs_xattr_fill_inode_fingerprint
 *    in Debian's 7.2.13 source: memcpy(fp->opaque, domain_id, domainlen + 1), then the value).
 */
export type KeyLayout = "value-domain" | "domain-nul-value";
export const KEY_LAYOUTS: readonly KeyLayout[] = ["value-domain", "domain-nul-value"];

/** The kernel's hash key for `layout` (default "value-domain": value bytes followed by the domain_id bytes). */
export function ishareKey(value: Uint8Array, domainId?: string, layout: KeyLayout = "value-domain"): Uint8Array {
  const d = domainId ? enc.encode(domainId) : new Uint8Array(0);
  if (layout === "domain-nul-value") {
    const key = new Uint8Array(d.length + 1 + value.length);
    key.set(d);
    key.set(value, d.length + 1);
    return key;
  }
  const key = new Uint8Array(value.length + d.length);
  key.set(value);
  key.set(d, value.length);
  return key;
}

/** The hashval the kernel passes to iget5_locked for this fingerprint value. */
export function ishareHash(value: Uint8Array, domainId?: string, layout: KeyLayout = "value-domain"): number {
  return xxh32(ishareKey(value, domainId, layout), 0);
}

/**
 * fs/inode.c hash() on a 64-bit kernel (GOLDEN_RATIO_PRIME = GOLDEN_RATIO_64, L1_CACHE_BYTES = 64 on x86-64).
 * `sbAddr` is the address of erofs_ishare_mnt's super_block and `hashShift` is i_hash_shift (log2 of the
 * "Inode-cache hash table entries" boot message); both are only known from inside the running kernel.
 */
export function inodeHashBucket(hashval: number, sbAddr: bigint, hashShift: number, l1CacheBytes = 64n): number {
  const M = (1n << 64n) - 1n;
  const GR = 0x61c8864680b583ebn;
  const hv = BigInt(hashval >>> 0);
  let tmp = ((hv * sbAddr) & M) ^ (((GR + hv) & M) / l1CacheBytes);
  tmp = tmp ^ ((tmp ^ GR) >> BigInt(hashShift));
  return Number(tmp & ((1n << BigInt(hashShift)) - 1n));
}

/** Small deterministic PRNG (splitmix32). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function fillRandom(buf: Uint8Array, next: () => number, from = 0, to = buf.length): void {
  for (let i = from; i < to; i += 4) {
    const r = next();
    for (let k = 0; k < 4 && i + k < to; k++) buf[i + k] = (r >>> (8 * k)) & 0xff;
  }
}

export interface CollidingPair {
  a: Uint8Array;
  b: Uint8Array;
  hash: number;
  tries: number;
}

/**
 * Birthday search: random "sha256:"+32-byte values until two distinct ones have the same
 * xxh32(value || domainId). Deterministic for a given seed; ~80k tries expected.
 */
export function findCollidingPair(opts: { domainId?: string; seed?: number; maxTries?: number; layout?: KeyLayout } = {}): CollidingPair {
  const next = prng(opts.seed ?? 1);
  const maxTries = opts.maxTries ?? 4_000_000;
  const seen = new Map<number, Uint8Array>();
  const digest = new Uint8Array(32);
  for (let tries = 1; tries <= maxTries; tries++) {
    fillRandom(digest, next);
    const v = fingerprintValue(digest);
    const h = ishareHash(v, opts.domainId, opts.layout);
    const prev = seen.get(h);
    if (prev && !equalBytes(prev, v)) return { a: prev, b: v, hash: h, tries };
    seen.set(h, v);
  }
  throw new Error(`no xxh32 collision within ${maxTries} tries`);
}

export interface MultiCollision {
  values: Uint8Array[];
  /** The common hash for a given domain_id (it is common for every domain_id). */
  hash(domainId?: string): number;
}

/**
 * `n` distinct fingerprint values (each "sha256:" + 32 bytes) that all have the same xxh32(value || d)
 * for every domain_id d, by lane-round inversion (see the header). Instant for any n up to 2^72.
 */
export function multiCollision(n: number, opts: { seed?: number } = {}): MultiCollision {
  const next = prng(opts.seed ?? 1);
  const prefix = enc.encode(FINGERPRINT_PREFIX);
  const common = new Uint8Array(7); // digest bytes 25..31 (key bytes 32..38)
  fillRandom(common, next);
  const target = [next(), next(), next(), next()];
  const values: Uint8Array[] = [];
  const seen = new Set<string>();
  const key = new Uint8Array(39);
  key.set(prefix);
  key.set(common, 32);
  const dv = new DataView(key.buffer);
  while (values.length < n) {
    fillRandom(key, next, 7, 16); // free digest bytes 0..8 (key bytes 7..15)
    const id = Buffer.from(key.subarray(7, 16)).toString("hex");
    if (seen.has(id)) continue;
    seen.add(id);
    const lanes = xxh32InitLanes(0);
    for (let l = 0; l < 4; l++) {
      const after0 = xxh32Round(lanes[l], dv.getUint32(4 * l, true));
      dv.setUint32(16 + 4 * l, xxh32RoundInverse(after0, target[l]), true);
    }
    values.push(key.slice());
  }
  return { values, hash: (domainId?: string) => ishareHash(values[0], domainId) };
}

/**
 * `n` distinct fingerprint values with the same kernel hash for `domainId` under `layout`, by the same
 * lane-round inversion as multiCollision but for any key layout: the first 16-byte stripe that lies wholly
 * inside the digest is solved so the lane states after it equal a fixed target; every digest byte before
 * it is free, every byte after it (rest of the digest, domain_id for "value-domain") is common.
 * With "domain-nul-value" the result holds only for this domain_id (it is part of the key's prefix).
 */
export function multiCollisionFor(n: number, opts: { domainId?: string; layout?: KeyLayout; seed?: number } = {}): MultiCollision {
  const layout = opts.layout ?? "value-domain";
  if (layout === "value-domain") return multiCollision(n, { seed: opts.seed });
  const domainId = opts.domainId ?? "";
  const next = prng(opts.seed ?? 1);
  const d = enc.encode(domainId);
  const p = d.length + 1; // key offset of the value
  const digestStart = p + FINGERPRINT_PREFIX.length;
  const digestEnd = p + 39;
  // first stripe boundary at or after the digest start with at least one free byte before it
  let solved = Math.ceil(digestStart / 16) * 16;
  if (solved === digestStart) solved += 16;
  if (solved + 16 > digestEnd) {
    throw new Error(`multiCollisionFor: domain_id of ${d.length} bytes leaves no whole stripe inside the digest after a free byte; use another domain length`);
  }
  const free = solved - digestStart;
  if (free * 8 < Math.log2(Math.max(2, n)) + 8) {
    throw new Error(`multiCollisionFor: only ${free} free digest byte(s) for domain_id of ${d.length} bytes; not enough for ${n} values`);
  }
  const key = ishareKey(fingerprintValue(new Uint8Array(32)), domainId, layout);
  fillRandom(key, next, solved + 16, digestEnd); // common tail of the digest
  const target = [next(), next(), next(), next()];
  const dv = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const values: Uint8Array[] = [];
  const seen = new Set<string>();
  while (values.length < n) {
    fillRandom(key, next, digestStart, solved);
    const id = Buffer.from(key.subarray(digestStart, solved)).toString("hex");
    if (seen.has(id)) continue;
    seen.add(id);
    const lanes = xxh32InitLanes(0);
    for (let s = 0; s < solved; s += 16) for (let l = 0; l < 4; l++) lanes[l] = xxh32Round(lanes[l], dv.getUint32(s + 4 * l, true));
    for (let l = 0; l < 4; l++) dv.setUint32(solved + 4 * l, xxh32RoundInverse(lanes[l], target[l]), true);
    values.push(key.slice(p));
  }
  return { values, hash: (dom?: string) => ishareHash(values[0], dom ?? domainId, layout) };
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
