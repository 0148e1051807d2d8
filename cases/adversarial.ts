// A. Adversarial images: images whose fingerprints were mutated after mkfs (images/adversarial.yaml,
// `derive:` with harness/images/erofs/mutate.ts): size mismatches, empty and oversize values, xxh32
// collisions of the key (a pair and a thousand), an out-of-range ishare prefix id, and fingerprints on
// hardlinks, symlinks and fragments in the packed inode. A correct kernel shares nothing it should not,
// reads every file's own bytes, refuses a broken superblock with its message, and never crashes.
import { defineCase } from "../harness/runner/case.ts";
import { dropCaches } from "../harness/measure/memory.ts";
import { dmesgCount, expectFilesRead, expectPair, expectPairBothOrders, inOrder, ORDERS, PAIR, readOutcome } from "./fixtures.ts";

export const A1 = defineCase({
  id: "A1",
  name: "size-mismatch-fingerprint-not-shared",
  groups: ["A"],
  expect: "two files of different sizes with one fingerprint, whichever is looked up first: the kernel logs \"i_size mismatch ... for the same fingerprint\", does not share them, and each reads its own bytes",
  requires: ["page-cache-share"],
  images: ["a1-size"],
  async run(t) {
    const x = t.file("a1-size", "/x.bin");
    const z = t.file("a1-size", "/z.bin");
    t.assert("the image gives both files one fingerprint", x.fingerprint !== null && x.fingerprint === z.fingerprint, { seen: `${x.fingerprint} / ${z.fingerprint}` });
    const before = await dmesgCount(t, "for the same fingerprint");
    const m = await t.mount("a1-size", { domain: "d1" });
    // From a dropped cache, `first` looked up and read, then `second`: each its own bytes, and the
    // second's pages not in memory after the first's read alone.
    const files = { x: { name: "x.bin", label: "x.bin (1 MiB)", xxh64: x.xxh64! }, z: { name: "z.bin", label: "z.bin (2 MiB)", xxh64: z.xxh64! } };
    const readInOrder = async (o: string, first: typeof files.x, second: typeof files.x) => {
      await dropCaches(t.agent);
      t.expectEqual(`${o}${first.label} reads its own bytes`, (await readOutcome(t, m.path(`/${first.name}`))).seen, first.xxh64);
      const r = await t.agent.mincore(m.path(`/${second.name}`));
      t.expectEqual(`${o}${second.name} not resident after reading ${first.name} only`, r.resident, 0);
      t.expectEqual(`${o}${second.label} reads its own bytes`, (await readOutcome(t, m.path(`/${second.name}`))).seen, second.xxh64);
    };
    await readInOrder("", files.x, files.z);
    const after = await dmesgCount(t, "for the same fingerprint");
    const mism = await dmesgCount(t, "i_size mismatch");
    t.measure("size-mismatch messages", after - before, "count", { kind: "exact" });
    t.expect("kernel logs the i_size mismatch for the same fingerprint", after > before && mism > 0, { expected: "i_size mismatch (... != ...) for the same fingerprint", seen: `${after - before} new line(s)` });
    // The other order: z.bin looked up and read first (drop_caches freed both inodes).
    await readInOrder("z first: ", files.z, files.x);
    const again = await dmesgCount(t, "for the same fingerprint");
    t.measure("size-mismatch messages, z first", again - after, "count", { kind: "exact" });
    t.expect("z first: kernel logs the i_size mismatch for the same fingerprint", again > after, { expected: "i_size mismatch (... != ...) for the same fingerprint", seen: `${again - after} new line(s)` });
  },
});

export const A2 = defineCase({
  id: "A2",
  name: "empty-and-oversize-fingerprints-not-shared",
  groups: ["A"],
  debug: true,
  expect: "two equal-size files whose fingerprint values are empty, longer than a block, or exactly one block long (running past the xattr area) are not shared in one domain, read their own bytes, and nothing crashes",
  requires: ["page-cache-share"],
  images: ["a2-empty", "a2-over", "a2-bsize"],
  async run(t) {
    for (const img of ["a2-empty", "a2-over", "a2-bsize"]) {
      const m = await t.mount(img, { domain: "d1" });
      const x = t.file(img, "/x.bin");
      const y = t.file(img, "/y.bin");
      await expectPairBothOrders(t, { path: m.path("/x.bin"), xxh64: x.xxh64! }, { path: m.path("/y.bin"), xxh64: y.xxh64! }, "separate", img);
      t.expectEqual(`${img}: an untouched file still reads`, (await readOutcome(t, m.path("/z.bin"))).seen, t.file(img, "/z.bin").xxh64);
      const xa = await t.sh(`getfattr -d -m - ${m.path("/x.bin")} 2>&1 || true; ls -l ${m.path("/x.bin")}`, { allowFail: true });
      t.expect(`${img}: the guest still answers after xattr access`, xa.exitCode === 0, { seen: xa.stderr });
      await t.umount(m);
    }
  },
});

