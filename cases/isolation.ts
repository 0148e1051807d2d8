// I. Isolation and trust boundary: domain_id is the trust boundary of page-cache sharing. Files of
// different domains never share (not even when a key without separator would make them equal), the
// domain_id stays out of /proc, a forged fingerprint substitutes content only inside the domain that
// trusts the image (and fsck.erofs --xattr-inode-digest finds it), and a removed or overwritten backing
// file never crashes the kernel. Images: images/adversarial.yaml (i2-*, i3-*) and images/basic.yaml.
import { execa } from "execa";
import { defineCase } from "../harness/runner/case.ts";
import { erofsTools } from "../harness/images/erofs-utils.ts";
import { dropCaches } from "../harness/measure/memory.ts";
import { expectPair, expectPairBothOrders, expectSharing, PAIR, readOutcome } from "./fixtures.ts";

export const I1 = defineCase({
  id: "I1",
  name: "different-domains-never-share",
  groups: ["I"],
  tags: ["control"],
  expect: "the same file in two images mounted with different domain_ids has two page caches (no equal frames) whichever is read first; each mount reads the source's bytes",
  concernTag: "trust-boundary",
  concern: "trust boundary: domain_id separates tenants",
  requires: ["page-cache-share"],
  images: ["share-a", "share-b"],
  async run(t) {
    const a = await t.mount("share-a", { domain: "tenant-x" });
    const b = await t.mount("share-b", { domain: "tenant-y" });
    await expectSharing(t, a, b, "separate");
  },
});

export const I2 = defineCase({
  id: "I2",
  name: "domain-value-key-confusion-separates",
  groups: ["I", "A"],
  expect:
    "domain \"ab\" + value V, domain \"a\" + value \"b\"+V and domain \"b\" + value V+\"a\" are three different keys (domain_id NUL value): no shared frames, each file reads its own bytes; the same 40-byte value in one domain on identical content does share (control)",
  concernTag: "trust-boundary",
  concern: "trust boundary: a key without a delimiter lets one domain's fingerprint match another's (fixed by the NUL separator)",
  requires: ["page-cache-share"],
  images: ["i2-v", "i2-dv", "i2-vd", "i2-dv-twin"],
  async run(t) {
    const v = await t.mount("i2-v", { domain: "ab" });
    const dv = await t.mount("i2-dv", { domain: "a" });
    const vd = await t.mount("i2-vd", { domain: "b" });
    const f = t.file("i2-v", "/f.bin");
    const g = t.file("i2-dv", "/g.bin");
    t.assert("crafted values differ from V only by the domain-shifted byte", g.fingerprint !== f.fingerprint, { seen: g.fingerprint });
    await expectPair(t, { path: v.path("/f.bin"), xxh64: f.xxh64! }, { path: dv.path("/g.bin"), xxh64: g.xxh64! }, "separate", "ab+V vs a+bV");
    await expectPair(t, { path: v.path("/f.bin"), xxh64: f.xxh64! }, { path: vd.path("/g.bin"), xxh64: g.xxh64! }, "separate", "ab+V vs b+Va");
    // Control: the 40-byte value is a working key; identical content under it in one domain shares.
    const twin = await t.mount("i2-dv-twin", { domain: "a" });
    await expectPair(t, { path: dv.path("/g.bin"), xxh64: g.xxh64! }, { path: twin.path("/twin/g-copy.bin"), xxh64: g.xxh64! }, "shared", "control a+bV twice");
  },
});

/** Bytes each side returned, as a short label: "A" / "B" (the file's own or the other's content) or a hash prefix. */
function whose(sha: string, a: string, b: string): string {
  return sha === a ? "A-content" : sha === b ? "B-content" : `other:${sha.slice(0, 12)}`;
}

