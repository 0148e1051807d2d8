// A measure SOURCE given as a directory or as a tarball in each compression tar reads (none, gzip,
// xz, zstd) becomes an image of the same files, names and bytes: the same manifest paths and sha256s,
// whatever the awkward names (a newline, non-ASCII, spaces). Builds real EROFS images (mkfs.erofs),
// in a fresh cache; no guest.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { parseSources } from "../../../harness/measure/sources/parse.ts";
import { sourceImage } from "../../../harness/measure/sources/image.ts";
import { erofsTools } from "../../../harness/images/erofs-utils.ts";
import { inFreshCache } from "../../images/fresh-cache.ts";

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "pcshare-source-image-test-"));
  await erofsTools(); // from the usual cache, memoized: the fresh cache below holds only this test's entries
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("sourceImage", () => {
  it("gives a directory and its .tar, .tar.gz, .tar.xz and .tar.zst the same files", async () => {
    const tree = path.join(work, "tree");
    await mkdir(path.join(tree, "sub dir/é"), { recursive: true });
    await writeFile(path.join(tree, "line\nbreak"), "a\n".repeat(3000));
    await writeFile(path.join(tree, "sub dir/é/日本"), "b");
    await writeFile(path.join(tree, "sub dir/same"), "a\n".repeat(3000));
    const archives = [["tar", "-cf"], ["tar.gz", "-czf"], ["tar.xz", "-cJf"], ["tar.zst", "--zstd", "-cf"]].map(([ext, ...flags]) => ({ file: path.join(work, `t.${ext}`), flags }));
    for (const a of archives) await execa("tar", [...a.flags, a.file, "-C", tree, "."]);
    const sources = parseSources([tree, ...archives.map((a) => a.file)]);
    const files = await inFreshCache(work, async () => {
      const out = [];
      for (const [i, s] of sources.entries()) {
        const img = await sourceImage(s, i);
        out.push(img.manifest.files.filter((f) => f.type === "file").map((f) => [f.path, f.sha256, f.fingerprint]));
      }
      return out;
    });
    expect(files[0].map((f) => f[0])).toEqual(["/line\nbreak", "/sub dir/same", "/sub dir/é/日本"]);
    for (const f of files.slice(1)) expect(f).toEqual(files[0]);
  }, 300_000);
});