export const A3 = defineCase({
  id: "A3",
  name: "colliding-key-hash-pair-separate",
  groups: ["A"],
  expect: "two files with different fingerprints whose keys (\"d1\" NUL value) have the same xxh32 hash stay separate in domain d1 (the full key is compared): no shared frames, each reads its own bytes",
  requires: ["page-cache-share"],
  images: ["a3-collide"],
  async run(t) {
    const img = t.image("a3-collide");
    const p = t.file("a3-collide", "/pair/p.bin");
    const q = t.file("a3-collide", "/pair/q.bin");
    t.assert("the pair has different fingerprints", p.fingerprint !== q.fingerprint && !!p.fingerprint && !!q.fingerprint, { seen: `${p.fingerprint} / ${q.fingerprint}` });
    t.expect("manifest records the collision for domain d1", img.manifest.mutation?.args.domainId === "d1", { seen: JSON.stringify(img.manifest.mutation?.args) });
    const m = await t.mount("a3-collide", { domain: "d1" });
    await expectPair(t, { path: m.path("/pair/p.bin"), xxh64: p.xxh64! }, { path: m.path("/pair/q.bin"), xxh64: q.xxh64! }, "separate", "p then q");
    await expectPair(t, { path: m.path("/pair/q.bin"), xxh64: q.xxh64! }, { path: m.path("/pair/p.bin"), xxh64: p.xxh64! }, "separate", "q then p");
  },
});

export const A4 = defineCase({
  id: "A4",
  name: "thousand-colliding-fingerprints-stay-fast",
  groups: ["A", "V"],
  debug: true,
  timeoutMs: 120_000,
  expect:
    "1000 small files whose fingerprint keys all have one xxh32 hash (domain d1) all read their own bytes, and looking up and reading them all takes at most 3x (+1 s) the time for the same tree without collisions; no soft lockup",
  requires: ["page-cache-share"],
  images: ["a4-many", "a4-collide"],
  async run(t) {
    const readAll = async (img: string) => {
      const m = await t.mount(img, { domain: "d1" });
      await dropCaches(t.agent);
      const { ms } = await expectFilesRead(t, m, img);
      t.measure(`${img}: lookup+read of all files`, ms, "ms");
      await t.umount(m);
      return { ms };
    };
    const collided = t.image("a4-collide").manifest.mutation?.changed.length ?? 0;
    t.measure("files with a colliding fingerprint", collided, "count", { kind: "exact" });
    t.assert("the collided image has 1000 crafted fingerprints", collided === 1000, { expected: 1000, seen: collided });
    const plain = await readAll("a4-many");
    const coll = await readAll("a4-collide");
    t.measure("slowdown with collisions", Math.round((coll.ms / Math.max(1, plain.ms)) * 100), "%", { kind: "noisy", better: "lower" });
    t.expect("lookup+read with 1000 colliding keys at most 3x (+1 s) the plain time", coll.ms <= 3 * plain.ms + 1000, { expected: `<= ${3 * plain.ms + 1000} ms`, seen: `${coll.ms} ms (plain ${plain.ms} ms)` });
  },
});

export const A5 = defineCase({
  id: "A5",
  name: "invalid-ishare-prefix-id-refused",
  groups: ["A", "O"],
  expect: "an image with the ishare_xattrs compat bit and a prefix id >= the prefix count (or no prefixes at all) fails to mount with \"invalid ishare xattr prefix id\", with and without inode_share",
  requires: ["page-cache-share"],
  images: ["a5-bad-id", "a5-no-prefix"],
  async run(t) {
    for (const img of ["a5-bad-id", "a5-no-prefix"]) {
      for (const domain of [false, "d1"] as const) {
        const label = `${img} ${domain ? "inode_share,domain_id=d1" : "plain"}`;
        const before = await dmesgCount(t, "invalid ishare xattr prefix id");
        const r = await t.tryMount(img, { domain });
        const after = await dmesgCount(t, "invalid ishare xattr prefix id");
        t.expect(`${label}: mount fails`, r !== "ok", { expected: "an errno (EFSCORRUPTED = EUCLEAN)", seen: r });
        t.expect(`${label}: kernel logs the invalid prefix id`, after > before, { expected: "invalid ishare xattr prefix id", seen: `${after - before} new line(s)` });
      }
    }
  },
});

