// D. Data integrity and layouts: every byte read through a sharing mount equals the source, for a
// mixed corpus, sub-page block sizes, inline tails, holes, chunked and multi-device files, every
// compressor and tar-built images; which backend/compression pairs share; a private mapping's
// writes never reach the shared page cache. Images: images/integrity.yaml (corpus, "-b" twins of
// images/layouts.yaml) and images/basic.yaml.
import { defineCase } from "../harness/runner/case.ts";
import type { CaseContext, Mounted } from "../harness/runner/context.ts";
import { AgentError } from "../harness/guest/agent-client.ts";
import { createHash } from "node:crypto";
import { dropCaches } from "../harness/measure/memory.ts";
import { probeSharing } from "../harness/measure/sharing.ts";
import { commonFile } from "./fixtures.ts";
import { LAYOUT_IDS, LAYOUT_IMAGES, layout } from "./layouts.ts";

/** Every non-empty regular file of image `a` with a file of the same content (sha256) in image `b`, with its XXH64. */
function twinFiles(t: CaseContext, a: string, b: string): { pathA: string; pathB: string; xxh64: string; size: number }[] {
  const inB = new Map<string, string>();
  for (const f of t.image(b).manifest.files) if (f.type === "file" && f.sha256 && f.size > 0 && !inB.has(f.sha256)) inB.set(f.sha256, f.path);
  return t
    .image(a)
    .manifest.files.filter((f) => f.type === "file" && f.sha256 && f.size > 0 && inB.has(f.sha256))
    .map((f) => ({ pathA: f.path, pathB: inB.get(f.sha256!)!, xxh64: f.xxh64!, size: f.size }));
}

/** XXH64 of each guest path read with read(2) (requests pipelined in batches; the agent answers in order). */
async function hashAll(t: CaseContext, paths: string[], blockSize?: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < paths.length; i += 32) {
    const batch = paths.slice(i, i + 32).map((p) => t.agent.readHash(p, blockSize ? { blockSize } : {}));
    for (const r of await Promise.all(batch)) out.push(r.xxh64);
  }
  return out;
}

/** Paths (first few) whose hash differs from the expected one: [] when all are right. */
function wrong(paths: string[], seen: string[], expected: string[]): string[] {
  return paths.filter((_, i) => seen[i] !== expected[i]).slice(0, 5);
}

/**
 * D2 and D5 run half of the layout matrix each per run, complementary windows rotated by the run's
 * variant seed: every layout runs in every run (its bytes in both read orders), each case covers
 * the whole matrix over two consecutive seeds, and --all-variants runs it all in both.
 */
const LAYOUT_WINDOW = Math.ceil(LAYOUT_IDS.length / 2);

// ---- D1 ----

export const D1 = defineCase({
  id: "D1",
  name: "mixed-corpus-bytes-equal-source-with-and-without-sharing",
  groups: ["D"],
  expect:
    "every file of a ~200-file corpus (1 B to 1 MiB, inline tails, 4 KiB-aligned, holes, zeros) read with read(2) through A and through B has the source's bytes, with inode_share on (in both read orders: the other side's copies already resident after reading one) and off",
  requires: ["page-cache-share"],
  images: ["corpus-a", "corpus-b"],
  timeoutMs: 120_000,
  async run(t) {
    const twins = twinFiles(t, "corpus-a", "corpus-b");
    const all = t.image("corpus-a").manifest.files.filter((f) => f.type === "file" && f.size > 0);
    t.assertEqual("every corpus file of A has its twin in B", twins.length, all.length);
    t.measure("corpus_files", twins.length, "count", { kind: "exact" });
    t.measure("corpus_bytes", twins.reduce((s, f) => s + f.size, 0), "B", { kind: "exact" });
    const large = twins.filter((f) => f.size >= 64 * 1024);
    // Sharing mounts in both read orders (the side read first instantiates the shared inodes), plain once.
    for (const [mode, first] of [["shared", "A"], ["shared", "B"], ["plain", "A"]] as const) {
      const a = await t.mount("corpus-a", { domain: mode === "shared" ? "d1" : false });
      const b = await t.mount("corpus-b", { domain: mode === "shared" ? "d1" : false });
      const sides = { A: { m: a, rel: twins.map((f) => f.pathA) }, B: { m: b, rel: twins.map((f) => f.pathB) } };
      const [x, y] = first === "A" ? [sides.A, sides.B] : [sides.B, sides.A];
      const other = first === "A" ? "B" : "A";
      // The A-first rounds keep the names their figures and checks always had.
      const label = first === "A" ? mode : `${mode}, B first`;
      await dropCaches(t.agent);
      const t0 = Date.now();
      const hx = await hashAll(t, x.rel.map((p) => x.m.path(p)));
      // Sharing in effect (or not): how much of the other side's larger files is resident after reading one side only.
      let resident = 0;
      let pages = 0;
      for (const f of large) {
        const r = await t.agent.mincore(first === "A" ? b.path(f.pathB) : a.path(f.pathA));
        resident += r.resident;
        pages += r.pages;
      }
      const hy = await hashAll(t, y.rel.map((p) => y.m.path(p)));
      const series = first === "A" ? mode : `${mode} B first`;
      t.measure("read_both_ms", Date.now() - t0, "ms", { series });
      t.measure(first === "A" ? "b_resident_after_reading_a" : "a_resident_after_reading_b", resident, "pages", { series, kind: "exact" });
      t.measure("b_pages_checked", pages, "pages", { series, kind: "exact" });
      const expected = twins.map((f) => f.xxh64);
      t.expectEqual(`${label}: files read through ${first} with bytes other than the source's`, wrong(x.rel, hx, expected), []);
      t.expectEqual(`${label}: files read through ${other} with bytes other than the source's`, wrong(y.rel, hy, expected), []);
      if (mode === "shared") {
        t.expect(`${label}: ${other}'s files >= 64 KiB resident after reading ${first} only (sharing in effect)`, resident >= 0.95 * pages, { expected: `>= 95% of ${pages}`, seen: resident });
      } else {
        t.expect("plain: B's files not resident after reading A only", resident <= 0.05 * pages, { expected: `<= 5% of ${pages}`, seen: resident });
      }
      await t.umount(a);
      await t.umount(b);
    }
  },
});

