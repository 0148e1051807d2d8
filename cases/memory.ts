// M. Memory, eviction, accounting: the shared page cache is freed like any page cache (drop_caches,
// unmount), charged once to the memory cgroup that read first, evicted and refaulted correctly under
// one tenant's limit or removal without leaking, grows ~1x (not Nx) with N sharing mounts, and saves
// on a real-world pair of images about what the content hashes say it can.
import { defineCase } from "../harness/runner/case.ts";
import type { CaseContext } from "../harness/runner/context.ts";
import { cacheSnapshot, dropCaches, memcgCurrent, memcgStat, memcgStatUntil } from "../harness/measure/memory.ts";
import { commonFile, inOrder, ORDERS, type Order } from "./fixtures.ts";
import { idealSharing } from "../harness/measure/ideal.ts";
import { measureSaving, type MeasuredImage } from "../harness/measure/saving.ts";
import { assessSaving, frameSample } from "../harness/measure/saving-verdict.ts";

const MiB = 1 << 20;
const PAGE = 4096;
/** Cached/memcg figures move by about +-100 KiB under TCG on their own; "nothing left" means below this. */
const SLACK = MiB;

async function cached(t: CaseContext): Promise<number> {
  return (await cacheSnapshot(t.agent)).cachedBytes;
}

/** Run `cmd` (exec'd, so the reader itself is the cgroup member) inside cgroup `cg`. */
async function inCgroup(t: CaseContext, cg: string, cmd: string): Promise<string> {
  // `&&`: a refused move must fail the step, not run the reader in the agent's cgroup.
  const r = await t.sh(`echo $$ > /sys/fs/cgroup/${cg}/cgroup.procs && exec ${cmd}`);
  return r.stdout;
}

async function fileBytes(t: CaseContext, cg: string): Promise<number> {
  const v = await memcgStat(t.agent, cg, "file");
  if (v === undefined) throw new Error(`memory.stat of ${cg} has no "file" field`);
  return v;
}

async function currentBytes(t: CaseContext, cg: string): Promise<number> {
  const v = await memcgCurrent(t.agent, cg);
  if (v === undefined) throw new Error(`memory.current of ${cg} is not a number`);
  return v;
}

/** sha256sum output ("<hex>  <path>") of one file. */
const hashOf = (out: string) => out.trim().split(/\s+/)[0];

