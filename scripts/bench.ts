// `npm run bench`: prints the figures the project's targets are about, measured in one run so
// ratios are comparable (TCG timings are noisy). Targets are printed beside the figures; the
// benchmark reports, it does not fail.
//   boot     boot-to-agent-ready of the default kernel with the suite's drives attached: bzImage under
//            SeaBIOS (the old path), bzImage under qboot, direct (PVH) boot under qboot, and restore
//            from a snapshot of a direct-booted guest (made first, its cost printed); alternating,
//            5 samples each: host wall from QEMU start, QEMU's CPU time, guest uptime
//   images   build time of images/scale.yaml (256 MiB in ~10k files): cold (fresh cache) and cached
//   suite    wall time of the whole suite and the harness overhead (everything but guest case time)
//   kernel   minimal kernel from Debian's linux-source: cold build (fresh workspace, source already
//            downloaded), incremental rebuild after a one-file patch, boot-to-agent median of 5
//   jobs     wall time of the whole suite: serial with every guest booted (the path before snapshots),
//            serial with guests restored from a snapshot, and 2 guests at once (restored), and more
//            where the host has the cores (up to 4): one sample each, with the cases whose verdict
//            differed from the first run's (registered races aside, they should be none)
//   ab       wall time of a comment-only A/B verdict (`pcshare series kernel-patches/comment-only`
//            over the whole suite): both builds (incremental) and the adaptive rounds, with the
//            verdict's counts; the rounds' budget is 8 min so that the whole stays near 10 min
//   measure  end-to-end time of `pcshare measure` on two mmdebstrap root filesystems (Debian bookworm
//            and trixie, minbase, ~100 MB each): cold (fresh cache: mmdebstrap, images, guest) and cached
//   explore  `pcshare explore` on the default kernel, seed 42, 5 min of programs (PCSHARE_BENCH_EXPLORE
//            sets the minutes) with a fresh guest per program, then as many with the default programs
//            per guest; no shrinking: programs per minute, their ratio, the time to the first finding
// Select with arguments, e.g. `npm run bench -- boot suite`; without arguments all eight run (the
// kernel's cold build takes minutes: 456 s on 2 idle cores here).
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resolveKernel } from "../harness/kernel/resolve.ts";
import { builtKernel, DEFAULT_FRAGMENTS } from "../harness/kernel/build.ts";
import { debianSource } from "../harness/kernel/source.ts";
import type { Kernel } from "../harness/kernel/kernel.ts";
import { chooseBoot } from "../harness/kernel/boot.ts";
import type { Drive } from "../harness/vm/qemu-args.ts";
import { blobDriveName } from "../harness/runner/run.ts";
import { bootGuest, prepareGuest } from "../harness/vm/launch.ts";
import { restoreModeFromEnv, type RestoreMode } from "../harness/vm/snapshot.ts";
import { buildImages } from "../harness/images/build.ts";
import { runSuite } from "../harness/runner/run.ts";
import { ALL_CASES } from "../cases/index.ts";
import { DEFAULT_SPECS } from "../harness/images/commands.ts";
import { adaptiveComparison, seriesChoices } from "../harness/cli/series-command.ts";
import { measureSources } from "../harness/cli/measure-command.ts";
import { parseSources } from "../harness/measure/sources/parse.ts";
import { explore, PROGRAMS_PER_GUEST } from "../harness/explore/explore.ts";
import { loadKnownBugs } from "../harness/verdict/load-known-bugs.ts";

