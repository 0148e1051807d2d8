// V. Stacking and scale: sharing survives overlayfs stacked on the erofs mounts (the container
// layout), stays one frame set per fingerprint while 64 mounts are read in parallel and churned, and
// what inode_share costs for mounting and looking up 10k files.
import { defineCase } from "../harness/runner/case.ts";
import type { CaseContext, Mounted } from "../harness/runner/context.ts";
import { probeSharing } from "../harness/measure/sharing.ts";
import { dropCaches } from "../harness/measure/memory.ts";
import { commonFile } from "./fixtures.ts";
import { FileMounts } from "./memory.ts";
import { CONTROL_BUDGET_MS, CONTROL_CYCLES, CONTROL_LOOP, RACE_BUDGET_MS, RACE_READERS, raceAndCheck } from "./race-helpers.ts";
import type { Requirement } from "../harness/runner/case.ts";

export const V1 = defineCase({
  id: "V1",
  name: "sharing-kept-through-overlayfs",
  groups: ["V"],
  debug: true,
  expect:
    "two overlayfs mounts (tmpfs upper, erofs lower), one over each of two sharing erofs mounts, serve the common file from one set of page frames, whichever overlay is read first, and read the source's bytes",
  requires: ["page-cache-share", "overlay"],
  images: ["share-a", "share-b"],
  async run(t) {
    const f = commonFile(t, "share-a", "share-b");
    const a = await t.mount("share-a", { domain: "d1" });
    const b = await t.mount("share-b", { domain: "d1" });
    const ovl = ["/mnt/v1-ovl-a", "/mnt/v1-ovl-b"];
    await t.sh(
      "mkdir -p /tmp/v1 && mount -t tmpfs tmpfs /tmp/v1 && mkdir -p /tmp/v1/ua /tmp/v1/wa /tmp/v1/ub /tmp/v1/wb " + ovl.join(" "),
    );
    try {
      await t.agent.mount({ source: "overlay", target: ovl[0], fstype: "overlay", data: `lowerdir=${a.dir},upperdir=/tmp/v1/ua,workdir=/tmp/v1/wa` });
      await t.agent.mount({ source: "overlay", target: ovl[1], fstype: "overlay", data: `lowerdir=${b.dir},upperdir=/tmp/v1/ub,workdir=/tmp/v1/wb` });
      const oa = `${ovl[0]}${f.pathA}`;
      const ob = `${ovl[1]}${f.pathB}`;
      for (const [p1, p2, order] of [[oa, ob, "A first"], [ob, oa, "B first"]] as const) {
        const probe = await probeSharing(t.agent, p1, p2, order === "A first" ? "overlay" : "overlay B first");
        for (const m of probe.measurements) t.measure(m.name, m.value, m.unit, m);
        const [ha, hb] = order === "A first" ? [probe.xxh64A, probe.xxh64B] : [probe.xxh64B, probe.xxh64A];
        t.expectEqual(`${order}: bytes read through overlay A equal the source`, ha, f.xxh64);
        t.expectEqual(`${order}: bytes read through overlay B equal the source`, hb, f.xxh64);
        t.expect(`${order}: sharing verdict through the overlays is shared`, probe.verdict === "shared", { expected: "shared", seen: probe.summary });
      }
      // The overlay maps the lower file itself: its frames are the erofs mount's frames.
      const [fo, fd] = await t.agent.pageFrames([oa, b.path(f.pathB)]);
      const equal = fo.pfns.filter((p, i) => p !== null && p !== 0 && p === fd.pfns[i]).length;
      t.measure("equal_frames_overlay_a_vs_erofs_b", equal, "pages", { kind: "exact" });
      t.expectEqual("overlay A's frames equal erofs B's frames", equal, fo.pages);
    } finally {
      await t.sh(`umount ${ovl[1]}; umount ${ovl[0]}; umount /tmp/v1`, { allowFail: true });
    }
  },
});

const V2_IMAGE = "scale-same-2m";
const V2_MOUNTS = 64;
/** V2n's readers read only through these first mounts, which are never churned. */
const V2_STABLE = 8;
const V2_SEED = 0x5eed2;

interface ChurnLoop {
  /** Control: plain mounts (no inode_share). */
  plain?: boolean;
  /** Control: churned mounts are not looked up, readers read only through never-churned mounts. */
  noLookup?: boolean;
}

