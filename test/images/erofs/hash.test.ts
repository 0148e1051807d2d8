// Owns: known-answer tests for xxh32/crc32c and checks of collide.ts against the kernel's key construction.
import { describe, expect, it } from "vitest";
import { crc32c } from "../../../harness/images/erofs/crc32c.ts";
import { xxh32, xxh32Round, xxh32RoundInverse } from "../../../harness/images/erofs/xxh32.ts";
import {
  findCollidingPair, fingerprintValue, inodeHashBucket, ishareHash, ishareKey, multiCollision,
} from "../../../harness/images/erofs/collide.ts";

const enc = new TextEncoder();

describe("xxh32", () => {
  it("matches published vectors", () => {
    expect(xxh32(enc.encode(""), 0)).toBe(0x02cc5d05);
    expect(xxh32(enc.encode("a"), 0)).toBe(0x550d7456);
    expect(xxh32(enc.encode("abc"), 0)).toBe(0x32d153ff);
    expect(xxh32(enc.encode("Nobody inspects the spammish repetition"), 0)).toBe(0xe2293b2f);
  });
  it("round inverse is exact", () => {
    for (const [acc, target] of [[0, 0], [1, 0xffffffff], [0x12345678, 0x9abcdef0]]) {
      expect(xxh32Round(acc, xxh32RoundInverse(acc, target))).toBe(target >>> 0);
    }
  });
});

describe("crc32c", () => {
  it("check value of \"123456789\" (raw register, i.e. without the final xor)", () => {
    expect((crc32c(0xffffffff, enc.encode("123456789")) ^ 0xffffffff) >>> 0).toBe(0xe3069283);
  });
});

describe("collide", () => {
  it("key is value || domain_id with no separator", () => {
    const v = fingerprintValue(new Uint8Array(32).fill(1));
    expect(new TextDecoder("latin1").decode(v.subarray(0, 7))).toBe("sha256:");
    expect(ishareKey(v, "dom")).toEqual(new Uint8Array([...v, ...enc.encode("dom")]));
    expect(ishareHash(v)).toBe(xxh32(v, 0));
  });
  it("birthday search finds a real pair", () => {
    const p = findCollidingPair({ domainId: "secret", seed: 42 });
    expect(Buffer.from(p.a).equals(Buffer.from(p.b))).toBe(false);
    expect(p.a.length).toBe(39);
    expect(xxh32(ishareKey(p.a, "secret"), 0)).toBe(p.hash);
    expect(xxh32(ishareKey(p.b, "secret"), 0)).toBe(p.hash);
    expect(findCollidingPair({ domainId: "secret", seed: 42 }).hash).toBe(p.hash); // deterministic
  });
  it("multiCollision: 1000 distinct values, one hash, for any domain", () => {
    const m = multiCollision(1000, { seed: 5 });
    expect(new Set(m.values.map((v) => Buffer.from(v).toString("hex"))).size).toBe(1000);
    for (const d of [undefined, "x", "a-much-longer-domain-identifier-0123456789"]) {
      const h = m.hash(d);
      for (const v of m.values) expect(ishareHash(v, d)).toBe(h);
      // hence the same inode-hash bucket whatever the superblock address / table size
      expect(new Set(m.values.slice(0, 20).map((v) => inodeHashBucket(ishareHash(v, d), 0xffff888003a1c000n, 16))).size).toBe(1);
    }
    for (const v of m.values) expect(new TextDecoder("latin1").decode(v.subarray(0, 7))).toBe("sha256:");
  });
});