// ---- D2 ----

/** Files whose holes SEEK_DATA/SEEK_HOLE may report. */
const HOLEY: [string, string][] = [
  ["sparse", "/holes.bin"],
  ["sparse", "/pattern.bin"],
  ["sparse", "/zeros.bin"],
  ["sparse-lz4", "/holes.bin"],
  ["sparse-lz4", "/zeros.bin"],
  ["chunked", "/chunked-sparse.bin"],
];

/** Data extents [start, end) as SEEK_DATA/SEEK_HOLE report them (at most 64). */
async function dataExtents(t: CaseContext, p: string, size: number): Promise<[number, number][]> {
  const out: [number, number][] = [];
  let off = 0;
  while (off < size && out.length < 64) {
    let d: number;
    try {
      d = await t.agent.lseek(p, "data", off);
    } catch (err) {
      if (err instanceof AgentError && err.errname === "ENXIO") break;
      throw err;
    }
    const h = await t.agent.lseek(p, "hole", d);
    out.push([d, h]);
    if (h <= off) break;
    off = h;
  }
  return out;
}

export const D2 = defineCase({
  id: "D2",
  name: "sub-page-blocks-tails-holes-chunks-read-correctly-shared",
  groups: ["D"],
  expect:
    "with inode_share on, the files of every layout of the matrix (block sizes 512 to 4096 plain and lz4, inline tails, holes, chunked, multi-device, every compressor, big pclusters, tar-built) read back the source's bytes through both mounts, at odd read sizes and after eviction, in both read orders; SEEK_DATA/SEEK_HOLE extents are recorded (shared vs plain)",
  concernTag: "sub-page-blocks",
  concern: "suspected wrong data for sub-page blocks",
  requires: ["page-cache-share", "compression"],
  images: LAYOUT_IMAGES,
  variants: LAYOUT_IDS,
  variantsPerRun: LAYOUT_WINDOW,
  debug: true,
  timeoutMs: 240_000,
  async run(t) {
    let seekSupported = true;
    const sharedExtents = new Map<string, [number, number][]>();
    for (const { a: ia, b: ib } of t.variants.map(layout)) {
      const a = await t.mount(ia, { domain: "d2" });
      const b = await t.mount(ib, { domain: "d2" });
      await dropCaches(t.agent);
      const twins = twinFiles(t, ia, ib);
      t.assert(`${ia}: has twin files in ${ib}`, twins.length > 0, { expected: "> 0", seen: twins.length });
      const side = (m: Mounted, img: string, at: (f: (typeof twins)[number]) => string) => ({ m, img, at });
      const A = side(a, ia, (f) => f.pathA);
      const B = side(b, ib, (f) => f.pathB);
      for (const [first, second] of [[A, B], [B, A]]) {
        // Read order: the first side instantiates the shared inode (drop_caches freed the previous one).
        await dropCaches(t.agent);
        const bad: string[] = [];
        let resident = 0;
        let pages = 0;
        for (const f of twins) {
          const p1 = first.m.path(first.at(f));
          const p2 = second.m.path(second.at(f));
          const h1 = (await t.agent.readHash(p1)).xxh64; // fills the shared cache through the first side
          const r = await t.agent.mincore(p2);
          resident += r.resident;
          pages += r.pages;
          const h2 = (await t.agent.readHash(p2, { blockSize: 1000 })).xxh64; // from the cache, unaligned reads
          await t.agent.fadvise(p2, "dontneed");
          const h3 = (await t.agent.readHash(p2, { blockSize: 512 })).xxh64; // re-read from the device, sub-page reads
          const h4 = (await t.agent.readHash(p1, { blockSize: 3000 })).xxh64;
          const n1 = `${first.img}:${first.at(f)}`;
          const n2 = `${second.img}:${second.at(f)}`;
          const reads = [n1, `${n2} (1000 B reads)`, `${n2} (after DONTNEED, 512 B reads)`, `${n1} (3000 B reads)`];
          [h1, h2, h3, h4].forEach((h, i) => h !== f.xxh64 && bad.push(reads[i]));
        }
        // The A-first check keeps the name it has always had (known-bugs/ signatures name it).
        const order = first === A ? "(A, B unaligned, B after DONTNEED, A again)" : "in the other order (B, A unaligned, A after DONTNEED, B again)";
        t.expectEqual(`${ia}/${ib}: reads ${order} with bytes other than the source's`, bad.slice(0, 6), []);
        const name = first === A ? "b_resident_after_reading_a" : "a_resident_after_reading_b";
        t.measure(name, pages ? Math.round((100 * resident) / pages) : 0, "%", { series: ia, kind: "exact" });
      }
      for (const [img, p] of HOLEY) {
        if (img !== ia || !seekSupported) continue;
        try {
          sharedExtents.set(`${img}:${p}`, await dataExtents(t, a.path(p), t.file(img, p).size));
        } catch (err) {
          if (err instanceof AgentError && err.code === "remote" && /unknown op/i.test(err.message)) seekSupported = false;
          else throw err;
        }
      }
      await t.umount(a);
      await t.umount(b);
    }
    if (!seekSupported) {
      t.finding("SEEK_DATA/SEEK_HOLE not probed: the guest agent has no lseek op");
      return;
    }
    // The same files through plain mounts: the reference for what the filesystem itself reports.
    const ran = new Set(t.variants.map((v) => layout(v).a));
    for (const img of [...new Set(HOLEY.map(([i]) => i))].filter((i) => ran.has(i))) {
      const m = await t.mount(img);
      for (const [i, p] of HOLEY.filter(([x]) => x === img)) {
        const size = t.file(i, p).size;
        const plain = await dataExtents(t, m.path(p), size);
        const shared = sharedExtents.get(`${i}:${p}`) ?? [];
        for (const [series, ext] of [["shared", shared], ["plain", plain]] as const) {
          t.measure(`seek_data_extents ${i}:${p}`, ext.length, "count", { series, kind: "exact" });
          t.measure(`seek_data_bytes ${i}:${p}`, ext.reduce((s, [d, h]) => s + h - d, 0), "B", { series, kind: "exact" });
          const sane = ext.every(([d, h], k) => d >= 0 && h > d && h <= size && (k === 0 || d >= ext[k - 1][1]));
          t.expect(`${series}: ${i}:${p} SEEK_DATA/SEEK_HOLE extents lie within the file, in order`, sane, { seen: JSON.stringify(ext) });
        }
        if (JSON.stringify(plain) !== JSON.stringify(shared)) {
          t.finding(`SEEK_DATA/SEEK_HOLE differ for ${i}:${p}: plain mount reports data ${JSON.stringify(plain)}, sharing mount ${JSON.stringify(shared)} (size ${size})`);
        }
      }
      await t.umount(m);
    }
  },
});