export const M1 = defineCase({
  id: "M1",
  name: "drop-caches-and-unmount-free-shared-cache",
  groups: ["M"],
  expect:
    "with no file open, drop_caches empties the shared page cache for both mounts, and unmounting both sharing mounts frees it, whichever mount reads and is unmounted first: each time Cached returns to its baseline",
  requires: ["page-cache-share"],
  images: ["share-a", "share-b"],
  async run(t) {
    const f = commonFile(t, "share-a", "share-b");
    // Both orders: A read and unmounted first (its inode may be the one that served I/O; B keeps the
    // data reachable), then B read and unmounted first.
    for (const X of ["A", "B"] as const) {
      const Y = X === "A" ? "B" : "A";
      const o = X === "A" ? "" : "B first: "; // the A-first checks keep their names
      const fo = X === "A" ? "" : "_b_first";
      const a = await t.mount("share-a", { domain: "d1" });
      const b = await t.mount("share-b", { domain: "d1" });
      const side = { A: { m: a, p: a.path(f.pathA) }, B: { m: b, p: b.path(f.pathB) } };
      const [x, y] = [side[X], side[Y]];

      // 1. drop_caches
      await dropCaches(t.agent);
      const base1 = await cached(t);
      t.expectEqual(`${o}${X} reads the source's bytes`, (await t.agent.readHash(x.p)).xxh64, f.xxh64);
      t.expectEqual(`${o}${Y} reads the source's bytes`, (await t.agent.readHash(y.p)).xxh64, f.xxh64);
      const grown1 = (await cached(t)) - base1;
      t.measure(`cached_growth_read_a_and_b${fo}`, grown1, "B", { kind: "noisy" });
      t.assert(`${o}reading the file grew Cached by about its size (precondition)`, grown1 >= 0.75 * f.size, { expected: `>= ${0.75 * f.size}`, seen: grown1 });
      await dropCaches(t.agent);
      const left1 = (await cached(t)) - base1;
      t.measure(`cached_left_after_drop_caches${fo}`, left1, "B", { kind: "noisy" });
      t.expect(`${o}drop_caches returns Cached to its baseline`, left1 <= SLACK, { expected: `<= ${SLACK}`, seen: left1 });
      t.expectEqual(`${o}A resident pages after drop_caches`, (await t.agent.mincore(side.A.p)).resident, 0);
      t.expectEqual(`${o}B resident pages after drop_caches`, (await t.agent.mincore(side.B.p)).resident, 0);

      // 2. unmount
      await dropCaches(t.agent);
      const base2 = await cached(t);
      await t.agent.readHash(x.p);
      await t.agent.readHash(y.p);
      const grown2 = (await cached(t)) - base2;
      t.measure(`cached_growth_read_a_and_b_again${fo}`, grown2, "B", { kind: "noisy" });
      t.assert(`${o}the second read grew Cached by about the file size (precondition)`, grown2 >= 0.75 * f.size, { expected: `>= ${0.75 * f.size}`, seen: grown2 });
      await t.umount(x.m);
      t.measure(`cached_left_after_umount_${X.toLowerCase()}${fo}`, (await cached(t)) - base2, "B", { kind: "noisy" });
      t.expectEqual(`${o}${Y} still reads the source's bytes after ${X} is unmounted`, (await t.agent.readHash(y.p)).xxh64, f.xxh64);
      await t.umount(y.m);
      const left2 = (await cached(t)) - base2;
      t.measure(`cached_left_after_umount_both${fo}`, left2, "B", { kind: "noisy" });
      t.expect(`${o}unmounting both mounts returns Cached to its baseline`, left2 <= SLACK, { expected: `<= ${SLACK}`, seen: left2 });
    }
  },
});