export const A6 = defineCase({
  id: "A6",
  name: "fingerprints-on-links-and-fragments",
  groups: ["A", "D"],
  debug: true,
  expect:
    "hardlinks, symlinks (also dangling) and files stored as fragments in the packed inode (lz4hc, -Eall-fragments) read the source's bytes through every name in two sharing mounts, whichever mount's names are read first; nothing crashes",
  requires: ["page-cache-share"],
  images: ["a6-frag-a", "a6-frag-b", "share-a", "share-b"],
  async run(t) {
    const fa = await t.mount("a6-frag-a", { domain: "d1" });
    const fb = await t.mount("a6-frag-b", { domain: "d1" });
    const tt = t.file("a6-frag-a", "/data/t.txt").xxh64!;
    const rr = t.file("a6-frag-a", "/data/r.bin").xxh64!;
    const readsA: [string, string][] = [[fa.path("/data/t.txt"), tt], [fa.path("/hl-t"), tt], [fa.path("/sl-t"), tt], [fa.path("/data/r.bin"), rr]];
    const readsB: [string, string][] = [[fb.path("/other/t-copy.txt"), tt], [fb.path("/other/r-copy.bin"), rr], [fb.path("/other/hl-r"), rr]];
    // Both orders, each from drop_caches (which frees the unused inodes): A's names read (and so
    // instantiated) first, then B's names first.
    for (const o of ORDERS) {
      await dropCaches(t.agent);
      for (const [p, want] of inOrder(o, readsA, readsB).flat()) t.expectEqual(`${o.check}${p} reads the source's bytes`, (await readOutcome(t, p)).seen, want);
      // Sharing of fragment files between the two images is recorded, not required (data correctness is).
      const [x, y] = await t.agent.pageFrames(inOrder(o, fa.path("/hl-t"), fb.path("/other/t-copy.txt")));
      let eq = 0;
      for (let i = 0; i < x.pfns.length; i++) if (x.pfns[i] && x.pfns[i] === y.pfns[i]) eq++;
      t.measure(`fragment file: equal frames via hardlink (A) and copy (B)${o.check ? ", B first" : ""}`, eq, "pages", { kind: "exact" });
    }
    // One mount's symlink on its own (no second object): fails cleanly.
    const dangling = await readOutcome(t, fa.path("/sl-dangling"));
    t.expectEqual("dangling symlink fails cleanly", dangling.seen, "ENOENT");
    const target = await t.sh(`readlink ${fa.path("/sl-dangling")}`);
    t.expectEqual("dangling symlink target", target.stdout.trim(), "/nowhere/at/all");
    // Uncompressed images: a hardlink and a symlink to the shared file read it correctly; the hardlink's
    // frames are the shared ones. Both orders: through A's links first (B's copy then resident), then
    // B's copy first (A's hardlink then resident).
    const a = await t.mount("share-a", { domain: "d1" });
    const b = await t.mount("share-b", { domain: "d1" });
    const big = t.file("share-a", PAIR.fileA).xxh64!;
    const readLinks = async (o: string) => {
      t.expectEqual(`${o}share-a /big-link (hardlink) reads the source`, (await readOutcome(t, a.path("/big-link"))).seen, big);
      t.expectEqual(`${o}share-a /big-sym (symlink) reads the source`, (await readOutcome(t, a.path("/big-sym"))).seen, big);
    };
    const readCopy = async (o: string) => t.expectEqual(`${o}share-b copy reads the source`, (await readOutcome(t, b.path(PAIR.fileB))).seen, big);
    for (const o of ORDERS) {
      await dropCaches(t.agent);
      if (o.first === "A") await readLinks(o.check);
      else await readCopy(o.check);
      const other = o.first === "A" ? { p: b.path(PAIR.fileB), name: "B's copy resident after reading through A's hardlink (shared)" } : { p: a.path("/big-link"), name: "A's hardlink resident after reading B's copy (shared)" };
      const res = await t.agent.mincore(other.p);
      t.expect(`${o.check}${other.name}`, res.resident === res.pages, { expected: res.pages, seen: res.resident });
      if (o.first === "A") await readCopy(o.check);
      else await readLinks(o.check);
    }
  },
});
