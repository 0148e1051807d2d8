// The model of the documented sharing rules, table-driven, without a guest: each row builds a state
// with mount operations and states what the model must predict for a mount, a pair of files (in both
// orders), a read, an O_DIRECT open, the pages left after fadvise(DONTNEED), a remount or an unmount.
import { describe, expect, it } from "vitest";
import { SharingModel, type ModelImage, type Tri } from "../../harness/explore/model.ts";
import type { Backing, MountOptionSet } from "../../harness/explore/program.ts";

const fp = (c: string) => `sha256:${c.repeat(64)}`;
const file = (path: string, size: number, content: string, opts: { fp?: boolean | string; layout?: string; linkOf?: string } = {}) => ({
  path, size, sha256: content.repeat(64), xxh64: content.repeat(16), fingerprint: opts.fp === false ? null : typeof opts.fp === "string" ? opts.fp : fp(content), layout: opts.layout ?? "plain", linkOf: opts.linkOf,
});
/** A forged value as the manifest writes a file's own fingerprint xattr: raw:<hex>. */
const raw = (text: string) => `raw:${Buffer.from(text).toString("hex")}`;
const IMAGES: ModelImage[] = [
  { name: "a", fingerprinted: true, files: [file("/x", 8192, "1"), file("/y", 4096, "2"), file("/x-link", 8192, "1", { linkOf: "/x" })] },
  { name: "b", fingerprinted: true, files: [file("/copy-of-x", 8192, "1"), file("/other", 4096, "3")] },
  { name: "plain", fingerprinted: false, files: [file("/x", 8192, "1", { fp: false })] },
  { name: "z", fingerprinted: true, files: [file("/x", 8192, "1", { layout: "compressed-full" })] },
  { name: "z2", fingerprinted: true, files: [file("/x", 8192, "1", { layout: "compressed-compact" })] },
  { name: "dup", fingerprinted: true, files: [file("/one", 8192, "1"), file("/two", 8192, "1")] },
  // 6: forged values: /p and /q collide (same size, other content), /r collides with another size,
  // /e is empty, /o is longer than the 512-byte block, /k is exactly a block (valid)
  {
    name: "forged", fingerprinted: true, blockSize: 512, files: [
      file("/p", 8192, "4", { fp: raw("collide-1") }), file("/q", 8192, "5", { fp: raw("collide-1") }), file("/r", 4096, "6", { fp: raw("collide-1") }),
      file("/e", 8192, "7", { fp: raw("") }), file("/o", 8192, "8", { fp: raw("o".repeat(513)) }), file("/k", 8192, "9", { fp: raw("b".repeat(512)) }),
    ],
  },
  // 7: the fingerprint feature with no fingerprinted file (all files empty or carrying none)
  { name: "feature-only", fingerprinted: true, files: [file("/n", 4096, "1", { fp: false })] },
  // 8: two files with the same forged value and size
  { name: "forged-same", fingerprinted: true, files: [file("/k1", 8192, "a", { fp: raw("b".repeat(4096)) }), file("/k2", 8192, "b", { fp: raw("b".repeat(4096)) })] },
];
const shared = (domain: string): MountOptionSet => ({ share: true, domain });
const PLAIN: MountOptionSet = { share: false };

type M = [image: number, backing: Backing, opts: MountOptionSet];
function state(mounts: M[]): SharingModel {
  const model = new SharingModel(IMAGES);
  for (const [image, backing, opts] of mounts) {
    const p = model.predictMount(image, backing, opts);
    expect(p.result.expect).toBe("ok");
    model.commitMount(image, backing, opts, p.sharing.expect as Tri);
  }
  return model;
}

