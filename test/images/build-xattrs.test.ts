// Owns: tests of building images with extended attributes (harness/images/build.ts, generate.ts,
// manifest.ts, verify.ts, inspect.ts): values at their limits (and an inline area exactly full) read back byte for byte by the EROFS reader
// and inspect, in directory and tar mode, long prefixes used for names, a file's own fingerprint-named
// xattr seen first, the check failing on a difference, the cache key following the values, and a clear
// message when the temporary tree's file system refuses a value.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setAttribute } from "@napi-rs/xattr";
import { buildImages } from "../../harness/images/build.ts";
import { erofsTools } from "../../harness/images/erofs-utils.ts";
import { inspectImage, formatInspection } from "../../harness/images/inspect.ts";
import { verifyImage } from "../../harness/images/verify.ts";
import { ErofsImage } from "../../harness/images/erofs/reader.ts";
import { inFreshCache } from "./fresh-cache.ts";

const MAX = Buffer.alloc(65535);
for (let i = 0; i < MAX.length; i++) MAX[i] = (i * 7 + 3) & 0xff;
const NAME255 = `user.${"n".repeat(250)}`;
const spec = (comment: string) => `images:
  x-dir:
    mkfs: { compress: none, xattrPrefixes: [user.pcshare.long.prefix.] }
    files:
      - path: /a.bin
        gen: random
        size: 64KiB
        seed: 1
        xattrs:
          - { name: user.comment, value: "${comment}" }
          - { name: user.empty, value: "" }
          - { name: trusted.bin, hex: "00ff00" }
          - { name: security.b64, base64: "AAECAw==" }
          - { name: user.pcshare.long.prefix.x, value: "long" }
      - { path: /d, gen: dir, xattrs: [{ name: user.dir, value: "d" }] }
      - path: /max.bin
        gen: random
        size: 8KiB
        seed: 2
        xattrs:
          - { name: ${NAME255}, base64: "${MAX.toString("base64")}" }
          - { name: trusted.b, base64: "${MAX.toString("base64")}" }
          - { name: security.c, base64: "${MAX.toString("base64")}" }
      - path: /full.bin
        gen: random
        size: 4KiB
        seed: 4
        xattrs:
          - { name: user.a, random: 65535, seed: 1 }
          - { name: user.b, random: 65535, seed: 2 }
          - { name: user.c, random: 65535, seed: 3 }
          - { name: user.d, random: 65467, seed: 4 }
  x-tar:
    mkfs: { compress: lz4hc, tar: true, fingerprint: trusted.erofs.fp }
    files:
      - path: /a.bin
        gen: text
        size: 20KiB
        seed: 3
        xattrs:
          - { name: user.comment, value: "tar" }
          - { name: trusted.bin, hex: "00ff00" }
          - { name: trusted.erofs.fp, value: "chosen" }
      - { path: /b.bin, gen: text, size: 20KiB, seed: 3 }
`;

let work: string;
const hex = (s: string) => Buffer.from(s).toString("hex");

async function specFile(name: string, text: string): Promise<string> {
  const f = path.join(work, name);
  await writeFile(f, text);
  return f;
}

