// Owns: checks of harness/images/erofs/mutate.ts on real images, judged by the reader and by fsck.erofs.
import { writeFile } from "node:fs/promises";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dir, type DirectoryResult } from "tmp-promise";
import type { ErofsTools } from "../../../harness/images/erofs-utils.ts";
import { ErofsFormatError, ErofsImage } from "../../../harness/images/erofs/reader.ts";
import { findCollidingPair, ishareHash } from "../../../harness/images/erofs/collide.ts";
import {
  MUTATIONS, badIsharePrefixId, clearIshareCompat, corruptSbChecksum, emptyFingerprint, forgeFingerprint,
  oversizeFingerprint, setFingerprintValue, sizeMismatchFingerprint, type MutationArgs,
} from "../../../harness/images/erofs/mutate.ts";
import { makeTree, mkfs, run, tools, type SourceFiles } from "./tools.ts";

let t: ErofsTools;
let tmp: DirectoryResult;
let files: SourceFiles;
const images: Record<string, Uint8Array> = {};
let n = 0;

beforeAll(async () => {
  t = await tools();
  tmp = await dir({ unsafeCleanup: true });
  const src = path.join(tmp.path, "src");
  await mkdir(src);
  files = await makeTree(src);
  images.b4096 = await mkfs(t, path.join(tmp.path, "b4096.img"), src, ["-T0", "--all-root", "--xattr-inode-digest"]);
  images.b512 = await mkfs(t, path.join(tmp.path, "b512.img"), src, ["-T0", "--all-root", "-b", "512", "--xattr-inode-digest"]);
});
afterAll(async () => { await tmp?.cleanup(); });

async function fsck(bytes: Uint8Array, digest: boolean): Promise<{ ok: boolean; out: string }> {
  const p = path.join(tmp.path, `m${n++}.img`);
  await writeFile(p, bytes);
  const r = await run(t.fsck, [...(digest ? ["--xattr-inode-digest"] : []), p]);
  return { ok: r.exitCode === 0, out: r.stdout + r.stderr };
}

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString("hex") : "none");