// ---- D3 ----

export const D3 = defineCase({
  id: "D3",
  name: "sharing-across-backends-follows-address-space-ops",
  groups: ["D"],
  expect:
    "one content mounted as plain bdev, lz4 bdev, plain file-backed and lz4 file-backed in one domain: plain bdev and plain file-backed do not share (different address_space ops), lz4 bdev and lz4 file-backed share, whichever is read first; every read returns the source's bytes",
  requires: ["page-cache-share", "file-backed", "compression"],
  images: ["z-none", "z-lz4"],
  timeoutMs: 120_000,
  async run(t) {
    const file = { "z-none": "/t/text.txt", "z-lz4": "/text.txt" } as const;
    t.assertEqual("the lz4 image stores the file compressed", t.file("z-lz4", file["z-lz4"]).layout?.startsWith("compressed"), true);
    const want = t.file("z-lz4", file["z-lz4"]).xxh64;
    const mounts: Record<string, { m: Mounted; p: string }> = {};
    for (const [name, img, backing] of [
      ["plain-bdev", "z-none", "bdev"],
      ["plain-file", "z-none", "file"],
      ["lz4-bdev", "z-lz4", "bdev"],
      ["lz4-file", "z-lz4", "file"],
    ] as const) {
      const m = await t.mount(img, { domain: "d3", backing });
      mounts[name] = { m, p: m.path(file[img]) };
    }
    const expected: Record<string, "shared" | "separate"> = {
      "plain-bdev|plain-file": "separate",
      "plain-file|plain-bdev": "separate",
      "lz4-bdev|lz4-file": "shared",
      "lz4-file|lz4-bdev": "shared",
    };
    const names = Object.keys(mounts);
    // Every ordered pair: each of two mounts is read (instantiated) first once.
    for (let i = 0; i < names.length; i++) {
      for (let j = 0; j < names.length; j++) {
        if (i === j) continue;
        const key = `${names[i]}|${names[j]}`;
        const probe = await probeSharing(t.agent, mounts[names[i]].p, mounts[names[j]].p);
        t.measure("equal_frames", probe.equalFrames, "pages", { series: key, kind: "exact" });
        t.measure("resident_b_after_reading_a", probe.residentBAfterA, "pages", { series: key, kind: "exact" });
        t.expectEqual(`${key}: bytes through ${names[i]}`, probe.xxh64A, want);
        t.expectEqual(`${key}: bytes through ${names[j]}`, probe.xxh64B, want);
        if (expected[key]) t.expect(`${key}: sharing verdict is ${expected[key]}`, probe.verdict === expected[key], { expected: expected[key], seen: probe.summary });
        else t.finding(`${names[i]} vs ${names[j]} (same fingerprint, different address_space ops): ${probe.summary}`);
      }
    }
  },
});

