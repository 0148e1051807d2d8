// Owns: checks of harness/images/erofs/reader.ts against real mkfs.erofs images and dump.erofs/fsck.erofs output.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dir, type DirectoryResult } from "tmp-promise";
import type { ErofsTools } from "../../../harness/images/erofs-utils.ts";
import { ErofsFormatError, ErofsImage, ErofsUnsupportedError } from "../../../harness/images/erofs/reader.ts";
import { computeSbChecksum } from "../../../harness/images/erofs/crc32c.ts";
import { fingerprintValue } from "../../../harness/images/erofs/collide.ts";
import { dumpInode, dumpLs, dumpSuper } from "./dump.ts";
import { makeTar, makeTree, mkfs, run, tools, type SourceFiles } from "./tools.ts";

interface Variant {
  name: string;
  args: string[];
  digest?: string; // expected fingerprint xattr name
  tar?: boolean;
  compressed?: boolean;
  blockSize?: number;
}

const D = "erofs.fingerprint.v1";
const VARIANTS: Variant[] = [
  { name: "uncompressed", args: ["--xattr-inode-digest"], digest: D },
  { name: "uncompressed, no digest", args: [] },
  { name: "b512", args: ["-b", "512", "--xattr-inode-digest"], digest: D, blockSize: 512 },
  { name: "b1024", args: ["-b", "1024", "--xattr-inode-digest"], digest: D, blockSize: 1024 },
  { name: "b2048", args: ["-b", "2048", "--xattr-inode-digest"], digest: D, blockSize: 2048 },
  { name: "lz4", args: ["-zlz4", "--xattr-inode-digest"], digest: D, compressed: true },
  { name: "lz4hc", args: ["-zlz4hc", "--xattr-inode-digest"], digest: D, compressed: true },
  { name: "lzma", args: ["-zlzma", "--xattr-inode-digest"], digest: D, compressed: true },
  { name: "deflate", args: ["-zdeflate", "--xattr-inode-digest"], digest: D, compressed: true },
  { name: "zstd 48bit", args: ["-zzstd", "-E48bit", "--xattr-inode-digest"], digest: D, compressed: true },
  { name: "chunked 8k", args: ["--chunksize=8192", "--xattr-inode-digest"], digest: D },
  { name: "chunked 4k, b1024", args: ["-b", "1024", "--chunksize=4096", "--xattr-inode-digest"], digest: D, blockSize: 1024 },
  { name: "tar=f", args: ["--tar=f", "--xattr-inode-digest"], digest: D, tar: true },
  { name: "custom name user.fp", args: ["--xattr-inode-digest=user.fp"], digest: "user.fp" },
];

let t: ErofsTools;
let tmp: DirectoryResult;
let src: string;
let tarball: string;
let files: SourceFiles;

beforeAll(async () => {
  t = await tools();
  tmp = await dir({ unsafeCleanup: true });
  src = path.join(tmp.path, "src");
  await mkdir(src);
  files = await makeTree(src);
  tarball = path.join(tmp.path, "src.tar");
  await makeTar(src, tarball);
});
afterAll(async () => { await tmp?.cleanup(); });

const expectedFp = (data: Uint8Array): Uint8Array => fingerprintValue(sha256(data));

