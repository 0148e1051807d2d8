// Unit tests for config fragments: what they request, which requests did not survive, and the
// Kconfig dependencies named for those (on a small fake Kconfig tree), plus the shipped fragments.
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkOptions, explainMismatches, fragmentsHash, loadFragments, requestedOptions } from "../../harness/kernel/fragments.ts";
import { buildErrors, fragmentList } from "../../harness/kernel/build.ts";
import { tempDir } from "./temp-dirs.ts";



describe("config fragments", () => {
  it("reads requests, later fragments winning", async () => {
    const frags = await loadFragments(["base", "share-on"]);
    const req = requestedOptions(frags);
    expect(req.get("CONFIG_EROFS_FS")).toBe("y");
    expect(req.get("CONFIG_EROFS_FS_PAGE_CACHE_SHARE")).toBe("y");
    expect(req.get("CONFIG_SLUB_TINY")).toBe("n");
    expect(req.get("CONFIG_LOCALVERSION")).toBe("-pcshare");
    const off = requestedOptions(await loadFragments(["base", "share-on", "share-off"]));
    expect(off.get("CONFIG_EROFS_FS_PAGE_CACHE_SHARE")).toBe("n");
    expect(fragmentsHash(frags)).not.toBe(fragmentsHash(await loadFragments(["base", "share-off"])));
  });

  it("orders the fragment list: base first, debug last", () => {
    expect(fragmentList({})).toEqual(["base", "share-on"]);
    expect(fragmentList({ debug: true })).toEqual(["base", "share-on", "debug"]);
    expect(fragmentList({ fragments: ["share-off"] })).toEqual(["base", "share-off"]);
  });

  it("names an unknown fragment with the known ones", async () => {
    await expect(loadFragments(["nope"])).rejects.toThrow(/config fragment "nope".*known fragments: .*base/);
  });

  it("lists requests that did not survive with their dependencies", async () => {
    const src = await tempDir(path.join(tmpdir(), "pcshare-kconfig-"));
    await mkdir(path.join(src, "fs/erofs"), { recursive: true });
    await writeFile(
      path.join(src, "fs/erofs/Kconfig"),
      "config EROFS_FS\n\ttristate \"EROFS\"\n\tdepends on BLOCK || BACKED\n\nconfig EROFS_FS_ZIP\n\tbool \"zip\"\n\tdepends on EROFS_FS\n",
    );
    await writeFile(path.join(src, "Kconfig"), "if BLOCK\nconfig BLK_DEV_LOOP\n\ttristate \"loop\"\nendif\n");
    const req = new Map([
      ["CONFIG_EROFS_FS", "y"],
      ["CONFIG_EROFS_FS_ZIP", "y"],
      ["CONFIG_BLK_DEV_LOOP", "y"],
      ["CONFIG_SLUB_TINY", "n"],
    ]);
    const bad = checkOptions(req, { CONFIG_EROFS_FS: "n", CONFIG_BLK_DEV_LOOP: "m" });
    expect(bad.map((b) => b.option)).toEqual(["CONFIG_EROFS_FS", "CONFIG_EROFS_FS_ZIP", "CONFIG_BLK_DEV_LOOP"]);
    expect((await explainMismatches(src, bad)).split("\n")).toEqual([
      "CONFIG_EROFS_FS: requested y, got n (depends on BLOCK || BACKED)",
      "CONFIG_EROFS_FS_ZIP: requested y, got n (absent) (depends on EROFS_FS)",
      "CONFIG_BLK_DEV_LOOP: requested y, got m (depends on BLOCK)",
    ]);
  });
});

describe("build logs", () => {
  it("picks the compiler's error lines with file:line", () => {
    const log = [
      "  CC      fs/erofs/super.o",
      "../fs/erofs/super.c: In function 'erofs_fc_fill_super':",
      "../fs/erofs/super.c:689:9: error: 'x' undeclared (first use in this function)",
      "make[4]: *** [../scripts/Makefile.build:287: fs/erofs/super.o] Error 1",
    ].join("\n");
    expect(buildErrors(log)).toBe("  ../fs/erofs/super.c:689:9: error: 'x' undeclared (first use in this function)");
  });
});