// ---- D4 ----

export const D4 = defineCase({
  id: "D4",
  name: "private-mapping-write-leaves-shared-cache-unchanged",
  groups: ["D"],
  expect:
    "a write into a MAP_PRIVATE mapping of a shared file through A (copy-on-write) changes only that mapping: B's and A's read(2) and B's mapping return the source's bytes, before and after eviction; the same with the roles of A and B swapped",
  requires: ["page-cache-share"],
  images: ["share-a", "share-b"],
  async run(t) {
    const a = await t.mount("share-a", { domain: "d1" });
    const b = await t.mount("share-b", { domain: "d1" });
    const f = commonFile(t, "share-a", "share-b");
    // Both orders: A's file mapped privately and written while B reads, then B's while A reads.
    for (const [X, Y, px, py] of [["A", "B", a.path(f.pathA), b.path(f.pathB)], ["B", "A", b.path(f.pathB), a.path(f.pathA)]] as const) {
      const o = X === "A" ? "" : "B written: "; // the A-written checks keep their names
      await dropCaches(t.agent);
      await t.agent.readHash(px);
      // A helper maps X's file MAP_PRIVATE, reads every page (sharing the file's frames), then writes
      // one page: a copy-on-write fault gives that page a private frame for this mapping only.
      const page = 2;
      const [fy0] = await t.agent.pageFrames([py]);
      const before = fy0.pfns[page];
      const pid = await t.agent.mapHold(px, { private: true, writePage: page, maxMs: 30_000 });
      try {
        const [map] = await t.agent.procFrames(pid, px);
        t.assert(`${o}the helper maps ${X}'s file`, map !== undefined && map.start > 0, { seen: map });
        const at = map.start / 4096 + page;
        const back = await t.sh(`dd if=/proc/${pid}/mem bs=4096 skip=${at} count=1 2>/dev/null | sha256sum`, { allowFail: true });
        const pattern = createHash("sha256").update(Buffer.alloc(4096, 0xa5)).digest("hex");
        t.expectEqual(`${o}the private mapping holds the written bytes`, back.stdout.trim().split(/\s+/)[0], pattern);
        const [after] = await t.agent.procFrames(pid, px);
        const [fy] = await t.agent.pageFrames([py]);
        t.expect(`${o}the written page left the shared frame (copy-on-write)`, after.pfns[page] !== before && after.pfns[page] !== fy.pfns[page], {
          expected: `a frame other than ${before}`,
          seen: after.pfns[page],
        });
        t.expect(`${o}the other pages of the private mapping still use the shared frames`, after.pfns[page + 1] === fy.pfns[page + 1], {
          expected: fy.pfns[page + 1],
          seen: after.pfns[page + 1],
        });
        t.expectEqual(`${o}${Y} reads the source's bytes after the private write`, (await t.agent.readHash(py)).xxh64, f.xxh64);
        t.expectEqual(`${o}${X} reads the source's bytes after the private write`, (await t.agent.readHash(px)).xxh64, f.xxh64);
        await t.agent.fadvise(py, "dontneed");
        t.expectEqual(`${o}${Y} reads the source's bytes after eviction`, (await t.agent.readHash(py)).xxh64, f.xxh64);
      } finally {
        await t.agent.procKill(pid);
      }
      t.expectEqual(`${o}${X} reads the source's bytes after the mapping is gone`, (await t.agent.readHash(px)).xxh64, f.xxh64);
    }
  },
});