describe.each(VARIANTS)("reader vs mkfs.erofs: $name", (v) => {
  it("matches dump.erofs, source contents and fingerprints", async () => {
    const out = path.join(tmp.path, v.name.replace(/\W+/g, "_") + ".img");
    const bytes = await mkfs(t, out, v.tar ? tarball : src, ["-T0", "--all-root", ...v.args]);
    const img = ErofsImage.open(bytes);
    const sb = img.superblock;

    // superblock vs dump.erofs -s
    const ds = await dumpSuper(t, out);
    expect(sb.blockSize).toBe(ds.blockSize);
    expect(sb.blockSize).toBe(v.blockSize ?? 4096);
    expect(sb.blocks).toBe(ds.blocks);
    expect(sb.metaBlkAddr).toBe(ds.metaBlkAddr);
    expect(sb.xattrBlkAddr).toBe(ds.xattrBlkAddr);
    expect(sb.rootNid).toBe(ds.rootNid);
    expect(sb.inodeCount).toBe(ds.inodeCount);
    expect(sb.compatNames).toEqual(ds.compat);
    expect(sb.uuid).toBe(ds.uuid);
    expect(sb.checksumValid).toBe(true);
    expect(computeSbChecksum(bytes)).toBe(sb.checksum);
    if (v.digest) {
      expect(sb.compatNames).toContain("ishare_xattrs");
      expect(sb.ishareXattrName).toBe(v.digest);
    } else {
      expect(sb.ishareXattrPrefixId).toBeUndefined();
    }

    // file list, sizes, data, fingerprints
    const walked = [...img.walk()];
    const byPath = new Map(walked.map((e) => [e.path, e]));
    const regular = walked.filter((e) => e.inode.type === "file").map((e) => e.path).sort();
    expect(regular).toEqual([...files.keys()].sort());
    expect(byPath.get("/link")?.inode.type).toBe("symlink");
    expect(new TextDecoder().decode(img.readFile(byPath.get("/link")!.nid))).toBe("hello.txt");
    expect(byPath.get("/sub/hardlink")!.nid).toBe(byPath.get("/text.txt")!.nid);
    expect(byPath.get("/text.txt")!.inode.nlink).toBe(2);
    let compressedSeen = 0;
    for (const [p, data] of files) {
      const e = byPath.get(p)!;
      expect(e.inode.size, p).toBe(data.length);
      expect(img.lookup(p)).toBe(e.nid);
      if (e.inode.layout.startsWith("compressed")) {
        compressedSeen++;
        expect(() => img.readFile(e.nid)).toThrow(ErofsUnsupportedError);
      } else {
        expect(Buffer.from(img.readFile(e.nid)).equals(Buffer.from(data)), `content of ${p}`).toBe(true);
      }
      if (v.digest && data.length > 0) expect(img.fingerprint(e.nid), p).toEqual(expectedFp(data));
      else expect(img.fingerprint(e.nid), p).toBeUndefined();
    }
    if (v.compressed) expect(compressedSeen).toBeGreaterThan(0);
    if (v.args.some((a) => a.startsWith("--chunksize"))) {
      expect(byPath.get("/random.bin")!.inode.layout).toBe("chunked");
    }
    if (v.digest) {
      const x = img.fingerprintXattr(byPath.get("/hello.txt")!.nid)!;
      expect(x.name).toBe(v.digest);
      expect(Buffer.from(bytes.subarray(x.valueOffset, x.valueOffset + 39)).equals(Buffer.from(x.value))).toBe(true);
      expect(bytes[x.entryOffset + 1] & 0x80).toBe(0x80); // stored under a long prefix
    }

    // directories vs dump.erofs --ls
    for (const d of ["/", "/sub", "/sub/deeper", "/many"]) {
      const mine = img.readdir(img.resolve(d)).map((x) => ({ nid: x.nid, type: x.fileType, name: x.name }));
      expect(mine, d).toEqual(await dumpLs(t, out, d));
    }

    // inodes vs dump.erofs --path
    for (const p of ["/", "/hello.txt", "/random.bin", "/text.txt", "/empty", "/many/f007-with-a-longish-name"]) {
      const di = await dumpInode(t, out, p);
      const e = byPath.get(p)!;
      expect({ nid: e.nid, size: e.inode.size, links: e.inode.nlink, layout: e.inode.layoutId, isize: e.inode.isize, xsize: e.inode.xattrSize, uid: e.inode.uid, gid: e.inode.gid, mode: e.inode.mode & 0o7777 }, p)
        .toEqual({ nid: di.nid, size: di.size, links: di.links, layout: di.layout, isize: di.inodeSize, xsize: di.xattrSize, uid: di.uid, gid: di.gid, mode: di.mode });
    }

    if (v.digest) {
      const f = await run(t.fsck, ["--xattr-inode-digest", out]);
      expect(f.exitCode, f.stderr).toBe(0);
    }
  });
});

describe("multi-device (--blobdev)", () => {
  it("parses the device table, fingerprints, and refuses data on the blob device", async () => {
    const out = path.join(tmp.path, "mdev.img");
    const bytes = await mkfs(t, out, src, ["-T0", "--all-root", `--blobdev=${path.join(tmp.path, "blob")}`, "--chunksize=4096", "--xattr-inode-digest"]);
    const img = ErofsImage.open(bytes);
    expect(img.superblock.extraDevices).toBe(1);
    expect(img.superblock.devices).toHaveLength(1);
    for (const e of img.walk()) {
      if (e.inode.type !== "file") continue;
      const data = files.get(e.path)!;
      if (data.length === 0) continue;
      expect(img.fingerprint(e.nid), e.path).toEqual(expectedFp(data));
      expect(() => img.readFile(e.nid)).toThrow(ErofsUnsupportedError);
    }
  });
});

describe("reader errors", () => {
  it("rejects garbage with an offset-naming ErofsFormatError", () => {
    expect(() => ErofsImage.open(new Uint8Array(100))).toThrow(/image too small/);
    const z = new Uint8Array(8192);
    try {
      ErofsImage.open(z);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ErofsFormatError);
      expect((e as ErofsFormatError).offset).toBe(1024);
      expect(String(e)).toMatch(/bad magic/);
    }
  });
});