const SECTIONS = ["boot", "images", "suite", "jobs", "kernel", "ab", "measure", "explore"];
const wanted = new Set(process.argv.slice(2).length ? process.argv.slice(2) : SECTIONS);
const unknown = [...wanted].filter((w) => !SECTIONS.includes(w));
if (unknown.length) {
  console.error(`bench: unknown section ${unknown.join(", ")}; choose from ${SECTIONS.join(", ")}`);
  process.exit(2);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function benchBoot(): Promise<void> {
  const kernel = await resolveKernel();
  const drives = await suiteDrives();
  const direct = await chooseBoot(kernel, "auto");
  const ways: { label: string; kernel: Kernel; firmware: string; target?: number; restore?: boolean }[] = [
    { label: "bzImage, SeaBIOS (the path before direct boot)", kernel: await chooseBoot(kernel, "bzimage"), firmware: "seabios" },
    { label: "bzImage, qboot", kernel: await chooseBoot(kernel, "bzimage"), firmware: "qboot" },
    { label: "direct boot, qboot", kernel: direct, firmware: "qboot", target: 2 },
    { label: "restore from a snapshot of the direct-booted guest (the default for runs)", kernel: direct, firmware: "qboot", target: 0.5, restore: true },
  ];
  const samples = ways.map(() => ({ wall: [] as number[], guest: [] as number[], cpu: [] as number[], qmp: [] as number[], state: [] as number[] }));
  const { accel } = await prepareGuest(kernel);
  const load = os.loadavg()[0];
  const savedFirmware = process.env.PCSHARE_FIRMWARE;
  const made = await makeSnapshotTimed(direct, drives);
  try {
    // Alternating, so that a change in the shared host's load hits every way alike.
    for (let i = 0; i < 5; i++) {
      for (const [w, way] of ways.entries()) {
        process.env.PCSHARE_FIRMWARE = way.firmware;
        const vm = await bootGuest(way.kernel, { drives, restore: way.restore ? "auto" : "off" });
        if (way.restore && vm.timing.start !== "restore") throw new Error(`bench: the guest was to be restored but booted: ${vm.timing.restoreProblem}`);
        samples[w].cpu.push(await qemuCpuMs(await vm.qemuPid));
        samples[w].wall.push(vm.timing.hostWallMs);
        samples[w].guest.push(vm.timing.guestUptimeMs);
        if (vm.timing.phasesMs?.qmp !== undefined) samples[w].qmp.push(vm.timing.phasesMs.qmp);
        if (vm.timing.phasesMs?.state !== undefined) samples[w].state.push(vm.timing.phasesMs.state);
        await vm.shutdown();
      }
    }
  } finally {
    if (savedFirmware === undefined) delete process.env.PCSHARE_FIRMWARE;
    else process.env.PCSHARE_FIRMWARE = savedFirmware;
  }
  console.log(`boot: ${kernel.info.release} under ${accel.accel}, ${drives.length} drives (the suite's), 5 boots each way, alternating`);
  console.log(`  host: ${os.availableParallelism()} CPUs, load average ${load.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after (host wall stretches with load; QEMU CPU time much less)`);
  for (const [w, way] of ways.entries()) {
    const { wall, guest, cpu } = samples[w];
    const entry = way.restore
      ? `snapshot made once in ${s(made.ms)} (a boot, the save and checksumming its ${made.ramMiB} MiB RAM file)`
      : way.kernel.info.boot === "pvh" ? "PVH entry of the ELF vmlinux" : `bzImage${way.kernel.info.bootReason && way.target ? ` (no PVH entry: ${way.kernel.info.bootReason})` : ""}`;
    console.log(`  ${way.label}: ${entry}`);
    console.log(`    QEMU start to agent ready, host wall: ${spread(wall)}${way.target ? `  target <= ${way.target.toFixed(2)} s` : ""}`);
    console.log(`    QEMU CPU time until then:             ${spread(cpu)}`);
    console.log(`    agent ready, guest uptime:            ${spread(guest)}`);
    if (samples[w].state.length) {
      console.log(`    of the host wall: QEMU answering QMP  ${spread(samples[w].qmp)}`);
      console.log(`      device state loaded (from start)    ${spread(samples[w].state)}`);
    }
  }
  const ratio = (a: number[], b: number[]) => (median(a) / median(b)).toFixed(2);
  console.log(`  direct boot + qboot / bzImage + SeaBIOS, medians: host wall ${ratio(samples[2].wall, samples[0].wall)}, QEMU CPU ${ratio(samples[2].cpu, samples[0].cpu)}`);
  console.log(`  restore / direct boot, medians: host wall ${ratio(samples[3].wall, samples[2].wall)}, QEMU CPU ${ratio(samples[3].cpu, samples[2].cpu)}`);
}

/** Makes (anew) the snapshot that restored guests with `drives` start from, and times it. */
async function makeSnapshotTimed(kernel: Kernel, drives: Drive[]): Promise<{ ms: number; ramMiB: number }> {
  const probe = await bootGuest(kernel, { drives, restore: "auto" }); // finds or makes it
  const ram = /mem-path=([^,]+\/ram),/.exec(probe.argv.join(" "))?.[1];
  await probe.shutdown();
  if (!ram) throw new Error(`bench: no snapshot could be made: ${probe.timing.restoreProblem}`);
  await rm(path.dirname(ram), { recursive: true, force: true });
  const t0 = Date.now();
  const vm = await bootGuest(kernel, { drives, restore: "auto" });
  const ms = Date.now() - t0 - vm.timing.hostWallMs;
  const argv = vm.argv;
  await vm.shutdown();
  return { ms, ramMiB: parseInt(argv[argv.indexOf("-m") + 1], 10) };
}

/** CPU time (user + system) QEMU has used so far, ms (clock ticks of 10 ms). */
async function qemuCpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** "median X s, min-max A-B s (all: ...)" of samples in ms. */
function spread(ms: number[]): string {
  return `median ${s(median(ms))}, range ${s(Math.min(...ms))}-${s(Math.max(...ms))}  (all: ${ms.map(s).join(", ")})`;
}

/** The drives a run of the whole suite attaches: every image its cases use, blob devices included. */
async function suiteDrives(): Promise<Drive[]> {
  const names = [...new Set(ALL_CASES.flatMap((c) => c.images ?? []))];
  const built = await buildImages(DEFAULT_SPECS, { names });
  return [...built.values()].flatMap((b) => [
    { name: b.name, path: b.imagePath, readOnly: true },
    ...b.devicePaths.map((p, i) => ({ name: blobDriveName(b.name, i), path: p, readOnly: true })),
  ]);
}

/** Boots `kernel` 5 times without drives and prints the medians of agent-ready time. */
async function printBoots(label: string, kernel: Kernel, targetS: number): Promise<void> {
  const { accel } = await prepareGuest(kernel);
  const guest: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < 5; i++) {
    const vm = await bootGuest(kernel);
    guest.push(vm.timing.guestUptimeMs);
    wall.push(vm.timing.hostWallMs);
    await vm.shutdown();
  }
  console.log(`${label}: ${kernel.info.release} under ${accel.accel}, 5 boots`);
  console.log(`  agent ready, guest uptime:  median ${s(median(guest))}  (all: ${guest.map(s).join(", ")})  target <= ${targetS.toFixed(2)} s`);
  console.log(`  agent ready, host wall:     median ${s(median(wall))}  (all: ${wall.map(s).join(", ")})`);
}