export const M2 = defineCase({
  id: "M2",
  name: "shared-pages-charged-to-first-reader-cgroup",
  groups: ["M"],
  expect:
    "cgroup A reads the file through mount A first, cgroup B then reads it through mount B: the pages are charged once, to A (A's memory.stat file and memory.current grow by the file size, B's by about nothing); and the same with B reading first, through B",
  requires: ["page-cache-share", "memcg"],
  images: ["share-a", "share-b"],
  async run(t) {
    const f = commonFile(t, "share-a", "share-b");
    const a = await t.mount("share-a", { domain: "d1" });
    const b = await t.mount("share-b", { domain: "d1" });
    const cgA = await t.cgroup("m2-a");
    const cgB = await t.cgroup("m2-b");
    t.measure("file_size", f.size, "B", { kind: "exact" });
    const sides = { A: { cg: cgA, path: a.path(f.pathA) }, B: { cg: cgB, path: b.path(f.pathB) } };
    // Both orders: cgroup A through mount A first, then cgroup B through mount B first.
    for (const [X, Y] of [["A", "B"], ["B", "A"]] as const) {
      const o = X === "A" ? "" : "B first: "; // the A-first checks and figures keep their names
      const fo = X === "A" ? "" : "_b_first";
      await dropCaches(t.agent);
      const x0 = await fileBytes(t, sides[X].cg);
      const y0 = await fileBytes(t, sides[Y].cg);
      const cx0 = await currentBytes(t, sides[X].cg);
      const hX = hashOf(await inCgroup(t, sides[X].cg, `sha256sum ${sides[X].path}`));
      const cx1 = await currentBytes(t, sides[X].cg);
      // memory.stat can lag behind the charge (memcgStatUntil): read X's until it shows it, at most 5 s.
      const sx = await memcgStatUntil(t.agent, sides[X].cg, "file", (v) => v - x0 >= 0.9 * f.size);
      t.measure(`cg${X}_file_stat_wait_ms${fo}`, sx.waitedMs, "ms", { kind: "noisy" });
      const x1 = sx.value;
      const y1 = await fileBytes(t, sides[Y].cg);
      const cy1 = await currentBytes(t, sides[Y].cg);
      const hY = hashOf(await inCgroup(t, sides[Y].cg, `sha256sum ${sides[Y].path}`));
      const cy2 = await currentBytes(t, sides[Y].cg);
      const x2 = await fileBytes(t, sides[X].cg);
      const y2 = await fileBytes(t, sides[Y].cg);
      t.expectEqual(`${o}cgroup ${X} reads the source's bytes`, hX, f.sha256);
      t.expectEqual(`${o}cgroup ${Y} reads the source's bytes`, hY, f.sha256);
      t.measure(`cg${X}_file_after_cg${X}_read${fo}`, x1 - x0, "B", { kind: "noisy" });
      t.measure(`cg${Y}_file_after_cg${X}_read${fo}`, y1 - y0, "B", { kind: "noisy" });
      t.measure(`cg${X}_file_after_cg${Y}_read${fo}`, x2 - x0, "B", { kind: "noisy" });
      t.measure(`cg${Y}_file_after_cg${Y}_read${fo}`, y2 - y0, "B", { kind: "noisy" });
      t.expect(`${o}cgroup ${X} is charged the file when it reads first`, x1 - x0 >= 0.9 * f.size, { expected: `>= ${0.9 * f.size}`, seen: x1 - x0 });
      t.expect(`${o}cgroup ${Y} is charged about nothing for the pages ${X} already cached`, y2 - y0 <= SLACK, { expected: `<= ${SLACK}`, seen: y2 - y0 });
      t.expect(`${o}cgroup ${X}'s charge is unchanged by ${Y}'s read`, Math.abs(x2 - x1) <= SLACK, { expected: `|change| <= ${SLACK}`, seen: x2 - x1 });
      // The second signal: memory.current cannot hide a charge behind a lagging statistic, so a stale
      // memory.stat cannot make "charged about nothing" pass. Its threshold is half the file, beyond
      // its per-CPU charge batches.
      t.measure(`cg${X}_current_after_cg${X}_read${fo}`, cx1 - cx0, "B", { kind: "noisy" });
      t.measure(`cg${Y}_current_after_cg${Y}_read${fo}`, cy2 - cy1, "B", { kind: "noisy" });
      t.expect(`${o}cgroup ${X}'s memory.current grows by the file when it reads first`, cx1 - cx0 >= 0.9 * f.size, { expected: `>= ${0.9 * f.size}`, seen: cx1 - cx0 });
      t.expect(`${o}cgroup ${Y}'s memory.current grows by less than half the file on its read`, cy2 - cy1 < f.size / 2, { expected: `< ${f.size / 2}`, seen: cy2 - cy1 });
    }
  },
});

export const M3 = defineCase({
  id: "M3",
  name: "tenant-limit-or-removal-refaults-without-leak",
  groups: ["M"],
  concernTag: "memory-accounting",
  concern:
    "one tenant's memory pressure evicting another tenant's shared pages: after cgroup A (which was charged) is squeezed to a tiny memory.max, B's data must refault correctly and be charged to B; removing the charged cgroup must leak nothing",
  expect:
    "pages charged to cgroup A are reclaimed when A's memory.max drops to 1 MiB; B then refaults them with the right bytes and is charged for them; after the charged cgroup is removed and the mounts are gone, Cached returns to its baseline and no dying memory cgroup stays behind; and the same with B charged and squeezed and A refaulting",
  requires: ["page-cache-share", "memcg"],
  images: ["share-a", "share-b"],
  timeoutMs: 90_000,
  async run(t) {
    // Both orders, each on fresh mounts and cgroups: cgroup A reads first (is charged) and is squeezed
    // while B refaults, then cgroup B reads first and is squeezed while A refaults.
    for (const o of ORDERS) await squeezeAndRefault(t, o);
  },
});

/**
 * One order of M3: cgroup `o.first` reads first through its own mount (and is charged), is squeezed to
 * 1 MiB, `o.second` refaults; then the cgroup that holds the charge is removed and everything torn down.
 * memory.stat figures are read until they show the expected charge, for at most 5 s (memcgStatUntil:
 * a read during a flush under way can show the figure from before the last charges); the wait is a figure.
 */