beforeAll(async () => {
  await erofsTools();
  work = await mkdtemp(path.join(tmpdir(), "pcshare-build-xattrs-test-"));
}, 600_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("building images with xattrs", () => {
  it("reads every xattr back from the image byte for byte, at the limits, in directory and tar mode", async () => {
    const file = await specFile("x.yaml", spec("hello"));
    const built = await inFreshCache(work, () => buildImages([file]));
    const dir = built.get("x-dir")!;
    expect(dir.manifest.verified).toBe(true);
    expect(dir.manifest.mkfs.argv).toContain("--xattr-prefix=user.pcshare.long.prefix.");
    const img = ErofsImage.open(new Uint8Array(await readFile(dir.imagePath)));
    expect(img.superblock.xattrPrefixes.map((p) => p.name)).toEqual(["user.pcshare.long.prefix.", "erofs.fingerprint.v1"]);
    const a = img.xattrs(img.resolve("/a.bin"));
    const named = (n: string) => a.find((x) => x.name === n);
    expect(Buffer.from(named("user.comment")!.value).toString()).toBe("hello");
    expect(named("user.empty")!.value).toHaveLength(0);
    expect(Buffer.from(named("trusted.bin")!.value).toString("hex")).toBe("00ff00");
    expect(Buffer.from(named("security.b64")!.value).toString("hex")).toBe("00010203");
    expect(named("user.pcshare.long.prefix.x")!.longPrefix).toBe(0);
    const max = img.xattrs(img.resolve("/max.bin"));
    for (const n of [NAME255, "trusted.b", "security.c"]) expect(Buffer.compare(Buffer.from(max.find((x) => x.name === n)!.value), MAX), n).toBe(0);
    // the inline area exactly full: 262148 bytes, i_xattr_icount 65535 (one byte more wraps it to 0 in mkfs.erofs 1.9.4)
    const full = img.inode(img.resolve("/full.bin"));
    expect([full.xattrIcount, full.xattrSize]).toEqual([65535, 262148]);
    expect(img.xattrs(full.nid).map((x) => x.value.length)).toEqual([39, 65535, 65535, 65535, 65467]);
    expect(img.xattrs(img.resolve("/d")).map((x) => [x.name, Buffer.from(x.value).toString()])).toEqual([["user.dir", "d"]]);
    // the manifest records them as the tree had them (sorted, without the digest)
    expect(dir.manifest.files.find((f) => f.path === "/a.bin")!.xattrs!.map((x) => x.name)).toEqual(["security.b64", "trusted.bin", "user.comment", "user.empty", "user.pcshare.long.prefix.x"]);
    // inspect shows them all, the fingerprint digest too
    const ins = await inspectImage(dir.imagePath);
    expect(ins.xattrPrefixes).toEqual(["user.pcshare.long.prefix.", "erofs.fingerprint.v1"]);
    expect(ins.files.find((f) => f.path === "/a.bin")!.xattrs).toHaveLength(6);
    expect(formatInspection(ins)).toMatch(/xattr user\.comment = "hello"\n/);

    // tar mode: PAX records carry them; a file's own trusted.erofs.fp comes before mkfs's digest, so the
    // kernel-visible fingerprint is the chosen value, and the file without one keeps its digest
    const tar = built.get("x-tar")!;
    const t = ErofsImage.open(new Uint8Array(await readFile(tar.imagePath)));
    const ta = t.resolve("/a.bin");
    expect(t.xattrs(ta).map((x) => x.name)).toEqual(expect.arrayContaining(["user.comment", "trusted.bin", "trusted.erofs.fp"]));
    expect(Buffer.from(t.fingerprint(ta)!).toString()).toBe("chosen");
    const files = new Map(tar.manifest.files.map((f) => [f.path, f]));
    expect(files.get("/a.bin")!.fingerprint).toBe(`raw:${hex("chosen")}`);
    expect(files.get("/b.bin")!.fingerprint).toBe(`sha256:${files.get("/b.bin")!.sha256}`);
  }, 120_000);

  it("fails the build check when an image xattr differs from the tree's, and keys the cache by the values", async () => {
    const tools = await erofsTools();
    await inFreshCache(work, async () => {
      const one = (await buildImages([await specFile("k1.yaml", spec("one"))], { names: ["x-dir"] })).get("x-dir")!;
      const two = (await buildImages([await specFile("k2.yaml", spec("two"))], { names: ["x-dir"] })).get("x-dir")!;
      expect(two.manifest.key).not.toBe(one.manifest.key);
      expect(two.imagePath).not.toBe(one.imagePath);
      const m = structuredClone(one.manifest);
      m.files.find((f) => f.path === "/a.bin")!.xattrs!.find((x) => x.name === "user.comment")!.hex = hex("two");
      await expect(verifyImage(m, one.imagePath, tools)).rejects.toThrow(`/a.bin: xattr user.comment is ${hex("one")} in the image, ${hex("two")} in the tree`);
      const gone = structuredClone(one.manifest);
      gone.files.find((f) => f.path === "/d")!.xattrs = undefined;
      await expect(verifyImage(gone, one.imagePath, tools)).rejects.toThrow("/d: xattr user.dir in the image but not in the tree");
    });
  }, 120_000);

  it("names the xattr and what to do when the temporary tree's file system refuses it", async (ctx) => {
    const f = await specFile("big.yaml", `images:\n  x-big:\n    files:\n      - path: /f\n        gen: empty\n        xattrs:\n          - { name: user.big, base64: "${MAX.toString("base64")}" }\n`);
    const tmp = await mkdtemp(path.join(work, "tmp-")); // ext4 or the like: about one block of xattrs
    // Only where the host's temp file system refuses a 65535-byte value (ext4 without ea_inode does; tmpfs does not).
    const probe = path.join(tmp, "probe");
    await writeFile(probe, "");
    const refuses = await setAttribute(probe, "user.big", MAX).then(() => false, () => true);
    await rm(probe);
    if (!refuses) ctx.skip();
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      await inFreshCache(work, async () => {
        await expect(buildImages([f])).rejects.toThrow(/big\.yaml:2: images\.x-big: files: cannot set xattr user\.big \(65535 bytes\) on \/f: .*set TMPDIR to a tmpfs directory such as \/dev\/shm/);
        expect(await readdir(path.join(process.env.PCSHARE_CACHE!, "images"))).toEqual([]);
      });
      expect(await readdir(tmp)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  }, 120_000);
});
