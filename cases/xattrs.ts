// F8. Extended attributes through a shared mount: per-file xattrs (text, binary, empty, long-prefix names,
// a 65535-byte value, a 255-byte name, a name that is a whole 255-byte long prefix; one image built from a
// directory, the other from a tarball) read back exactly in the guest, and files with identical content but
// different xattrs (images/xattrs.yaml). The fingerprint mkfs.erofs writes is a digest of the content only, and
// Documentation/filesystems/erofs.rst (7.2) says of inode_share: "Inodes with identical content within the
// same domain ID can share the page cache"; it says nothing about xattrs. So a correct kernel shares the
// two files' page cache, while each inode keeps its own xattrs (getxattr answers from the on-disk inode
// of the mount it is asked through, not from the shared inode, which holds only pages).
import { defineCase } from "../harness/runner/case.ts";
import type { CaseContext } from "../harness/runner/context.ts";
import { expectPair } from "./fixtures.ts";

const A = { image: "xattr-a", file: "/data/f.bin" };
const B = { image: "xattr-b", file: "/other/g.bin" };

/** The xattrs the guest lists on `path` (every value read with getxattr) against the manifest's, exactly. */
async function expectXattrs(t: CaseContext, image: string, path: string, guestPath: string, label: string): Promise<void> {
  const want = new Map((t.file(image, path).xattrs ?? []).map((x) => [x.name, x.hex]));
  const r = await t.agent.xattrs(guestPath);
  const seen = new Map(r.listed.map((x) => [x.name, x.value === null ? `error ${x.errname}` : x.value.toString("hex")]));
  const names = (m: Map<string, string>) => [...m.keys()].sort().join(", ");
  t.expectEqual(`${label}: ${image}:${path} lists exactly its own xattr names`, names(seen), names(want));
  const wrong = [...want].filter(([n, v]) => seen.get(n) !== v).map(([n]) => n);
  t.expect(`${label}: ${image}:${path} reads every xattr value byte for byte`, wrong.length === 0, {
    expected: "all equal",
    seen: wrong.length ? `differ: ${wrong.map((n) => `${n} (${(seen.get(n) ?? "absent").slice(0, 24)}...)`).join(", ")}` : "all equal",
  });
  t.measure(`${label}_${image}_xattr_bytes`, [...seen.values()].reduce((s, v) => s + v.length / 2, 0), "B", { kind: "exact" });
}

export const F8 = defineCase({
  id: "F8",
  name: "xattrs-read-back-exactly-through-shared-mounts",
  groups: ["F"],
  expect:
    "two files with identical content but different xattrs, in two images mounted in one domain (in either mount order), share one page cache and each lists and reads exactly its own xattrs (text, binary, empty, long-prefix names, 65535-byte value, 255-byte names), before and after the shared read",
  requires: ["page-cache-share"],
  images: [A.image, B.image],
  async run(t) {
    const a = t.file(A.image, A.file);
    const b = t.file(B.image, B.file);
    t.assert("the two files have the same content and fingerprint but different xattrs", a.sha256 === b.sha256 && a.fingerprint === b.fingerprint && !!a.fingerprint && JSON.stringify(a.xattrs) !== JSON.stringify(b.xattrs), {
      seen: `${a.fingerprint} / ${b.fingerprint}`,
    });
    for (const [first, second] of [[A, B], [B, A]]) {
      const label = `${first.image}_first`;
      const m1 = await t.mount(first.image, { domain: "d1" });
      const m2 = await t.mount(second.image, { domain: "d1" });
      const at = (x: typeof A) => (x === first ? m1 : m2).path(x.file);
      for (const x of [first, second]) await expectXattrs(t, x.image, x.file, at(x), `${label} before`);
      for (const [x, m] of [[first, m1], [second, m2]] as const) await expectXattrs(t, x.image, "/dir", m.path("/dir"), `${label} dir`);
      await expectPair(t, { path: at(first), xxh64: a.xxh64! }, { path: at(second), xxh64: b.xxh64! }, "shared", label);
      for (const x of [first, second]) await expectXattrs(t, x.image, x.file, at(x), `${label} after`);
      await t.umount(m2);
      await t.umount(m1);
    }
  },
});