async function squeezeAndRefault(t: CaseContext, o: Order): Promise<void> {
  const [X, Y] = [o.first, o.second];
  const y = Y.toLowerCase();
  const f = commonFile(t, "share-a", "share-b");
  const a = await t.mount("share-a", { domain: "d1" });
  const b = await t.mount("share-b", { domain: "d1" });
  const dying0 = await dyingMemcgs(t);
  const tag = o.first === "A" ? "" : "-2";
  const side = {
    A: { m: a, p: a.path(f.pathA), cg: await t.cgroup(`m3-a${tag}`) },
    B: { m: b, p: b.path(f.pathB), cg: await t.cgroup(`m3-b${tag}`) },
  };
  const [sx, sy] = [side[X], side[Y]];
  const stat = async (label: string, cg: string, settled: (v: number) => boolean) => {
    const s = await memcgStatUntil(t.agent, cg, "file", settled);
    t.measure(`${label}_stat_wait_ms${o.figure}`, s.waitedMs, "ms", { kind: "noisy" });
    return s.value;
  };
  await dropCaches(t.agent);
  const base = await cached(t);

  t.expectEqual(`${o.check}cgroup ${X} reads the source's bytes`, hashOf(await inCgroup(t, sx.cg, `sha256sum ${sx.p}`)), f.sha256);
  t.expectEqual(`${o.check}cgroup ${Y} reads the source's bytes`, hashOf(await inCgroup(t, sy.cg, `sha256sum ${sy.p}`)), f.sha256);
  const charged = await stat(`cg${X}_file_before_limit`, sx.cg, (v) => v >= 0.9 * f.size);
  t.measure(`cg${X}_file_before_limit${o.figure}`, charged, "B", { kind: "noisy" });
  t.measure(`cg${Y}_file_before_limit${o.figure}`, await fileBytes(t, sy.cg), "B", { kind: "noisy" });
  t.assert(`${o.check}cgroup ${X} holds the charge (precondition, see M2)`, charged >= 0.9 * f.size, { expected: `>= ${0.9 * f.size}`, seen: charged });

  // X's pressure: shrinking memory.max reclaims X's page cache, including the pages Y uses.
  await t.agent.writeFile(`/sys/fs/cgroup/${sx.cg}/memory.max`, String(MiB));
  const squeezed = await stat(`cg${X}_file_after_limit`, sx.cg, (v) => v <= MiB);
  const residentY = await t.agent.mincore(sy.p);
  t.measure(`cg${X}_file_after_limit${o.figure}`, squeezed, "B", { kind: "noisy" });
  t.measure(`${y}_resident_after_cg${X}_limit${o.figure}`, residentY.resident, "pages", { kind: "noisy" });
  t.measure(`${y}_pages${o.figure}`, residentY.pages, "pages", { kind: "exact" });
  t.expect(`${o.check}cgroup ${X}'s file charge obeys its 1 MiB memory.max`, squeezed <= MiB, { expected: `<= ${MiB}`, seen: squeezed });

  // Y refaults what X's pressure took away: right bytes, and now Y pays for them.
  t.expectEqual(`${o.check}cgroup ${Y} reads the source's bytes after ${X}'s reclaim`, hashOf(await inCgroup(t, sy.cg, `sha256sum ${sy.p}`)), f.sha256);
  const evicted = (residentY.pages - residentY.resident) * PAGE;
  const refaulted = await stat(`cg${Y}_file_after_refault`, sy.cg, (v) => v >= evicted - SLACK);
  t.measure(`cg${Y}_file_after_refault${o.figure}`, refaulted, "B", { kind: "noisy" });
  t.expectEqual(`${o.check}${Y}'s file is fully resident after ${Y} read it again`, (await t.agent.mincore(sy.p)).resident, residentY.pages);
  t.expect(`${o.check}cgroup ${Y} is charged for the pages it refaulted`, refaulted >= evicted - SLACK, { expected: `>= ${evicted - SLACK}`, seen: refaulted });

  // Remove the cgroup that now holds the charge; X still reads correctly; nothing stays behind.
  await t.sh(`rmdir /sys/fs/cgroup/${sy.cg}`);
  t.expectEqual(`${o.check}${X} reads the source's bytes after cgroup ${Y} was removed`, (await t.agent.readHash(sx.p)).xxh64, f.xxh64);
  await t.umount(a);
  await t.umount(b);
  await t.sh(`rmdir /sys/fs/cgroup/${sx.cg}`);
  await dropCaches(t.agent);
  const left = (await cached(t)) - base;
  t.measure(`cached_left_after_unmount${o.figure}`, left, "B", { kind: "noisy" });
  t.expect(`${o.check}Cached returns to its baseline once the mounts are gone`, left <= SLACK, { expected: `<= ${SLACK}`, seen: left });
  // A removed memory cgroup lingers ("dying") while pages are charged to it; freed pages release it.
  let dying = await dyingMemcgs(t);
  for (let i = 0; i < 25 && dying > dying0; i++) {
    await t.sh("sleep 0.2");
    dying = await dyingMemcgs(t);
  }
  t.measure(`dying_memcgs_after_removal${o.figure}`, dying - dying0, "count", { kind: "noisy" });
  t.expectEqual(`${o.check}no dying memory cgroup is left behind`, dying - dying0, 0);
}