/**
 * 64 file-backed mounts of one image; reader threads read f.bin through them (and drop the shared
 * page cache after each read) while the guest agent, in a tight loop (remount_race), lazily unmounts
 * the mount whose f.bin was looked up last (its inode serves the shared I/O), mounts it again, and
 * looks up and reads f.bin through a mount picked at random (whose inode then serves the I/O).
 * Then: one frame set per fingerprint across all 64 mounts.
 */
async function churnUnderReaders(t: CaseContext, o: ChurnLoop): Promise<void> {
  const f = t.file(V2_IMAGE, "/f.bin");
  const dirOf = (i: number) => `/mnt/v2-${String(i).padStart(2, "0")}`;
  const data = o.plain ? "" : "inode_share,domain_id=v2";
  const fm = await FileMounts.of(t, V2_IMAGE);
  const all = Array.from({ length: V2_MOUNTS }, (_, i) => i);
  try {
    for (const i of all) await fm.mount(dirOf(i), data);
    const churned = o.noLookup ? all.slice(V2_STABLE) : all;
    const read = o.noLookup ? all.slice(0, V2_STABLE) : all;
    await raceAndCheck(t, {
      mounts: churned.map((i) => ({ source: fm.source, target: dirOf(i), data })),
      mounted: true,
      umount_flags: ["detach"],
      read_paths: read.map((i) => `${dirOf(i)}/f.bin`),
      xxh64: f.xxh64!,
      ...(!o.noLookup && { lookup: "/f.bin" }),
      seed: V2_SEED,
      ...((o.plain || o.noLookup) && CONTROL_LOOP),
    });
    t.measure("churn_seed", V2_SEED, "count", { kind: "exact" });
    await checkFrames(t, all.map(dirOf), !o.plain);
  } finally {
    await fm.umountAll();
  }
}

/** Bytes through two mounts, then f.bin and g.bin each one frame set across all mounts (when shared). */
async function checkFrames(t: CaseContext, dirs: string[], shared: boolean): Promise<void> {
  const f = t.file(V2_IMAGE, "/f.bin");
  const g = t.file(V2_IMAGE, "/g.bin");
  await dropCaches(t.agent);
  t.expectEqual("f.bin read through a churned mount equals the source", (await t.agent.readHash(`${dirs[dirs.length - 1]}/f.bin`)).xxh64, f.xxh64);
  t.expectEqual("g.bin read through another mount equals the source", (await t.agent.readHash(`${dirs[0]}/g.bin`)).xxh64, g.xxh64);
  if (!shared) return;
  const frames = await t.agent.pageFrames([...dirs.map((d) => `${d}/f.bin`), ...dirs.map((d) => `${d}/g.bin`)]);
  const setOf = (files: typeof frames) => {
    const distinct = new Set<number>();
    for (let pg = 0; pg < files[0].pages; pg++) {
      const pfns = new Set(files.map((x) => x.pfns[pg]));
      if (pfns.size !== 1 || pfns.has(null) || pfns.has(0)) distinct.add(pg);
    }
    const all = new Set(files.flatMap((x) => x.pfns.filter((p): p is number => p !== null && p !== 0)));
    return { pagesDiffering: distinct.size, frames: all };
  };
  const n = dirs.length;
  const sf = setOf(frames.slice(0, n));
  const sg = setOf(frames.slice(n));
  t.measure("f_distinct_frames", sf.frames.size, "pages", { kind: "exact" });
  t.measure("g_distinct_frames", sg.frames.size, "pages", { kind: "exact" });
  t.expectEqual(`f.bin: every page has one frame across all ${n} mounts`, sf.pagesDiffering, 0);
  t.expectEqual(`g.bin: every page has one frame across all ${n} mounts`, sg.pagesDiffering, 0);
  t.expectEqual("f.bin: distinct frames = its pages", sf.frames.size, frames[0].pages);
  t.expectEqual("g.bin: distinct frames = its pages", sg.frames.size, frames[n].pages);
  const overlap = [...sf.frames].filter((p) => sg.frames.has(p)).length;
  t.expectEqual("f.bin and g.bin (different fingerprints) share no frame", overlap, 0);
}

const V2_COMMON = {
  groups: ["V"],
  debug: true,
  requires: ["page-cache-share", "file-backed"] as Requirement[],
  images: [V2_IMAGE],
  timeoutMs: 120_000,
};