async function benchKernel(): Promise<void> {
  // The cold build uses the unpacked Debian source as a plain tree in a fresh cache, so that neither
  // the download nor an earlier workspace counts; the rebuild applies the project's one-file series.
  const source = await debianSource();
  await inFreshCache("pcshare-bench-kernel-", async () => {
    const t0 = Date.now();
    const cold = await builtKernel({ tree: source.dir });
    const coldMs = Date.now() - t0;
    const t1 = Date.now();
    await builtKernel({ tree: source.dir, series: "kernel-patches/test-series" });
    const rebuildMs = Date.now() - t1;
    console.log(`kernel: ${cold.info.release} from ${source.label}, fragments ${DEFAULT_FRAGMENTS.join(" + ")}, ${os.availableParallelism()} CPUs`);
    console.log(`  cold build (fresh workspace):          ${s(coldMs)}`);
    console.log(`  rebuild after a one-file erofs patch:  ${s(rebuildMs)}`);
    await printBoots("  minimal kernel boot", cold, 1.5);
  });
}

/**
 * Runs `fn` with PCSHARE_CACHE pointing at a new empty directory, removed afterwards, and the
 * variable restored (unset again when it was unset: assigning undefined would set "undefined").
 */
async function inFreshCache(prefix: string, fn: () => Promise<void>): Promise<void> {
  const cache = await mkdtemp(path.join(os.tmpdir(), prefix));
  const saved = process.env.PCSHARE_CACHE;
  try {
    process.env.PCSHARE_CACHE = cache;
    await fn();
  } finally {
    if (saved === undefined) delete process.env.PCSHARE_CACHE;
    else process.env.PCSHARE_CACHE = saved;
    await rm(cache, { recursive: true, force: true });
  }
}