async function dyingMemcgs(t: CaseContext): Promise<number> {
  const { data } = await t.agent.readFile("/sys/fs/cgroup/cgroup.stat");
  const m = data.toString("utf8").match(/^nr_dying_subsys_memory (\d+)$/m) ?? data.toString("utf8").match(/^nr_dying_descendants (\d+)$/m);
  if (!m) throw new Error("cgroup.stat has neither nr_dying_subsys_memory nor nr_dying_descendants");
  return Number(m[1]);
}

const M4_IMAGE = "scale-same-2m";
const M4_FILE = "/f.bin";
const M4_COUNTS = [1, 2, 4, 8, 16, 32, 64];

export const M4 = defineCase({
  id: "M4",
  name: "cache-grows-once-across-n-sharing-mounts",
  groups: ["M"],
  tags: ["chart"],
  expect:
    "touching every page of the same file through N = 1..64 sharing mounts grows Cached by about the file size once (<= 1.5x + 1 MiB) and maps one set of frames; through N plain mounts Cached grows about N times the file size (>= 0.75 x N x size) and the frames are N sets",
  requires: ["page-cache-share", "file-backed"],
  images: [M4_IMAGE],
  timeoutMs: 120_000,
  async run(t) {
    const file = t.file(M4_IMAGE, M4_FILE);
    const size = file.size;
    const pagesPerFile = Math.ceil(size / PAGE);
    const xLabel = "mounts of the same file (N)";
    const fm = await FileMounts.of(t, M4_IMAGE);
    try {
      for (const mode of ["shared", "plain"] as const) {
        for (const n of M4_COUNTS) {
          const dirs = Array.from({ length: n }, (_, i) => `/mnt/m4-${mode}-${i}`);
          for (const d of dirs) await fm.mount(d, mode === "shared" ? "inode_share,domain_id=m4" : "");
          await dropCaches(t.agent);
          const base = await cached(t);
          // One agent call maps the file of every mount and touches each page (a fork per reader would
          // cost ~80 ms under TCG: 254 readers); the frames are the second signal.
          const frames = await t.agent.pageFrames(dirs.map((d) => `${d}${M4_FILE}`), { timeoutMs: 60_000 });
          const growth = (await cached(t)) - base;
          const distinct = new Set(frames.flatMap((f) => f.pfns.filter((p): p is number => p !== null && p !== 0))).size;
          t.expectEqual(`${mode} N=${n}: read(2) through the last mount gives the source's bytes`, (await t.agent.readHash(`${dirs[n - 1]}${M4_FILE}`)).xxh64, file.xxh64);
          t.measure(`cached_growth_${mode}_n${n}`, growth, "B", { series: mode, x: n, xLabel, kind: "noisy" });
          t.measure(`distinct_frames_${mode}_n${n}`, distinct, "pages", { series: mode, x: n, xLabel, kind: "exact" });
          if (mode === "shared") {
            t.measure(`cached_ideal_n${n}`, size, "B", { series: "ideal", x: n, xLabel, kind: "exact" });
            const max = 1.5 * size + MiB;
            t.expect(`shared N=${n}: Cached grows about once`, growth <= max, { expected: `<= ${max}`, seen: growth });
            t.expectEqual(`shared N=${n}: one set of frames for all mounts`, distinct, pagesPerFile);
          } else {
            const min = 0.75 * n * size;
            t.expect(`plain N=${n}: Cached grows about N times`, growth >= min, { expected: `>= ${min}`, seen: growth });
            t.expectEqual(`plain N=${n}: one set of frames per mount`, distinct, n * pagesPerFile);
          }
          for (const d of [...dirs].reverse()) await fm.umount(d);
        }
      }
    } finally {
      await fm.umountAll();
    }
  },
});