export const I3a = defineCase({
  id: "I3a",
  name: "forged-fingerprint-same-domain-substitutes",
  groups: ["I", "A"],
  expect:
    "design: inside one domain the fingerprint is trusted (images are signed), so a file forged with another file's fingerprint is served from that file's cache; both mounts then read one coherent content, either A's or B's, in both read orders and after eviction (never a mixture, never a crash). The substitution is recorded as evidence; I3b asserts the boundary",
  concernTag: "unexpected-data",
  concern: "what prevents sneaking unexpected data in: only the domain boundary and fsck --xattr-inode-digest",
  requires: ["page-cache-share"],
  images: ["i3-a", "i3-forged"],
  async run(t) {
    const A = t.file("i3-a", "/a.bin").xxh64!;
    const B = t.file("i3-forged", "/b.bin").xxh64!;
    t.assert("the forged image carries A's fingerprint on B's content", t.file("i3-forged", "/b.bin").fingerprint === t.file("i3-a", "/a.bin").fingerprint, {
      expected: t.file("i3-a", "/a.bin").fingerprint,
      seen: t.file("i3-forged", "/b.bin").fingerprint,
    });
    const evidence: string[] = [];
    const round = async (label: string, first: "a" | "b") => {
      const a = await t.mount("i3-a", { domain: "trusted" });
      const f = await t.mount("i3-forged", { domain: "trusted" });
      const pa = a.path("/a.bin");
      const pb = f.path("/b.bin");
      await dropCaches(t.agent);
      const order = first === "a" ? [pa, pb] : [pb, pa];
      const got = new Map<string, string>();
      for (const p of order) got.set(p, (await t.agent.readHash(p)).xxh64);
      const [fa, fb] = await t.agent.pageFrames([pa, pb]);
      let equal = 0;
      for (let i = 0; i < fa.pfns.length; i++) if (fa.pfns[i] && fa.pfns[i] === fb.pfns[i]) equal++;
      t.measure(`${label}: equal frames A/B`, equal, "pages", { kind: "exact", better: "lower" });
      const sa = got.get(pa)!;
      const sb = got.get(pb)!;
      evidence.push(`${label}: A read ${whose(sa, A, B)}, forged B read ${whose(sb, A, B)}, ${equal}/${fa.pages} equal frames`);
      t.expect(`${label}: A returns one of the two contents`, sa === A || sa === B, { expected: "A- or B-content", seen: whose(sa, A, B) });
      t.expect(`${label}: B returns one of the two contents`, sb === A || sb === B, { expected: "A- or B-content", seen: whose(sb, A, B) });
      t.measure(`${label}: forged B returned A's bytes`, sb === A ? 1 : 0, "count", { kind: "exact", better: "lower" });
      t.measure(`${label}: A returned B's bytes`, sa === B ? 1 : 0, "count", { kind: "exact", better: "lower" });
      // Eviction through the forged file, then read A again: the cache refills through one real inode.
      await t.agent.fadvise(pb, "dontneed");
      const ea = (await t.agent.readHash(pa)).xxh64;
      const eb = (await t.agent.readHash(pb)).xxh64;
      evidence.push(`${label} after DONTNEED via B: A read ${whose(ea, A, B)}, B read ${whose(eb, A, B)}`);
      t.expect(`${label} after eviction: A and B read one coherent content`, ea === eb && (ea === A || ea === B), { expected: "equal, A- or B-content", seen: `${whose(ea, A, B)} / ${whose(eb, A, B)}` });
      t.measure(`${label} after eviction: A returned B's bytes`, ea === B ? 1 : 0, "count", { kind: "exact", better: "lower" });
      await t.umount(f);
      await t.umount(a);
      await dropCaches(t.agent);
    };
    await round("A first", "a");
    await round("B first", "b");
    t.finding(`forged fingerprint inside one domain (trusted by design): ${evidence.join("; ")}`);
  },
});

