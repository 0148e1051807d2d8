// Owns: tests of erofs-utils provisioning (harness/images/erofs-utils.ts): from scratch into a fresh cache
// (downloads ~10 MB from Debian sid), version comparison, and $PCSHARE_EROFS_UTILS_DIR validation.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { atLeast, erofsTools, mkfsVersion } from "../../harness/images/erofs-utils.ts";

const made: string[] = [];
afterAll(async () => {
  for (const d of made) await rm(d, { recursive: true, force: true });
});

describe("erofs-utils", () => {
  it("compares versions numerically", () => {
    expect(atLeast("1.9.4", "1.9")).toBe(true);
    expect(atLeast("1.10", "1.9")).toBe(true);
    expect(atLeast("1.8.10", "1.9")).toBe(false);
    expect(atLeast("1.5", "1.9")).toBe(false);
  });

  it("rejects a PCSHARE_EROFS_UTILS_DIR without the tools", async () => {
    const saved = process.env.PCSHARE_EROFS_UTILS_DIR;
    process.env.PCSHARE_EROFS_UTILS_DIR = tmpdir();
    try {
      await expect(erofsTools()).rejects.toThrow(/PCSHARE_EROFS_UTILS_DIR=.*mkfs\.erofs not found there/);
    } finally {
      if (saved === undefined) delete process.env.PCSHARE_EROFS_UTILS_DIR;
      else process.env.PCSHARE_EROFS_UTILS_DIR = saved;
    }
  });

  it(
    "provisions working tools >= 1.9 into a fresh cache",
    async () => {
      const saved = { cache: process.env.PCSHARE_CACHE, dir: process.env.PCSHARE_EROFS_UTILS_DIR };
      const cache = await mkdtemp(path.join(tmpdir(), "pcshare-tools-test-"));
      made.push(cache);
      process.env.PCSHARE_CACHE = cache;
      delete process.env.PCSHARE_EROFS_UTILS_DIR;
      try {
        const t = await erofsTools();
        expect(atLeast(t.version, "1.9")).toBe(true);
        expect(await erofsTools()).toBe(t); // memoized
        if (t.source !== "system") {
          expect(t.source).toMatch(/^debian-sid:/);
          expect(t.mkfs[0].startsWith(cache)).toBe(true);
        }
        expect(await mkfsVersion(t.mkfs)).toBe(t.version);
        const r = await execa(t.mkfs[0], [...t.mkfs.slice(1), "--version"]);
        expect(r.stdout).toMatch(/available compressors:.*lz4.*zstd/);
        for (const tool of [t.dump, t.fsck]) {
          const v = await execa(tool[0], [...tool.slice(1), "--version"]);
          expect(v.stdout).toContain(t.version);
        }
      } finally {
        if (saved.cache === undefined) delete process.env.PCSHARE_CACHE;
        else process.env.PCSHARE_CACHE = saved.cache;
        if (saved.dir !== undefined) process.env.PCSHARE_EROFS_UTILS_DIR = saved.dir;
      }
    },
    600_000,
  );
});
