// Which mount options /proc/self/mountinfo lists, as the model predicts them (table-driven, no guest),
// and the parsing of mountinfo lines: domain_id is never listed (erofs.rst: a secret), inode_share
// exactly when sharing is in effect, a remount of a mount without domain_id never leaves it listed (O3).
import { describe, expect, it } from "vitest";
import { SharingModel, type ModelImage, type Tri } from "../../harness/explore/model.ts";
import { mountinfoOptions, predictShown, seenShown } from "../../harness/explore/options-shown.ts";
import type { MountOptionSet } from "../../harness/explore/program.ts";

const file = (path: string, fp: string | null) => ({ path, size: 8192, sha256: "1".repeat(64), xxh64: "1".repeat(16), fingerprint: fp, layout: "plain" });
const IMAGES: ModelImage[] = [
  { name: "fp", fingerprinted: true, files: [file("/x", `sha256:${"1".repeat(64)}`)] },
  { name: "plain", fingerprinted: false, files: [file("/x", null)] },
];

function mounted(image: number, opts: MountOptionSet, remount?: string) {
  const m = new SharingModel(IMAGES);
  m.commitMount(image, "bdev", opts, m.predictMount(image, "bdev", opts).sharing.expect as Tri);
  if (remount !== undefined) m.commitRemount(0, m.predictRemount(0, remount)!.sharing.expect as Tri, remount);
  return predictShown(m.optionState(0)!);
}

describe("listed options after a mount or remount", () => {
  const rows: [string, number, MountOptionSet, string | undefined, string, string][] = [
    ["inode_share,domain_id on an image with ishare xattrs", 0, { share: true, domain: "d1" }, undefined, "listed", "no dax option"],
    ["inode_share,domain_id on an image without them (O2)", 1, { share: true, domain: "d1" }, undefined, "not listed", "no dax option"],
    ["plain", 0, { share: false }, undefined, "not listed", "no dax option"],
    ["domain_id alone", 0, { share: false, domain: "d1" }, undefined, "not listed", "no dax option"],
    ["dax=never with sharing", 0, { share: true, domain: "d1", raw: "inode_share,domain_id=d1,dax=never" }, undefined, "listed", "dax=never"],
    ["plain, remounted inode_share (O3)", 0, { share: false }, "inode_share", "not listed", "no dax option"],
    ["plain, remounted inode_share,domain_id=d1 (O3)", 0, { share: false }, "inode_share,domain_id=d1", "not listed", "no dax option"],
    ["sharing, remounted keeping inode_share", 0, { share: true, domain: "d1" }, "inode_share,domain_id=d1", "listed", "no dax option"],
    ["sharing, remounted domain_id=d2 (O5)", 0, { share: true, domain: "d1" }, "domain_id=d2", "unspecified", "no dax option"],
    ["sharing, remounted with nothing", 0, { share: true, domain: "d1" }, "", "unspecified", "no dax option"],
    ["dax=never, remounted", 0, { share: true, domain: "d1", raw: "inode_share,domain_id=d1,dax=never" }, "inode_share", "listed", "unspecified"],
  ];
  it.each(rows)("%s", (_label, image, opts, remount, inodeShare, dax) => {
    const p = mounted(image, opts, remount);
    expect(p.inodeShare.expect).toBe(inodeShare);
    expect(p.domain.expect).toBe("hidden");
    expect(p.dax.expect).toBe(dax);
  });
});

describe("mountinfo parsing", () => {
  const INFO = [
    "22 1 0:20 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw",
    "40 1 254:0 / /mnt/a ro,relatime - erofs /dev/vda ro,user_xattr,acl,cache_strategy=readaround,inode_share",
    "41 1 254:16 / /mnt/b ro,relatime shared:5 - erofs /dev/vdb ro,user_xattr,acl,domain_id=d1",
    "42 40 254:16 / /mnt/a ro,relatime - erofs /dev/vdb ro,user_xattr,dax=never",
  ].join("\n");
  it("takes the topmost mount at a directory, per-mount and superblock options, optional fields skipped", () => {
    expect(mountinfoOptions(INFO, "/mnt/a")).toEqual(["ro", "relatime", "ro", "user_xattr", "dax=never"]);
    expect(mountinfoOptions(INFO, "/mnt/b")).toContain("domain_id=d1");
    expect(mountinfoOptions(INFO, "/mnt/none")).toBeUndefined();
  });
  it("sees inode_share, a leaked domain_id (by key or by its value) and dax", () => {
    expect(seenShown(["ro", "inode_share"], "d1")).toEqual({ inodeShare: "listed", domain: "hidden", dax: "no dax option" });
    expect(seenShown(["ro", "domain_id=d1"], "d1").domain).toBe("shown (domain_id=d1)");
    expect(seenShown(["ro", "fsid=d1"], "d1").domain).toBe("shown (fsid=d1)");
    expect(seenShown(["ro", "domain_id=other"], "d1").domain).toBe("shown (domain_id=other)");
    expect(seenShown(["ro", "dax=never"], undefined).dax).toBe("dax=never");
  });
});