export const I3b = defineCase({
  id: "I3b",
  name: "forged-fingerprint-other-domain-isolated",
  groups: ["I", "A"],
  expect: "a forged image mounted in another domain than the victim never shares with it: in both read orders each file reads its own bytes and no frame is shared",
  concernTag: "unexpected-data",
  concern: "what prevents sneaking unexpected data in: domain_id is the trust boundary",
  requires: ["page-cache-share"],
  images: ["i3-a", "i3-forged"],
  async run(t) {
    const a = await t.mount("i3-a", { domain: "victim" });
    const f = await t.mount("i3-forged", { domain: "attacker" });
    const A = { path: a.path("/a.bin"), xxh64: t.file("i3-a", "/a.bin").xxh64! };
    const B = { path: f.path("/b.bin"), xxh64: t.file("i3-forged", "/b.bin").xxh64! };
    await expectPair(t, A, B, "separate", "victim first");
    await expectPair(t, B, A, "separate", "forged first");
    await t.agent.fadvise(B.path, "dontneed");
    t.expectEqual("victim after DONTNEED through the forged file", (await t.agent.readHash(A.path)).xxh64, A.xxh64);
  },
});

export const I4 = defineCase({
  id: "I4",
  name: "domain-id-hidden-from-proc",
  groups: ["I", "O"],
  expect: "with inode_share,domain_id=<secret> the secret appears nowhere in /proc/mounts, /proc/self/mountinfo or /proc/self/mountstats; inode_share is shown",
  concernTag: "trust-boundary",
  concern: "trust boundary: the domain_id is a secret shared only by the tenants of a domain",
  requires: ["page-cache-share"],
  images: ["share-a"],
  async run(t) {
    const secret = "s3cret-pcshare-I4";
    const m = await t.mount("share-a", { domain: secret });
    for (const f of ["/proc/mounts", "/proc/self/mountinfo", "/proc/self/mountstats"]) {
      const text = (await t.sh(`cat ${f}`)).stdout;
      const line = text.split("\n").find((l) => l.includes(` ${m.dir} `)) ?? "";
      t.expect(`${f} lists the mount`, line !== "", { seen: line || "(no line)" });
      t.expect(`${f} does not contain the domain_id`, !text.includes(secret), { expected: "absent", seen: line });
      if (f !== "/proc/self/mountstats") t.expect(`${f} shows inode_share`, /(^|[ ,])inode_share([ ,]|$)/.test(line), { expected: "inode_share", seen: line });
    }
  },
});

export const I5 = defineCase({
  id: "I5",
  name: "fsck-inode-digest-flags-forged-image",
  groups: ["I", "A"],
  expect: "fsck.erofs --xattr-inode-digest fails on the image with a forged fingerprint and passes on its unforged base; plain fsck.erofs (no digest check) accepts both",
  concernTag: "unexpected-data",
  concern: "what prevents sneaking unexpected data in: fingerprints are trusted only from verified images",
  hostSteps: "runs fsck.erofs on the host, not in the guest",
  images: ["i3-forged", "i3-b"],
  async run(t) {
    const tools = await erofsTools();
    const fsck = async (image: string, digest: boolean) => {
      const p = t.image(image).imagePath;
      if (!p) throw new Error(`no host path for image ${image}`);
      const r = await execa(tools.fsck[0], [...tools.fsck.slice(1), ...(digest ? ["--xattr-inode-digest"] : []), p], { reject: false, all: true, env: { LC_ALL: "C" } });
      return { code: r.exitCode ?? -1, out: (r.all ?? "").trim().split("\n").slice(-3).join(" / ") };
    };
    const forgedDigest = await fsck("i3-forged", true);
    const forgedPlain = await fsck("i3-forged", false);
    const baseDigest = await fsck("i3-b", true);
    const basePlain = await fsck("i3-b", false);
    t.expect("fsck --xattr-inode-digest rejects the forged image", forgedDigest.code !== 0, { expected: "non-zero exit", seen: `exit ${forgedDigest.code}: ${forgedDigest.out}` });
    t.expect("plain fsck accepts the forged image", forgedPlain.code === 0, { expected: "exit 0", seen: `exit ${forgedPlain.code}: ${forgedPlain.out}` });
    t.expect("fsck --xattr-inode-digest accepts the unforged base", baseDigest.code === 0, { expected: "exit 0", seen: `exit ${baseDigest.code}: ${baseDigest.out}` });
    t.expect("plain fsck accepts the unforged base", basePlain.code === 0, { expected: "exit 0", seen: `exit ${basePlain.code}: ${basePlain.out}` });
    // The guest side: the forged image mounts and reads (the kernel does not verify digests).
    const m = await t.mount("i3-forged");
    t.expectEqual("forged image, plain mount: B reads its own bytes", (await t.agent.readHash(m.path("/b.bin"))).xxh64, t.file("i3-forged", "/b.bin").xxh64);
  },
});

