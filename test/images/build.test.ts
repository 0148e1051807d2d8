// Owns: tests of image building (harness/images/build.ts, manifest.ts, verify.ts, inspect.ts):
// byte-identical rebuilds across fresh caches, manifest digests vs node:crypto over extracted files,
// cache hits, and no leftovers after a failing build.
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImages } from "../../harness/images/build.ts";
import { erofsTools } from "../../harness/images/erofs-utils.ts";
import { inspectImage, formatInspection } from "../../harness/images/inspect.ts";
import { inFreshCache } from "./fresh-cache.ts";
import { xxh64Hex } from "../../harness/util/hash.ts";

const SPEC = `images:
  t-plain:
    mkfs: { compress: none }
    files:
      - { path: /data/big.bin, gen: random, size: 3MiB, seed: 1 }
      - { path: /etc/motd, gen: text, size: 10KiB, seed: 2 }
      - { path: /empty, gen: empty }
      - { path: /tiny, gen: random, size: 100, seed: 3 }
      - { path: /holes.bin, gen: sparse, size: 2MiB, seed: 4, pattern: { period: 512KiB, data: 4KiB } }
      - { path: /hl, hardlink: /data/big.bin }
      - { path: /sl, symlink: data/big.bin }
      - { path: /copy.bin, same: { image: t-zstd, path: /z/text.txt } }
      - { path: /many, gen: many-files, count: 40, size: 3KiB, seed: 5, perDir: 16 }
      - { path: /deep, gen: deep-dirs, depth: 20, size: 10, seed: 6 }
  t-zstd:
    mkfs: { compress: zstd, blockSize: 1024 }
    files:
      - { path: /z/text.txt, gen: text, size: 300KiB, seed: 7 }
  t-tar-lz4hc:
    mkfs: { compress: lz4hc, tar: true, fingerprint: trusted.pcshare.fp }
    files:
      - { path: /a.txt, gen: text, size: 100KiB, seed: 8 }
      - { path: /b, hardlink: /a.txt }
  t-blob:
    mkfs: { chunkSize: 8192, blobdev: true }
    files:
      - { path: /c.bin, gen: random, size: 200KiB, seed: 9 }
  t-nofp:
    mkfs: { fingerprint: false, blockSize: 512 }
    files:
      - { path: /x.bin, gen: random, size: 5000, seed: 10 }
`;

let work: string;
let specFile: string;
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");