/**
 * Many file-backed mounts of one image: t.mount copies the image to ramfs once, the rest are raw
 * mount(2)s of that copy (each its own superblock; no shell per mount). The caller unmounts them,
 * umountAll() also on failure (the context's reset does not know these mounts).
 */
export class FileMounts {
  private readonly live = new Set<string>();
  private constructor(
    private readonly t: CaseContext,
    readonly source: string,
  ) {}

  static async of(t: CaseContext, image: string): Promise<FileMounts> {
    const m = await t.mount(image, { backing: "file" });
    await t.umount(m);
    return new FileMounts(t, m.source);
  }

  async mount(dir: string, data: string): Promise<void> {
    await this.t.agent.mount({ source: this.source, target: dir, fstype: "erofs", flags: ["ro"], data });
    this.live.add(dir);
  }

  async umount(dir: string, flags: ("detach" | "force")[] = []): Promise<void> {
    await this.t.agent.umount(dir, flags);
    this.live.delete(dir);
  }

  async umountAll(): Promise<void> {
    for (const d of [...this.live].reverse()) await this.t.agent.umount(d, ["detach"]).catch(() => {});
    this.live.clear();
  }
}

const M5_A = "npm-lodash-4-17-20";
const M5_B = "npm-lodash-4-17-21";

export const M5 = defineCase({
  id: "M5",
  name: "real-world-pair-saving-near-ideal",
  groups: ["M"],
  tags: ["chart"],
  expect:
    "reading every file of two lodash releases (4.17.20, 4.17.21) through two sharing mounts saves at least 80 % of the page cache that the identical files (same sha256) make possible, compared with plain mounts; every file reads its own bytes and sampled identical files map the same page frames (separate ones with plain mounts); whichever release is mounted and read first",
  requires: ["page-cache-share"],
  images: [M5_A, M5_B],
  timeoutMs: 120_000,
  async run(t) {
    // The measurement of `pcshare measure` (harness/measure/), on the two fixture images, in both
    // orders: 4.17.20 mounted and read first, then 4.17.21 (each order mounts both modes afresh and
    // starts from drop_caches; the ideal and the duplicates to cross-check follow the order).
    for (const o of ORDERS) {
      const images: MeasuredImage[] = inOrder(o, M5_A, M5_B).map((name) => ({
        label: name,
        device: t.image(name).device,
        files: t.image(name).manifest.files.filter((f) => f.type === "file" && f.sha256),
      }));
      const ideal = idealSharing(images);
      const frameChecks = frameSample(ideal.duplicates, 8);
      const measured = await measureSaving(t.agent, images, { access: "read-all", domain: "d5", frameChecks, readTimeoutMs: 90_000 });
      const v = assessSaving(ideal, measured);
      for (const m of v.measurements) t.measure(`${m.name}${o.figure}`, m.value, m.unit, m);
      const [pre, ...checks] = v.checks;
      for (const c of checks) t.expect(`${o.check}${c.name}`, c.ok, { expected: c.expected, seen: c.seen });
      t.assert(`${o.check}${pre.name}`, pre.ok, { expected: pre.expected, seen: pre.seen });
    }
  },
});