// ---- D5 ----


export const D5 = defineCase({
  id: "D5",
  name: "every-compressor-and-layout-shares-and-reads-correctly",
  groups: ["D"],
  expect:
    "for every layout of the matrix (block sizes 512 to 4096 plain and lz4, inline tails, holes, chunked, multi-device with device=, lz4, lz4hc, lzma, deflate, libdeflate, zstd -E48bit, big pclusters, tar-built), the twin files of two images in one domain share one page cache whichever side is read first, and every file reads back the source's bytes through both, also after eviction",
  requires: ["page-cache-share", "compression"],
  images: LAYOUT_IMAGES,
  variants: LAYOUT_IDS,
  variantsPerRun: LAYOUT_WINDOW,
  variantOffset: LAYOUT_WINDOW,
  timeoutMs: 240_000,
  async run(t) {
    for (const { id: label, a: ia, b: ib } of t.variants.map(layout)) {
      const a = await t.mount(ia, { domain: `d5-${label}` });
      const b = await t.mount(ib, { domain: `d5-${label}` });
      const f = commonFile(t, ia, ib);
      const pa = a.path(f.pathA);
      const pb = b.path(f.pathB);
      // The A-first probe and reads keep the names they had before both orders ran.
      for (const [p1, p2, order] of [[pa, pb, ""], [pb, pa, ", B first"]] as const) {
        const probe = await probeSharing(t.agent, p1, p2);
        const series = `${label}${order ? " B first" : ""}`;
        t.measure("pages", probe.pages, "pages", { series, kind: "exact" });
        t.measure("equal_frames", probe.equalFrames, "pages", { series, kind: "exact" });
        t.measure("resident_b_after_reading_a", probe.residentBAfterA, "pages", { series, kind: "exact" });
        t.measure("cached_growth_read_a", probe.cachedGrowthA, "B", { series, kind: "noisy" });
        t.measure("cached_growth_read_b", probe.cachedGrowthB, "B", { series, kind: "noisy" });
        t.expect(`${label}: ${f.pathA} shared between ${ia} and ${ib}${order}`, probe.verdict === "shared", { expected: "shared", seen: probe.summary });
        t.expectEqual(`${label}${order}: ${ia}:${f.pathA} reads the source's bytes`, p1 === pa ? probe.xxh64A : probe.xxh64B, f.xxh64);
        t.expectEqual(`${label}${order}: ${ib}:${f.pathB} reads the source's bytes`, p1 === pa ? probe.xxh64B : probe.xxh64A, f.xxh64);
      }
      const twins = twinFiles(t, ia, ib);
      const expected = twins.map((x) => x.xxh64);
      const at = { [ia]: twins.map((x) => a.path(x.pathA)), [ib]: twins.map((x) => b.path(x.pathB)) };
      const rel = { [ia]: twins.map((x) => x.pathA), [ib]: twins.map((x) => x.pathB) };
      for (const [first, second] of [[ia, ib], [ib, ia]]) {
        await dropCaches(t.agent);
        const h1 = await hashAll(t, at[first]);
        const h2 = await hashAll(t, at[second]);
        await t.agent.fadvise(first === ia ? pa : pb, "dontneed");
        const h3 = await hashAll(t, at[second], 4096);
        const o = first === ia ? label : `${label}, ${first} read first`;
        t.expectEqual(`${o}: files through ${first} with bytes other than the source's`, wrong(rel[first], h1, expected), []);
        t.expectEqual(`${o}: files through ${second} with bytes other than the source's`, wrong(rel[second], h2, expected), []);
        t.expectEqual(`${o}: files through ${second} after eviction${first === ia ? "" : ` through ${first}`}, with bytes other than the source's`, wrong(rel[second], h3, expected), []);
      }
      await t.umount(a);
      await t.umount(b);
    }
  },
});
