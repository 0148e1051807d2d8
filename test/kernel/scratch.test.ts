// The scratch copy a build patches: the pristine tree (Debian's cache or a user's tree) is never
// written, files a previous series touched come back with a fresh mtime (so make rebuilds them),
// files it created go away, and a user's in-tree build output is not copied.
import { mkdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { syncScratch } from "../../harness/kernel/build.ts";
import { applySeries, loadSeries } from "../../harness/kernel/series.ts";
import { userTree, type SourceTree } from "../../harness/kernel/source.ts";
import { tempDir } from "./temp-dirs.ts";



const patch = `--- a/fs/x.c
+++ b/fs/x.c
@@ -1,2 +1,3 @@
 int a;
+int patched;
 int b;
--- /dev/null
+++ b/fs/new.c
@@ -0,0 +1 @@
+int created;
`;

async function fakeTree(): Promise<string> {
  const d = await tempDir(path.join(tmpdir(), "pcshare-tree-"));
  await mkdir(path.join(d, "fs"), { recursive: true });
  await mkdir(path.join(d, "scripts/kconfig"), { recursive: true });
  await writeFile(path.join(d, "Makefile"), "VERSION = 7\nPATCHLEVEL = 2\nSUBLEVEL = 13\nEXTRAVERSION =\n");
  await writeFile(path.join(d, "Kconfig"), "");
  await writeFile(path.join(d, "scripts/kconfig/merge_config.sh"), "");
  await writeFile(path.join(d, "fs/x.c"), "int a;\nint b;\n");
  const old = new Date(Date.now() - 3600_000);
  await utimes(path.join(d, "fs/x.c"), old, old);
  return d;
}

for (const kind of ["debian", "tree"] as const) {
  it(`patches a scratch copy of a ${kind} source and restores it (${kind === "debian" ? "hard links" : "rsync"})`, async () => {
    const pristine = await fakeTree();
    const source: SourceTree =
      kind === "tree" ? await userTree(pristine) : { dir: pristine, kind, key: "k", label: "debian-source:test", base: "test", git: false };
    const ws = await tempDir(path.join(tmpdir(), "pcshare-ws-"));
    if (kind === "tree") {
      await writeFile(path.join(pristine, ".config"), "CONFIG_X=y\n");
      await writeFile(path.join(pristine, "fs/x.o"), "obj");
    }
    await syncScratch(ws, source, { touched: [] });
    const src = path.join(ws, "src");
    expect(existsSync(path.join(src, ".config"))).toBe(false);
    expect(existsSync(path.join(src, "fs/x.o"))).toBe(false);

    const dir = await tempDir(path.join(tmpdir(), "pcshare-p-"));
    await writeFile(path.join(dir, "p.patch"), patch);
    const series = await loadSeries(path.join(dir, "p.patch"));
    await applySeries(series, src);
    expect(await readFile(path.join(src, "fs/x.c"), "utf8")).toContain("patched");
    expect(await readFile(path.join(pristine, "fs/x.c"), "utf8")).toBe("int a;\nint b;\n");

    const before = Date.now() - 1000;
    await syncScratch(ws, source, { touched: series.patches[0].files });
    expect(await readFile(path.join(src, "fs/x.c"), "utf8")).toBe("int a;\nint b;\n");
    expect(existsSync(path.join(src, "fs/new.c"))).toBe(false);
    expect((await stat(path.join(src, "fs/x.c"))).mtimeMs).toBeGreaterThan(before);
    expect((await stat(path.join(pristine, "fs/x.c"))).mtimeMs).toBeLessThan(before);
  });
}

describe("user trees", () => {
  it("refuses a directory that is not a kernel tree", async () => {
    const d = await tempDir(path.join(tmpdir(), "pcshare-nottree-"));
    await expect(userTree(d)).rejects.toThrow(/not a Linux source tree \(no Makefile/);
    await expect(userTree(path.join(d, "missing"))).rejects.toThrow(/no such directory/);
  });

  it("describes a plain directory by its Makefile version", async () => {
    const t = await userTree(await fakeTree());
    expect(t.base).toBe("7.2.13 (plain directory)");
    expect(t.git).toBe(false);
    expect(t.label).toMatch(/^tree:\//);
  });

  it("takes a git range from a git tree as a series", async () => {
    const d = await fakeTree();
    const git = (...a: string[]) => execa("git", ["-C", d, "-c", "user.name=t", "-c", "user.email=t@t", ...a]);
    await git("init", "-q");
    await git("add", "-A");
    await git("commit", "-qm", "base");
    await writeFile(path.join(d, "fs/x.c"), "int a;\nint patched;\nint b;\n");
    await git("commit", "-qam", "fs: patch x");
    await git("tag", "v7.2.13");
    const t = await userTree(d);
    expect(t.git).toBe(true);
    expect(t.base).toBe("v7.2.13");
    const s = await loadSeries("HEAD~1..HEAD", t);
    expect(s.patches.map((p) => p.subject)).toEqual(["fs: patch x"]);
    expect(s.patches[0].files).toEqual(["fs/x.c"]);
    await expect(loadSeries("a..b", { dir: d, git: false })).rejects.toThrow(/needs --tree pointing at a git checkout/);
  });
});