describe("mount results", () => {
  const rows: [string, MountOptionSet, string][] = [
    ["inode_share without domain_id", { share: true }, "EINVAL"],
    ["empty domain_id", { share: true, domain: "" }, "refused"],
    ["unknown option noinode_share", { share: false, raw: "noinode_share" }, "refused"],
    ["dax=always with inode_share", { share: true, domain: "d1", raw: "inode_share,domain_id=d1,dax=always" }, "refused"],
    ["dax=never with inode_share", { share: true, domain: "d1", raw: "inode_share,domain_id=d1,dax=never" }, "ok"],
    ["inode_share,domain_id=d1", shared("d1"), "ok"],
    ["domain_id alone", { share: false, domain: "d1" }, "ok"],
    ["plain", PLAIN, "ok"],
  ];
  it.each(rows)("%s", (_label, opts, want) => {
    expect(new SharingModel(IMAGES).predictMount(0, "bdev", opts).result.expect).toBe(want);
  });

  it("a kernel without CONFIG_FS_DAX refuses dax=never too", () => {
    const never = { share: true, domain: "d1", raw: "inode_share,domain_id=d1,dax=never" };
    expect(new SharingModel(IMAGES, { dax: false }).predictMount(0, "bdev", never).result.expect).toBe("refused");
    expect(new SharingModel(IMAGES, { dax: true }).predictMount(0, "bdev", never).result.expect).toBe("ok");
  });

  it("an image without fingerprints mounts with sharing off", () => {
    expect(new SharingModel(IMAGES).predictMount(2, "bdev", shared("d1")).sharing.expect).toBe("no");
  });

  it("the superblock's fingerprint feature decides, not whether a file carries one", () => {
    expect(new SharingModel(IMAGES).predictMount(7, "bdev", shared("d1")).sharing.expect).toBe("yes");
    expect(new SharingModel(IMAGES).predictMount(0, "bdev", { share: true, domain: "d1", raw: "inode_share,domain_id=d1,dax=never" }).sharing.expect).toBe("yes");
  });

  it("a second mount of a mounted block device keeps the first superblock's share state", () => {
    const m = state([[0, "bdev", shared("d1")]]);
    expect(m.predictMount(0, "bdev", PLAIN)).toMatchObject({ result: { expect: "ok" }, sharing: { expect: "yes" } });
    expect(m.predictMount(0, "bdev", { share: true }).result.expect).toBe("unspecified");
    expect(m.predictMount(0, "file", PLAIN).sharing.expect).toBe("no");
    // a loop device is a block device of its own: a superblock of its own, with the options it gets
    expect(m.predictMount(0, "loop", PLAIN)).toMatchObject({ result: { expect: "ok" }, sharing: { expect: "no" } });
  });
});