describe.each(["b4096", "b512"])("mutations on %s", (which) => {
  it("forgeFingerprint: reader sees the copy, fsck only flags it with --xattr-inode-digest", async () => {
    const img = images[which];
    const before = hex(img);
    const out = forgeFingerprint(img, "/random.bin", "/random2.bin");
    expect(hex(img)).toBe(before); // input untouched
    const m = ErofsImage.open(out);
    expect(m.superblock.checksumValid).toBe(true);
    expect(m.fingerprint(m.resolve("/random.bin"))).toEqual(m.fingerprint(m.resolve("/random2.bin")));
    expect(Buffer.from(m.readFile(m.resolve("/random.bin"))).equals(Buffer.from(files.get("/random.bin")!))).toBe(true);
    expect((await fsck(out, false)).ok).toBe(true);
    const d = await fsck(out, true);
    expect(d.ok).toBe(false);
    expect(d.out).toMatch(/digest MISMATCH/);
  });

  it("checksum recompute is what keeps fsck.erofs happy", async () => {
    const img = images[which];
    // clearIshareCompat edits the superblock itself, which lies inside the checksummed range
    const good = clearIshareCompat(img);
    expect(ErofsImage.open(good).superblock.checksumValid).toBe(true);
    const stale = good.slice();
    stale.set(img.subarray(1024 + 4, 1024 + 8), 1024 + 4); // put the original checksum back
    expect(ErofsImage.open(stale).superblock.checksumValid).toBe(false);
    // fsck.erofs 1.9.4 reports a bad superblock checksum but still exits 0, so judge by its message
    const f = await fsck(stale, false);
    expect(f.out).toMatch(/failed to verify superblock checksum/);
    const g = await fsck(good, false);
    expect(g.ok).toBe(true);
    expect(g.out).not.toMatch(/checksum/);
    expect(ErofsImage.open(corruptSbChecksum(img)).superblock.checksumValid).toBe(false);
  });

  it("sizeMismatchFingerprint needs different sizes", async () => {
    const img = images[which];
    expect(() => sizeMismatchFingerprint(img, "/random.bin", "/random2.bin")).toThrow(/same size/);
    const out = sizeMismatchFingerprint(img, "/hello.txt", "/text.txt");
    const m = ErofsImage.open(out);
    expect(m.fingerprint(m.resolve("/hello.txt"))).toEqual(m.fingerprint(m.resolve("/text.txt")));
    expect((await fsck(out, false)).ok).toBe(true);
    expect((await fsck(out, true)).ok).toBe(false);
  });

  it("emptyFingerprint keeps the image valid and the data in place", async () => {
    const img = images[which];
    for (const p of ["/hello.txt", "/random.bin"]) {
      const out = emptyFingerprint(img, p);
      const m = ErofsImage.open(out);
      const nid = m.resolve(p);
      expect(m.fingerprint(nid)?.length).toBe(0);
      expect(m.xattrs(nid).map((x) => x.name)).toEqual(["erofs.fingerprint.v1", "user.pcshare.pad"]);
      expect(Buffer.from(m.readFile(nid)).equals(Buffer.from(files.get(p)!))).toBe(true);
      expect((await fsck(out, false)).ok).toBe(true);
      const d = await fsck(out, true);
      expect(d.ok).toBe(false);
      expect(d.out).toMatch(/size=0/);
    }
  });

  it("oversizeFingerprint runs past the xattr area", async () => {
    const img = images[which];
    const out = oversizeFingerprint(img, "/hello.txt");
    const m = ErofsImage.open(out);
    expect(() => m.xattrs(m.resolve("/hello.txt"))).toThrow(ErofsFormatError);
    const f = await fsck(out, false);
    expect(f.ok).toBe(false);
    expect(f.out).toMatch(/beyond xattr_isize/);
  });

  it("badIsharePrefixId and clearIshareCompat", async () => {
    const img = images[which];
    const bad = badIsharePrefixId(img);
    const mb = ErofsImage.open(bad);
    expect(mb.superblock.ishareXattrPrefixId).toBe(mb.superblock.xattrPrefixCount);
    expect(mb.superblock.ishareXattrName).toBeUndefined();
    expect(mb.superblock.checksumValid).toBe(true);
    const fb = await fsck(bad, false);
    expect(fb.ok).toBe(false);
    expect(fb.out).toMatch(/invalid ishare xattr prefix id/);

    const clr = clearIshareCompat(img);
    const mc = ErofsImage.open(clr);
    expect(mc.superblock.compatNames).not.toContain("ishare_xattrs");
    expect(mc.fingerprint(mc.resolve("/hello.txt"))).toBeUndefined();
    expect(mc.xattrs(mc.resolve("/hello.txt"))).toHaveLength(1); // the xattr itself stays
    expect((await fsck(clr, false)).ok).toBe(true);
  });

  it("setFingerprintValue writes a colliding pair", async () => {
    const img = images[which];
    const pair = findCollidingPair({ domainId: "pcshare-test", seed: 3 });
    let out = setFingerprintValue(img, "/random.bin", pair.a);
    out = setFingerprintValue(out, "/random2.bin", pair.b);
    const m = ErofsImage.open(out);
    const a = m.fingerprint(m.resolve("/random.bin"))!;
    const b = m.fingerprint(m.resolve("/random2.bin"))!;
    expect(a).toEqual(pair.a);
    expect(hex(a)).not.toBe(hex(b));
    expect(ishareHash(a, "pcshare-test")).toBe(ishareHash(b, "pcshare-test"));
    expect((await fsck(out, false)).ok).toBe(true);
    expect(() => setFingerprintValue(img, "/random.bin", new Uint8Array(38))).toThrow(/same-length/);
  });
});

describe("MUTATIONS registry", () => {
  it("lists every op with expectations and applies with arguments", () => {
    const img = images.b4096;
    const args = { path: "/hello.txt", fromPath: "/text.txt", value: new Uint8Array(39).fill(0x41) };
    for (const [name, m] of Object.entries(MUTATIONS)) {
      expect(m.describe.length, name).toBeGreaterThan(0);
      expect(["ok", "fails"]).toContain(m.expect.mount);
      const special: Record<string, MutationArgs> = {
        forgeFingerprint: { path: "/random.bin", fromPath: "/random2.bin" },
        collideFingerprints: { path: "/", domainId: "pcshare-test" },
      };
      const out = m.apply(img, special[name] ?? args);
      expect(out.length).toBe(img.length);
      expect(hex(out)).not.toBe(hex(img));
    }
    expect(() => MUTATIONS.emptyFingerprint.apply(img, {})).toThrow(/missing argument "path"/);
  });
});