beforeAll(async () => {
  // Find or provision the tools in the usual cache first (memoized), then build in throwaway caches.
  await erofsTools();
  work = await mkdtemp(path.join(tmpdir(), "pcshare-build-test-"));
  specFile = path.join(work, "t.yaml");
  await writeFile(specFile, SPEC);
}, 600_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("buildImages", () => {
  it("is byte-identical across two fresh caches, and the second build is a fast cache hit", async () => {
    const { a, b, again, ms } = await inFreshCache(work, async () => {
      const a = await buildImages([specFile]);
      const t = Date.now();
      const again = await buildImages([specFile]);
      const ms = Date.now() - t;
      const b = await inFreshCache(work, () => buildImages([specFile]));
      return { a, b, again, ms };
    });
    expect([...a.keys()]).toEqual(["t-plain", "t-zstd", "t-tar-lz4hc", "t-blob", "t-nofp"]);
    for (const [name, img] of a) {
      const other = b.get(name)!;
      expect(other.imagePath).not.toBe(img.imagePath);
      expect((await readFile(other.imagePath)).equals(await readFile(img.imagePath)), name).toBe(true);
      expect(other.manifest).toEqual({ ...img.manifest });
      expect(again.get(name)!.imagePath).toBe(img.imagePath);
      for (let i = 0; i < img.devicePaths.length; i++) {
        expect((await readFile(other.devicePaths[i])).equals(await readFile(img.devicePaths[i]))).toBe(true);
      }
    }
    expect(ms).toBeLessThan(3000);
    const blob = a.get("t-blob")!;
    expect(blob.devicePaths).toHaveLength(1);
    expect(blob.manifest.devices[0]).toMatchObject({ file: "blob.erofs", sha256: sha(await readFile(blob.devicePaths[0])) });
    expect(a.get("t-zstd")!.manifest.mkfs.argv).toContain("-E48bit");
    expect(a.get("t-zstd")!.manifest.mkfs.autoOptions[0].option).toBe("-E48bit");
    expect(a.get("t-zstd")!.manifest.features).toContain("48bit");
  });

  it("writes manifests whose digests, fingerprints and layouts match the image", async () => {
    const built = await inFreshCache(work, () => buildImages([specFile], { names: ["t-plain", "t-tar-lz4hc", "t-nofp"] }));
    const tools = await erofsTools();
    for (const img of built.values()) {
      const m = img.manifest;
      expect(m.verified).toBe(true);
      expect(m.image).toMatchObject({ size: (await stat(img.imagePath)).size, sha256: sha(await readFile(img.imagePath)) });
      const out = path.join(work, `extract-${img.name}`);
      await execa(tools.fsck[0], [...tools.fsck.slice(1), `--extract=${out}`, img.imagePath]);
      for (const f of m.files) {
        expect(f.nid, f.path).not.toBeNull();
        expect(f.layout, f.path).not.toBeNull();
        if (f.type !== "file") continue;
        const bytes = await readFile(path.join(out, f.path));
        const digest = sha(bytes);
        expect(f.sha256, f.path).toBe(digest);
        expect(f.xxh64, f.path).toBe(xxh64Hex(bytes));
        const fp = img.name === "t-nofp" || f.size === 0 ? null : `sha256:${digest}`;
        expect(f.fingerprint, f.path).toBe(fp);
      }
    }
    const plain = built.get("t-plain")!.manifest;
    const byPath = new Map(plain.files.map((f) => [f.path, f]));
    expect(byPath.get("/tiny")!.layout).toBe("inline");
    expect(byPath.get("/data/big.bin")!.layout).toBe("plain");
    expect(byPath.get("/hl")!.nid).toBe(byPath.get("/data/big.bin")!.nid);
    expect(byPath.get("/copy.bin")!.sha256).toBe(
      (await inFreshCache(work, () => buildImages([specFile], { names: ["t-zstd"] }))).get("t-zstd")!.manifest.files.find((f) => f.path === "/z/text.txt")!.sha256,
    );
    // inspect reads the same facts from the image alone
    const ins = await inspectImage(built.get("t-tar-lz4hc")!.imagePath);
    expect(ins.fingerprintXattr).toBe("trusted.pcshare.fp");
    expect(ins.files.find((f) => f.path === "/a.txt")!.fingerprint).toBe(
      built.get("t-tar-lz4hc")!.manifest.files.find((f) => f.path === "/a.txt")!.fingerprint,
    );
    expect(formatInspection(ins)).toMatch(/features .*ishare_xattrs/);
  });

  it("leaves no temporary trees or cache entries after a failing build", async () => {
    const bad = path.join(work, "bad.yaml");
    await writeFile(bad, `images:\n  broken:\n    mkfs: { extra: ["--no-such-mkfs-option"] }\n    files:\n      - { path: /a, gen: random, size: 1MiB, seed: 1 }\n`);
    const tmpParent = await mkdtemp(path.join(work, "tmp-"));
    await inFreshCache(work, async () => {
      await expect(buildImages([bad], { tmpDir: tmpParent })).rejects.toThrow(/bad\.yaml:2: images\.broken: mkfs\.erofs failed/);
      const area = path.join(process.env.PCSHARE_CACHE!, "images");
      expect(await readdir(area)).toEqual([]);
    });
    expect(await readdir(tmpParent)).toEqual([]);
  });
});