export const V2 = defineCase({
  ...V2_COMMON,
  id: "V2",
  name: "churned-mounts-keep-one-frame-set-per-fingerprint",
  expect:
    `64 file-backed sharing mounts read by ${RACE_READERS} reader threads that drop the page cache after every read, while, in a tight loop for up to ${RACE_BUDGET_MS / 1000} s, the mount whose inode serves the shared I/O is lazily unmounted and mounted again and the file is looked up through a mount picked at random: every read returns the source's bytes, no busy inodes or other kernel report, and at the end each fingerprint is one set of page frames across all 64 mounts`,
  run: (t) => churnUnderReaders(t, {}),
});

export const V2p = defineCase({
  ...V2_COMMON,
  id: "V2p",
  name: "churned-mounts-control-plain",
  expect: `control for V2: its loop for ${CONTROL_CYCLES} cycles (at most ${CONTROL_BUDGET_MS / 1000} s) with plain mounts (no inode_share): every read returns the source's bytes, no kernel report`,
  run: (t) => churnUnderReaders(t, { plain: true }),
});

export const V2n = defineCase({
  ...V2_COMMON,
  id: "V2n",
  name: "churned-mounts-control-no-lookup",
  expect: `control for V2: its loop for ${CONTROL_CYCLES} cycles (at most ${CONTROL_BUDGET_MS / 1000} s) with sharing mounts, readers read only through ${V2_STABLE} mounts that are never churned and the churned ones are never looked up (so no churned inode serves the reads): every read returns the source's bytes, no kernel report`,
  run: (t) => churnUnderReaders(t, { noLookup: true }),
});

const V3_IMAGE = "files-10k";
const V3_ROUNDS = 1;

export const V3 = defineCase({
  id: "V3",
  name: "lookup-cost-10k-files-with-and-without-share",
  groups: ["V"],
  tags: ["chart"],
  expect:
    "an image of 10000 files mounted with and without inode_share: a cold find finds every file both ways (mount and lookup times are recorded, and their ratio)",
  requires: ["page-cache-share"],
  images: [V3_IMAGE],
  timeoutMs: 120_000,
  async run(t) {
    const want = new Set(t.image(V3_IMAGE).manifest.files.filter((f) => f.type === "file").map((f) => f.path));
    const times: Record<"plain" | "shared", { mount: number[]; find: number[] }> = { plain: { mount: [], find: [] }, shared: { mount: [], find: [] } };
    for (let r = 0; r < V3_ROUNDS; r++) {
      for (const mode of ["plain", "shared"] as const) {
        await dropCaches(t.agent); // cold dentries and inodes: every lookup reads the image
        const m = await timedMount(t, mode);
        const res = await t.sh(`cd ${m.dir} && find . -type f`, { timeoutMs: 60_000 });
        times[mode].mount.push(m.ms);
        times[mode].find.push(res.durationMs);
        const found = new Set(res.stdout.split("\n").filter(Boolean).map((p) => p.slice(1)));
        const missing = [...want].filter((p) => !found.has(p));
        t.expect(`${mode} round ${r + 1}: find lists all ${want.size} files`, missing.length === 0 && found.size === want.size, {
          expected: want.size,
          seen: `${found.size} found, ${missing.length} missing${missing.length ? ` (first: ${missing[0]})` : ""}`,
        });
        if (mode === "shared" && r === 0) {
          const sample = [...want].filter((_, i) => i % 1000 === 7);
          for (const p of sample) {
            const h = await t.agent.readHash(m.mounted.path(p));
            t.expectEqual(`shared: ${p} reads the source's bytes`, h.xxh64, t.file(V3_IMAGE, p).xxh64);
          }
        }
        await t.umount(m.mounted);
      }
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    for (const mode of ["plain", "shared"] as const) {
      t.measure(`mount_ms_${mode}`, median(times[mode].mount), "ms", { series: mode });
      t.measure(`find_ms_${mode}`, median(times[mode].find), "ms", { series: mode });
    }
    t.measure("find_shared_vs_plain_pct", (100 * median(times.shared.find)) / median(times.plain.find), "%", { kind: "noisy" });
    t.measure("mount_shared_vs_plain_pct", (100 * median(times.shared.mount)) / median(times.plain.mount), "%", { kind: "noisy" });
  },
});

async function timedMount(t: CaseContext, mode: "plain" | "shared"): Promise<{ mounted: Mounted; dir: string; ms: number }> {
  const t0 = performance.now();
  const mounted = await t.mount(V3_IMAGE, { domain: mode === "shared" ? "v3" : false });
  return { mounted, dir: mounted.dir, ms: performance.now() - t0 };
}