describe("which pairs share page frames", () => {
  const rows: [string, M[], [number, number], [number, number], Tri][] = [
    ["same domain, same content, two images", [[0, "bdev", shared("d1")], [1, "bdev", shared("d1")]], [0, 0], [1, 0], "yes"],
    ["both orders", [[1, "bdev", shared("d1")], [0, "bdev", shared("d1")]], [0, 0], [1, 0], "yes"],
    ["different domains", [[0, "bdev", shared("d1")], [1, "bdev", shared("d2")]], [0, 0], [1, 0], "no"],
    ["one side plain", [[0, "bdev", shared("d1")], [1, "bdev", PLAIN]], [0, 0], [1, 0], "no"],
    ["domain_id without inode_share", [[0, "bdev", { share: false, domain: "d1" }], [1, "bdev", shared("d1")]], [0, 0], [1, 0], "no"],
    ["different content", [[0, "bdev", shared("d1")], [1, "bdev", shared("d1")]], [0, 1], [1, 1], "no"],
    ["image without fingerprints", [[0, "bdev", shared("d1")], [2, "bdev", shared("d1")]], [0, 0], [1, 0], "no"],
    ["uncompressed, block device vs backing file", [[0, "bdev", shared("d1")], [1, "file", shared("d1")]], [0, 0], [1, 0], "no"],
    ["uncompressed, both file-backed", [[0, "file", shared("d1")], [1, "file", shared("d1")]], [0, 0], [1, 0], "yes"],
    ["uncompressed, a loop device and the block device: both block devices", [[0, "loop", shared("d1")], [1, "bdev", shared("d1")]], [0, 0], [1, 0], "yes"],
    ["uncompressed, a loop device vs a backing file", [[0, "loop", shared("d1")], [1, "file", shared("d1")]], [0, 0], [1, 0], "no"],
    ["one image through a loop device and from its disk: two superblocks, one domain", [[0, "loop", shared("d1")], [0, "bdev", shared("d1")]], [0, 0], [1, 0], "yes"],
    ["one image through a loop device and from its disk, plain: nothing shared", [[0, "loop", PLAIN], [0, "bdev", PLAIN]], [0, 0], [1, 0], "no"],
    ["compressed across backings", [[3, "bdev", shared("d1")], [4, "file", shared("d1")]], [0, 0], [1, 0], "yes"],
    ["compressed vs uncompressed", [[3, "bdev", shared("d1")], [0, "bdev", shared("d1")]], [0, 0], [1, 0], "no"],
    ["identical files inside one sharing mount", [[5, "bdev", shared("d1")]], [0, 0], [0, 1], "yes"],
    ["identical files inside one plain mount", [[5, "bdev", PLAIN]], [0, 0], [0, 1], "no"],
    ["a hardlink is the same inode, even plain", [[0, "bdev", PLAIN]], [0, 0], [0, 2], "yes"],
    ["two file-backed mounts of one image, plain", [[0, "file", PLAIN], [0, "file", PLAIN]], [0, 0], [1, 0], "no"],
    ["two file-backed mounts of one image, same domain", [[0, "file", shared("d1")], [0, "file", shared("d1")]], [0, 0], [1, 0], "yes"],
    ["forged colliding values beside one of another size: lookup order decides", [[6, "bdev", shared("d1")]], [0, 0], [0, 1], "unspecified"],
    ["colliding values with another size never share (A1)", [[6, "bdev", shared("d1")]], [0, 0], [0, 2], "no"],
    ["an empty value is refused", [[6, "bdev", shared("d1")], [6, "file", shared("d1")]], [0, 3], [1, 3], "no"],
    ["a value longer than a block is refused", [[6, "file", shared("d1")], [6, "file", shared("d1")]], [0, 4], [1, 4], "no"],
    ["a value of exactly a block is valid", [[6, "file", shared("d1")], [6, "file", shared("d1")]], [0, 5], [1, 5], "yes"],
    ["forged same value and size across files", [[8, "bdev", shared("d1")]], [0, 0], [0, 1], "yes"],
    ["forged same value, other domains", [[8, "bdev", shared("d1")], [8, "file", shared("d2")]], [0, 0], [1, 1], "no"],
    ["same key as a compressed file mounted in the domain: lookup order decides", [[0, "bdev", shared("d1")], [1, "bdev", shared("d1")], [3, "bdev", shared("d1")]], [0, 0], [1, 0], "unspecified"],
    ["the compressed file of another domain does not matter", [[0, "bdev", shared("d1")], [1, "bdev", shared("d1")], [3, "bdev", shared("d2")]], [0, 0], [1, 0], "yes"],
  ];
  it.each(rows)("%s", (_label, mounts, [sa, fa], [sb, fb], want) => {
    const m = state(mounts);
    expect(m.predictFrames({ slot: sa, file: fa }, { slot: sb, file: fb })?.expect).toBe(want);
    // every pair, in both orders
    expect(m.predictFrames({ slot: sb, file: fb }, { slot: sa, file: fa })?.expect).toBe(want);
  });

  it("forged values that collide in one image with other sizes leave the share of each unspecified", () => {
    // /p and /q (8192) collide with /r (4096): whichever is looked up first makes the shared inode
    const m = state([[6, "bdev", shared("d1")]]);
    expect(m.shareState(m.resolve({ slot: 0, file: 0 })!).expect).toBe("unspecified");
    expect(m.predictFrames({ slot: 0, file: 0 }, { slot: 0, file: 1 })?.expect).toBe("unspecified");
  });

  it("a file of an unmounted superblock still counts: its shared inode may live on", () => {
    const m = state([[3, "bdev", shared("d1")], [0, "bdev", shared("d1")], [1, "bdev", shared("d1")]]);
    m.commitUmount(0);
    expect(m.predictFrames({ slot: 0, file: 0 }, { slot: 1, file: 0 })?.expect).toBe("unspecified");
  });
});