export const I6 = defineCase({
  id: "I6",
  name: "backing-file-removed-or-overwritten",
  groups: ["I", "L"],
  expect:
    "file-backed mounts sharing one domain: after the backing file of A is deleted reads through A and B return the source's bytes; after B's backing file is overwritten in place with zeros reads through B either fail with an errno or return bytes that are not another file's (no other file of A or B leaks through), the kernel never crashes or warns, and unmounting works",
  concernTag: "blob-removal",
  concern: "what happens if the blob gets removed",
  requires: ["page-cache-share"],
  images: ["share-a", "share-b"],
  async run(t) {
    const a = await t.mount("share-a", { domain: "d1", backing: "file" });
    const b = await t.mount("share-b", { domain: "d1", backing: "file" });
    const big = t.file("share-a", PAIR.fileA);
    const onlyA = t.file("share-a", "/data/only-a.bin");
    t.expectEqual("A reads big.bin before removal", (await t.agent.readHash(a.path(big.path))).xxh64, big.xxh64);
    // 1. delete A's backing file while mounted
    await t.sh(`rm -f ${a.source}; [ ! -e ${a.source} ]`);
    await dropCaches(t.agent);
    t.expectEqual("A reads big.bin after its backing file was deleted", (await readOutcome(t, a.path(big.path))).seen, big.xxh64!);
    t.expectEqual("A reads only-a.bin after its backing file was deleted", (await readOutcome(t, a.path(onlyA.path))).seen, onlyA.xxh64!);
    t.expectEqual("B reads the shared copy after A's backing file was deleted", (await readOutcome(t, b.path(PAIR.fileB))).seen, big.xxh64!);
    // 2. overwrite B's backing file in place (same size, zeros), drop caches, read everything through B
    await t.sh(`dd if=/dev/zero of=${b.source} bs=1M count=9 conv=notrunc 2>/dev/null; sync`);
    await dropCaches(t.agent);
    const outcomes: string[] = [];
    const contents = [...t.image("share-a").manifest.files, ...t.image("share-b").manifest.files].filter((x) => x.type === "file" && x.xxh64);
    for (const f of [PAIR.fileB, "/srv/only-b.bin", "/etc/motd", "/small.bin"]) {
      const r = await readOutcome(t, b.path(f));
      outcomes.push(r.kind);
      const own = t.file("share-b", f).xxh64;
      const leaked = r.kind === "bytes" ? contents.find((x) => x.xxh64 === r.seen && x.xxh64 !== own) : undefined;
      t.expect(`B ${f} after overwrite: an errno or bytes that are not another file's`, !leaked, {
        expected: `an errno, its own bytes, or the overwritten device's`,
        seen: leaked ? `the bytes of ${leaked.path}` : `${r.kind}: ${r.seen}`,
      });
    }
    t.measure("reads through B failing after overwrite", outcomes.filter((o) => o !== "bytes").length, "count", { kind: "exact" });
    const ls = await t.sh(`ls -R ${b.dir} >/dev/null 2>&1; echo $?`, { allowFail: true });
    t.expect("guest responds after the overwrite", ls.exitCode === 0, { seen: ls.stderr });
    t.expectEqual("A still reads big.bin after B's blob was overwritten", (await readOutcome(t, a.path(big.path))).seen, big.xxh64!);
    await t.umount(b);
    await t.umount(a);
  },
});