async function benchImages(): Promise<void> {
  const spec = path.resolve("images/scale.yaml");
  await inFreshCache("pcshare-bench-cache-", async () => {
    // erofs-utils must not count as image build time: provision it into the fresh cache first.
    const { erofsTools } = await import("../harness/images/erofs-utils.ts");
    await erofsTools();
    const t0 = Date.now();
    const built = await buildImages([spec]);
    const cold = Date.now() - t0;
    const t1 = Date.now();
    await buildImages([spec]);
    const cached = Date.now() - t1;
    const files = [...built.values()].reduce((n, b) => n + b.manifest.files.length, 0);
    const bytes = [...built.values()].reduce((n, b) => n + b.manifest.files.reduce((m, f) => m + (f.type === "file" ? f.size : 0), 0), 0);
    console.log(`images: images/scale.yaml, ${built.size} images, ${files} paths, ${(bytes / 2 ** 20).toFixed(0)} MiB of file content`);
    console.log(`  cold build (fresh cache): ${s(cold)}`);
    console.log(`  cached:                   ${s(cached)}`);
  });
}

async function benchSuite(): Promise<void> {
  const kernel = await resolveKernel();
  const out = await mkdtemp(path.join(os.tmpdir(), "pcshare-bench-suite-"));
  try {
    await buildImages(DEFAULT_SPECS); // image builds are cached work, not suite time
    const t0 = Date.now();
    const run = await runSuite({ kernel, cases: ALL_CASES, outDir: out, specs: DEFAULT_SPECS, restore: restoreModeFromEnv() });
    const wall = Date.now() - t0;
    const guest = run.cases.reduce((n, c) => n + (c.guestMs ?? 0), 0);
    const counts = run.cases.reduce<Record<string, number>>((m, c) => ({ ...m, [c.outcome]: (m[c.outcome] ?? 0) + 1 }), {});
    console.log(`suite: ${run.cases.length} cases on ${kernel.info.release} (${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", ")})`);
    console.log(`  wall time:          ${s(wall)}  target <= 300 s`);
    console.log(`  guest case time:    ${s(guest)}`);
    console.log(`  harness overhead:   ${s(wall - guest)} = ${(((wall - guest) / wall) * 100).toFixed(1)} %  target <= 15 %`);
    const boots = run.boots ?? [];
    const bootWait = boots.reduce((n, b) => n + b.waitedMs, 0);
    const perCase = run.cases.reduce((n, c) => n + (c.guestMs === undefined ? 0 : c.durationMs - c.guestMs), 0);
    console.log(`    of which boots:   ${s(bootWait)} waited for ${boots.length} guests (boot to agent: median ${s(median(boots.map((b) => b.hostWallMs)))} wall, ${s(median(boots.map((b) => b.guestUptimeMs)))} guest uptime)`);
    console.log(`    resets and logs:  ${s(perCase)} (after each case: unmount, drop caches, kernel log, artifacts)`);
    console.log(`    the rest:         ${s(wall - guest - bootWait - perCase)} (case setup, crashed cases, host-side work)`);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** The whole suite at 1, 2, ... guests at once: wall time, speed-up, and verdicts that differ from serial. */
async function benchJobs(): Promise<void> {
  const kernel = await resolveKernel();
  const cpus = os.availableParallelism();
  const levels: { jobs: number; restore: RestoreMode }[] = [
    { jobs: 1, restore: "off" },
    { jobs: 1, restore: "auto" },
    ...[2, 3, 4].filter((n) => n === 2 || n <= cpus).map((jobs) => ({ jobs, restore: "auto" as const })),
  ];
  await buildImages(DEFAULT_SPECS);
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(" ");
  console.log(`jobs: ${ALL_CASES.length} cases on ${kernel.info.release}, ${cpus} CPUs; one sample per level (TCG on a shared host: noisy); target <= 45 s`);
  let serial: { wall: number; outcomes: Map<string, string> } | undefined;
  for (const { jobs, restore } of levels) {
    const out = await mkdtemp(path.join(os.tmpdir(), "pcshare-bench-jobs-"));
    try {
      const before = load();
      const t0 = Date.now();
      const run = await runSuite({ kernel, cases: ALL_CASES, outDir: out, specs: DEFAULT_SPECS, jobs, restore });
      const wall = Date.now() - t0;
      const outcomes = new Map(run.cases.map((c) => [c.id, c.outcome as string]));
      serial ??= { wall, outcomes };
      const differ = [...outcomes].filter(([id, o]) => serial!.outcomes.get(id) !== o).map(([id, o]) => `${id} ${serial!.outcomes.get(id)} -> ${o}`);
      const speedup = serial.wall === wall ? "" : `  x${(serial.wall / wall).toFixed(2)} of the first`;
      const restored = (run.boots ?? []).filter((b) => b.start === "restore").length;
      console.log(`  --jobs ${jobs} --restore ${restore}: ${s(wall)}${speedup}, ${run.boots?.length ?? 0} guests (${restored} restored); load average before ${before}, after ${load()}`);
      if (differ.length || serial.wall !== wall) console.log(`    verdicts differing from the first run: ${differ.length ? differ.join(", ") : "none"}`);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }
}

/** `pcshare measure` on two ~100 MB root filesystems: everything from scratch but the kernel and erofs-utils, then again cached. */
async function benchMeasure(): Promise<void> {
  const kernel = await resolveKernel();
  const { erofsTools } = await import("../harness/images/erofs-utils.ts");
  await erofsTools();
  const sources = parseSources(["rootfs:bookworm", "rootfs:trixie"]);
  const out = await mkdtemp(path.join(os.tmpdir(), "pcshare-bench-measure-"));
  try {
    await inFreshCache("pcshare-bench-measure-cache-", async () => {
      const opts = { access: "read-all" as const, samplePercent: 100, perFile: false, memoryMiB: 1024, cpus: 2 };
      const t0 = Date.now();
      const cold = await measureSources(kernel, sources, { ...opts, outDir: path.join(out, "cold") });
      const coldMs = Date.now() - t0;
      const t1 = Date.now();
      const cached = await measureSources(kernel, sources, { ...opts, outDir: path.join(out, "cached") });
      const cachedMs = Date.now() - t1;
      console.log(`measure: ${sources.map((x) => x.text).join(" ")} on ${kernel.info.release}`);
      console.log(`  cold (fresh cache: mmdebstrap, images, guest):  ${s(coldMs)} (exit ${cold})`);
      console.log(`  cached (guest only):                            ${s(cachedMs)} (exit ${cached})`);
    });
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/**
 * Programs per minute and time to the first finding of `pcshare explore` on the default kernel (no
 * shrinking, nothing saved): the same seed twice in one run, a fresh guest per program and then the
 * default number of programs per guest, so that the ratio compares like with like.
 */
async function benchExplore(): Promise<void> {
  const kernel = await resolveKernel();
  const minutes = Number(process.env.PCSHARE_BENCH_EXPLORE ?? 5);
  const seed = 42;
  console.log(`explore: seed ${seed}, ${minutes} min of programs each way on ${kernel.info.release}, ${os.availableParallelism()} CPUs, load ${os.loadavg()[0].toFixed(1)}`);
  const rates: number[] = [];
  for (const perGuest of [1, PROGRAMS_PER_GUEST]) {
    const out = await mkdtemp(path.join(os.tmpdir(), "pcshare-bench-explore-"));
    try {
      const res = await explore({ kernel, seed, budgetMs: minutes * 60_000, shrinkMs: 0, outDir: out, bugs: await loadKnownBugs(), programsPerGuest: perGuest });
      const min = res.elapsedMs / 60_000;
      const first = [...res.findings].sort((a, b) => a.atMs - b.atMs)[0];
      const firstNew = res.findings.filter((f) => !f.knownBugs.length).sort((a, b) => a.atMs - b.atMs)[0];
      const label = (f: typeof first) => `${s(f.atMs)} (${f.firstProgram}: ${f.signature}${f.knownBugs.length ? `, registered bug ${f.knownBugs.join(", ")}` : ", new"})`;
      rates.push(res.programs / min);
      console.log(`  ${perGuest === 1 ? "a fresh guest per program" : `${perGuest} programs per guest (the default)`}: ${res.run.boots?.length ?? 0} guests, load ${os.loadavg()[0].toFixed(1)} after`);
      console.log(`    programs:                ${res.programs} in ${min.toFixed(1)} min = ${(res.programs / min).toFixed(2)} programs/min`);
      console.log(`    first finding:           ${first ? label(first) : "none"}`);
      console.log(`    first unregistered one:  ${firstNew ? label(firstNew) : "none"}`);
      console.log(`    distinct findings:       ${res.findings.length}`);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }
  console.log(`  programs/min, ${PROGRAMS_PER_GUEST} per guest / one per guest: ${(rates[1] / rates[0]).toFixed(2)}`);
}

/** A comment-only patch against the default source: what does a "no change" verdict cost? */
async function benchAb(): Promise<void> {
  const series = "kernel-patches/comment-only";
  const budgetMs = 8 * 60_000;
  const out = await mkdtemp(path.join(os.tmpdir(), "pcshare-bench-ab-"));
  try {
    const t0 = Date.now();
    const choices = seriesChoices(series, {});
    const kernels = { baseline: await resolveKernel(choices.baseline), patched: await resolveKernel(choices.patched) };
    const buildMs = Date.now() - t0;
    await buildImages(DEFAULT_SPECS);
    const cmp = await adaptiveComparison({ kernels, cases: ALL_CASES, outDir: out, budgetMs });
    const wall = Date.now() - t0;
    console.log(`ab: ${series} on ${kernels.baseline.info.release}, ${ALL_CASES.length} cases, ${os.availableParallelism()} CPUs, rounds' budget ${budgetMs / 60_000} min`);
    console.log(`  verdict wall time:  ${s(wall)}  target <= 600 s`);
    console.log(`    of which builds:  ${s(buildMs)} (baseline and patched, incremental or cached)`);
    console.log(`  samples a side:     ${cmp.baseline.samples} case results baseline, ${cmp.patched.samples} patched, over ${cmp.baseline.files.length} round(s)`);
    console.log(`  verdict:            ${cmp.significant.length} significant (${cmp.fails ? "FAILS" : "none for the worse"}), ${cmp.inconclusive.length} inconclusive, ${cmp.unchanged.length} no change; ${cmp.tests} tests, Holm at alpha ${cmp.alpha}`);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

if (wanted.has("boot")) await benchBoot();
if (wanted.has("images")) await benchImages();
if (wanted.has("suite")) await benchSuite();
if (wanted.has("jobs")) await benchJobs();
if (wanted.has("kernel")) await benchKernel();
if (wanted.has("ab")) await benchAb();
if (wanted.has("measure")) await benchMeasure();
if (wanted.has("explore")) await benchExplore();
