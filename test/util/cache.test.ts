// Tests of the cache's entry records (harness/util/cache.ts): an entry that was truncated, changed in
// place or lost a file is noticed before use, removed with a message, and rebuilt.
import { appendFile, mkdtemp, readFile, rm, truncate, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { cachedDir, cachePath, lookupEntry, RECORD_FILE } from "../../harness/util/cache.ts";

let root: string;
const saved = process.env.PCSHARE_CACHE;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pcshare-cache-test-"));
  process.env.PCSHARE_CACHE = root;
});
afterAll(async () => {
  if (saved === undefined) delete process.env.PCSHARE_CACHE;
  else process.env.PCSHARE_CACHE = saved;
  await rm(root, { recursive: true, force: true });
});

/** An entry with a 64 KiB file and a nested one; returns how often it was built. */
function entry(key: string) {
  let builds = 0;
  const get = () =>
    cachedDir("things", key, async (tmp) => {
      builds++;
      await writeFile(path.join(tmp, "data.bin"), Buffer.alloc(65536, builds));
      await writeFile(path.join(tmp, "meta.json"), JSON.stringify({ builds }));
    });
  return { get, builds: () => builds };
}

describe("cache entries", () => {
  it("are reused while intact", async () => {
    const e = entry("intact");
    const dir = await e.get();
    expect(await e.get()).toBe(dir);
    expect(e.builds()).toBe(1);
    expect(JSON.parse(await readFile(path.join(dir, RECORD_FILE), "utf8")).files.map((f: { path: string }) => f.path)).toEqual(["data.bin", "meta.json"]);
  });

  for (const [what, damage, reason] of [
    ["truncated", (f: string) => truncate(f, 1000), /data\.bin is 1000 bytes, recorded 65536/],
    ["grown", (f: string) => appendFile(f, "x"), /data\.bin is 65537 bytes, recorded 65536/],
    ["changed in place", (f: string) => writeFile(f, Buffer.alloc(65536, 9)), /data\.bin changed since it was cached/],
    ["missing a file", (f: string) => unlink(f), /data\.bin is missing/],
  ] as const) {
    it(`are rebuilt with a message when ${what}`, async () => {
      const e = entry(what.replace(/ /g, "-"));
      const dir = await e.get();
      await damage(path.join(dir, "data.bin"));
      const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
      try {
        expect(await e.get()).toBe(dir);
        expect(String(err.mock.calls.map((c) => c[0]).join(""))).toMatch(reason);
        expect(String(err.mock.calls.map((c) => c[0]).join(""))).toMatch(/cache entry things\/.* is damaged .*; rebuilding it/);
      } finally {
        err.mockRestore();
      }
      expect(e.builds()).toBe(2);
      expect((await readFile(path.join(dir, "data.bin"))).equals(Buffer.alloc(65536, 2))).toBe(true);
    });
  }

  it("lookupEntry reports a damaged entry as absent and removes it", async () => {
    const e = entry("lookup");
    const dir = await e.get();
    await truncate(path.join(dir, "data.bin"), 0);
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await lookupEntry("things", "lookup")).toBeUndefined();
    } finally {
      err.mockRestore();
    }
    await expect(readFile(path.join(cachePath("things", "lookup"), "meta.json"))).rejects.toThrow(/ENOENT/);
  });
});