describe("lookup order decides the share of files of one key with other sizes or address-space operations", () => {
  // images 0 and 1: /x and /copy-of-x (uncompressed, same key); image 3: /x compressed, same key
  const mounts: M[] = [[0, "bdev", shared("d1")], [1, "bdev", shared("d1")], [3, "bdev", shared("d1")]];
  const at = (slot: number) => ({ slot, file: 0 });
  it.each([
    ["uncompressed first: the compressed one stays out", [0, 2, 1], "yes", "no"],
    ["compressed first: both uncompressed stay out", [2, 0, 1], "no", "no"],
  ] as const)("%s", (_label, order, want01, want02) => {
    const m = state(mounts);
    for (const slot of order) m.lookup(m.resolve(at(slot))!);
    expect(m.predictFrames(at(0), at(1))?.expect).toBe(want01);
    expect(m.predictFrames(at(1), at(0))?.expect).toBe(want01);
    expect(m.predictFrames(at(0), at(2))?.expect).toBe(want02);
  });
  it("drop_caches drops the inodes and their shared inode; a held file keeps its own", () => {
    const m = state(mounts);
    for (const slot of [2, 0, 1]) m.lookup(m.resolve(at(slot))!);
    m.commitDropCaches();
    for (const slot of [0, 1, 2]) m.lookup(m.resolve(at(slot))!);
    expect(m.predictFrames(at(0), at(1))?.expect).toBe("yes");
    m.commitHold(m.mounts[2], m.resolve(at(2))!.file);
    m.commitDropCaches();
    for (const slot of [0, 1]) m.lookup(m.resolve(at(slot))!);
    // the held compressed inode is not shared (it came after /x): it holds no shared inode, so /x makes one again
    expect(m.predictFrames(at(0), at(1))?.expect).toBe("yes");
  });
  it("after a concurrent reader the model no longer knows which inodes live", () => {
    const m = state(mounts);
    m.commitReader(m.mounts[0]);
    for (const slot of [0, 1, 2]) m.lookup(m.resolve(at(slot))!);
    expect(m.predictFrames(at(0), at(1))?.expect).toBe("unspecified");
  });
});

describe("what a read returns", () => {
  // each candidate as backing:path (own first)
  const rows: [string, M[], [number, number], string[]][] = [
    ["its own bytes on a plain mount", [[8, "bdev", PLAIN]], [0, 0], ["bdev:/k1"]],
    ["its own bytes when no other file has its key", [[0, "bdev", shared("d1")], [1, "bdev", shared("d1")]], [0, 0], ["bdev:/x"]],
    ["its own or its forged twin's bytes in one domain", [[8, "bdev", shared("d1")]], [0, 1], ["bdev:/k2", "bdev:/k1"]],
    ["only files of its own domain", [[8, "bdev", shared("d1")], [8, "file", shared("d2")]], [1, 0], ["file:/k1", "file:/k2"]],
    ["never the bytes of a colliding file of another size", [[6, "bdev", shared("d1")]], [0, 2], ["bdev:/r"]],
    ["own bytes with an invalid (empty) value", [[6, "bdev", shared("d1")]], [0, 3], ["bdev:/e"]],
  ];
  it.each(rows)("%s", (_label, mounts, [slot, f], want) => {
    const m = state(mounts);
    expect(m.predictRead(m.resolve({ slot, file: f })!).files.map((p) => `${p.backing}:${p.file.path}`)).toEqual(want);
  });
});

describe("open O_DIRECT", () => {
  const rows: [string, M[], [number, number], string][] = [
    ["a shared file refuses it (F3)", [[0, "bdev", shared("d1")]], [0, 0], "EINVAL"],
    ["an unshared uncompressed file on a block device opens", [[0, "bdev", PLAIN]], [0, 0], "ok"],
    ["an unshared compressed file refuses it", [[3, "bdev", PLAIN]], [0, 0], "EINVAL"],
    ["a file-backed mount refuses it", [[0, "file", PLAIN]], [0, 0], "EINVAL"],
    ["an unshared uncompressed file through a loop device opens (a block device)", [[0, "loop", PLAIN]], [0, 0], "ok"],
    ["a file whose value is refused is unshared: it opens", [[6, "bdev", shared("d1")]], [0, 4], "ok"],
    ["a file whose share depends on lookup order: unspecified", [[6, "bdev", shared("d1")]], [0, 0], "unspecified"],
  ];
  it.each(rows)("%s", (_label, mounts, [slot, f], want) => {
    const m = state(mounts);
    expect(m.predictODirect(m.resolve({ slot, file: f })!).expect).toBe(want);
  });
});

