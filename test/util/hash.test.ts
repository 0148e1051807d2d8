// The host's digests: XXH64 against xxHash's published values, and fileDigests streaming a file past
// its 1 MiB chunks to the same sha256 and XXH64 as hashing the bytes at once.
import { describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileDigests, xxh64Hex } from "../../harness/util/hash.ts";

describe("xxh64Hex", () => {
  it("gives xxHash's values, as 16 hex digits with leading zeros kept", () => {
    expect(xxh64Hex("")).toBe("ef46db3751d8e999");
    expect(xxh64Hex("a")).toBe("d24ec4f1a98c6e5b");
    expect(xxh64Hex("abc")).toBe("44bc2cf5ad770999");
    expect(xxh64Hex(new TextEncoder().encode("abc"))).toBe("44bc2cf5ad770999");
    for (let i = 0; i < 64; i++) expect(xxh64Hex(String(i))).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("fileDigests", () => {
  it("streams a file to the digests of its bytes", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "pcshare-hash-"));
    try {
      const data = randomBytes(2 * 1024 * 1024 + 77);
      const f = path.join(dir, "f.bin");
      await writeFile(f, data);
      expect(await fileDigests(f)).toEqual({ sha256: createHash("sha256").update(data).digest("hex"), xxh64: xxh64Hex(data) });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