describe("pages resident after fadvise(DONTNEED)", () => {
  it("none, unless a held mapping or a concurrent reader may keep them", () => {
    const m = state([[0, "bdev", shared("d1")], [1, "bdev", shared("d1")]]);
    expect(m.predictResidentAfterDontneed().expect).toBe(0);
    m.commitHold(m.mounts[1]);
    expect(m.predictResidentAfterDontneed().expect).toBe("unspecified");
    m.commitRelease(m.mounts[1]);
    expect(m.predictResidentAfterDontneed().expect).toBe(0);
    m.commitReader(m.mounts[0]);
    expect(m.predictResidentAfterDontneed().expect).toBe("unspecified");
  });
});

describe("remount", () => {
  it("cannot give a mount without domain_id sharing (O3)", () => {
    const m = state([[0, "bdev", PLAIN], [1, "bdev", shared("d1")]]);
    const p = m.predictRemount(0, "inode_share")!;
    expect(p.result.expect).toBe("unspecified");
    expect(p.sharing.expect).toBe("no");
    m.commitRemount(0, p.sharing.expect as Tri);
    expect(m.predictFrames({ slot: 0, file: 0 }, { slot: 1, file: 0 })?.expect).toBe("no");
  });
  it("a new domain_id is accepted and ignored; the share state after it is not specified (O5)", () => {
    const m = state([[0, "bdev", shared("d1")], [1, "bdev", shared("d1")]]);
    const p = m.predictRemount(1, "domain_id=d2")!;
    expect(p.result.expect).toBe("ok");
    m.commitRemount(1, p.sharing.expect as Tri);
    expect(m.predictFrames({ slot: 0, file: 0 }, { slot: 1, file: 0 })?.expect).toBe("unspecified");
  });
});

describe("unmount", () => {
  it("is refused while a file is held, lazy is not, and a slot moves to the next mount", () => {
    const m = state([[0, "bdev", shared("d1")], [1, "bdev", shared("d1")]]);
    m.commitHold(m.mounts[0]);
    expect(m.predictUmount(0, false)?.expect).toBe("EBUSY");
    expect(m.predictUmount(0, true)?.expect).toBe("ok");
    expect(m.predictUmount(1, false)?.expect).toBe("ok");
    const gone = m.commitUmount(0)!;
    expect(m.mounts.length).toBe(1);
    expect(m.resolve({ slot: 0, file: 0 })?.mount.sb.image.name).toBe("b");
    m.commitRelease(gone);
    // The superblock of a's bdev is gone: a new bdev mount of it takes its new options.
    expect(m.predictMount(0, "bdev", PLAIN).sharing.expect).toBe("no");
  });
  it("an image named twice in a program is one block device: its second bdev mount reuses the first one's superblock", () => {
    const m = new SharingModel([IMAGES[0], { ...IMAGES[0] }]);
    m.commitMount(0, "bdev", PLAIN, "no");
    const p = m.predictMount(1, "bdev", shared("d1"));
    expect(p.result.expect).toBe("ok");
    expect(p.sharing.expect).toBe("no");
    expect(m.predictMount(1, "file", shared("d1")).sharing.expect).toBe("yes");
  });
  it("a detached mount whose file is still held keeps its superblock: a new bdev mount reuses it", () => {
    const m = state([[0, "bdev", shared("d1")]]);
    m.commitHold(m.mounts[0]);
    m.commitUmount(0);
    expect(m.predictMount(0, "bdev", PLAIN).sharing.expect).toBe("yes");
  });
  it("a concurrent reader makes a normal unmount's answer unspecified", () => {
    const m = state([[0, "bdev", PLAIN]]);
    m.commitReader(m.mounts[0]);
    expect(m.predictUmount(0, false)?.expect).toBe("unspecified");
  });
  it("no mounts: nothing to resolve", () => {
    const m = state([]);
    expect(m.predictUmount(0, false)).toBeUndefined();
    expect(m.resolve({ slot: 3, file: 1 })).toBeUndefined();
  });
});
