// `pcshare measure SOURCE SOURCE...`: the page-cache saving of sharing on real software. Sources become
// fingerprinted EROFS images (cached); one guest, sized so the plain total fits, reads every file
// through sharing mounts of one domain and then through plain mounts; the result is a table, a
// results directory in the normal model (results.json, KCIDB, report with a plain/shared/ideal chart)
// and an exit status: 0 measured and correct, 1 a check failed, 2 bad input, 77 the kernel lacks the feature.
import { createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { kernelFrom, intOption, type GuestCliOptions } from "./kernel-options.ts";
import { InputError } from "../util/input-error.ts";
import { parseSources, type ParsedSource } from "../measure/sources/parse.ts";
import { sourceImage } from "../measure/sources/image.ts";
import { idealSharing } from "../measure/ideal.ts";
import { measureSaving, ACCESS_MODES, type Access, type MeasuredImage } from "../measure/saving.ts";
import { assessSaving, frameSample } from "../measure/saving-verdict.ts";
import { savingTable, perFileLines } from "../measure/table.ts";
import { unmetRequirement } from "../runner/requirements.ts";
import { hostInfo, toolVersions } from "../runner/run.ts";
import { bootGuest } from "../vm/launch.ts";
import { writeReports, REPORT_FILES } from "../report/index.ts";
import { recordRun, type HistoryOptions } from "./history-command.ts";
import { measurementCharts, renderChart } from "../report/svg-chart.ts";
import type { CaseResult, RunResult } from "../report/model.ts";
import type { FileRecord } from "../images/manifest.ts";
import type { Kernel } from "../kernel/kernel.ts";

export interface MeasureCliOptions extends GuestCliOptions, HistoryOptions {
  access: string;
  samplePercent: string;
  perFile?: boolean;
  out?: string;
}

/** Exit status when the kernel cannot share pages (automake's "skipped"). */
export const EXIT_SKIP = 77;
const MiB = 1 << 20;
/** Guest memory beyond the plain page cache: kernel, initramfs, agent, slack. */
const BASE_MIB = 512;
const FRAME_CHECKS = 8;
const PER_FILE_CHECKS = 40;

export async function measureCommand(sourceTexts: string[], opts: MeasureCliOptions): Promise<number> {
  const sources = parseSources(sourceTexts);
  const access = parseAccess(opts.access);
  const samplePercent = intOption(opts.samplePercent, "--sample-percent");
  if (samplePercent > 100) throw new InputError(`--sample-percent ${opts.samplePercent}: at most 100`);
  const kernel = await kernelFrom(opts);
  const outDir = path.resolve(opts.out ?? path.join("results", `measure-${new Date().toISOString().replace(/[:.]/g, "-")}`));
  return measureSources(kernel, sources, { access, samplePercent, perFile: opts.perFile ?? false, outDir, memoryMiB: intOption(opts.memory, "--memory"), cpus: intOption(opts.cpus, "--cpus"), record: (run) => recordRun(run, outDir, opts) });
}

export interface MeasureRunOptions {
  access: Access;
  samplePercent: number;
  perFile: boolean;
  outDir: string;
  /** guest memory at least this (MiB); more when the sources need it */
  memoryMiB: number;
  cpus: number;
  /** appends the finished run to the history (the command's; the bench records nothing); returns a line to print */
  record?: (run: RunResult) => Promise<string>;
}

/** Measure `sources` on `kernel`, write the results into opts.outDir, print the table; the exit status. */
export async function measureSources(kernel: Kernel, sources: ParsedSource[], opts: MeasureRunOptions): Promise<number> {
  const { access, samplePercent, outDir } = opts;
  const startedAt = new Date();
  const missing = unmetRequirement(kernel, ["page-cache-share"]);
  if (missing) {
    process.stdout.write(`pcshare measure: skip: ${missing} (${kernel.info.release}, ${kernel.info.source}); nothing measured\n`);
    const run = await runResult(kernel, startedAt, caseResult(sources, { outcome: "skip", reason: missing, checks: [], measurements: [] }, 0));
    await writeReports(run, outDir);
    if (opts.record) process.stdout.write(await opts.record(run));
    return EXIT_SKIP;
  }
  const images = [];
  for (const [i, s] of sources.entries()) images.push(await sourceImage(s, i));
  const read = images.map((img, i) => chooseFiles(img.manifest.files, access, samplePercent, sources[i].label));
  const ideal = idealSharing(read.map((files, i) => ({ label: sources[i].label, files })));
  const memoryMiB = await guestMemory(ideal.total.plain, opts.memoryMiB);
  const checks = frameSample(ideal.duplicates, opts.perFile ? PER_FILE_CHECKS : FRAME_CHECKS);
  const guestImages: MeasuredImage[] = images.map((img, i) => ({ label: sources[i].label, device: `/dev/disk/pcshare/s${i}`, files: read[i] }));
  process.stderr.write(`Measuring ${sources.length} sources (${ideal.total.files} files, ${(ideal.total.plain / MiB).toFixed(1)} MiB of page cache plain) on ${kernel.info.release} with ${memoryMiB} MiB\n`);
  const t0 = Date.now();
  const vm = await bootGuest(kernel, {
    drives: images.map((img, i) => ({ name: `s${i}`, path: img.imagePath, readOnly: true })),
    memoryMiB,
    cpus: opts.cpus,
    artifactsDir: path.join(outDir, "guest"),
  });
  let measured;
  try {
    const domain = randomBytes(8).toString("hex");
    measured = await vm.step("measure", 3_600_000, (agent) => measureSaving(agent, guestImages, { access, domain, frameChecks: checks }));
  } finally {
    await vm.shutdown();
  }
  const verdict = assessSaving(ideal, measured);
  const result = caseResult(sources, verdict, Date.now() - t0, vm.crashes());
  const run = await runResult(kernel, startedAt, result);
  await writeReports(run, outDir);
  const chart = measurementCharts(result.measurements)[0];
  if (chart) await writeFile(path.join(outDir, "measure.svg"), renderChart(chart.series, { kind: "bar", title: "page cache: plain, shared, ideal", yUnit: chart.unit }));
  process.stdout.write(`${savingTable(ideal, measured)}\n\n`);
  process.stdout.write(`measured saving ${verdict.measuredPct.toFixed(1)} % of the plain page cache, ideal ${verdict.idealPct.toFixed(1)} %` +
    (verdict.idealPct > 0 ? ` (measured/ideal ${((100 * verdict.measuredPct) / verdict.idealPct).toFixed(0)} %)` : "") + `; access ${access}\n`);
  for (const c of verdict.checks) process.stdout.write(`  ${c.ok ? "ok  " : "FAIL"} ${c.name}${c.ok ? "" : `: expected ${c.expected}, seen ${c.seen}`}\n`);
  if (opts.perFile) {
    const lookup = fileLookup(images.map((img, i) => [sources[i].label, img.manifest.files]));
    process.stdout.write(`\nlargest files that should have shared but did not:\n${perFileLines(measured.shared.frames, "shared", lookup).map((l) => `  ${l}`).join("\n")}\n`);
  }
  process.stdout.write(`\n${result.outcome}${result.reason ? `: ${result.reason}` : ""}\nreport: ${path.join(outDir, REPORT_FILES.html)}\nresults: ${outDir}\n`);
  if (opts.record) process.stdout.write(await opts.record(run));
  return result.outcome === "pass" ? 0 : 1;
}

function parseAccess(v: string): Access {
  if (!(ACCESS_MODES as readonly string[]).includes(v)) throw new InputError(`--access ${v}: one of ${ACCESS_MODES.join(", ")}`);
  return v as Access;
}

/** The regular files to read: all, or for `sample` a fixed subset (chosen by a hash of source and path). */
export function chooseFiles(files: FileRecord[], access: Access, percent: number, label: string): FileRecord[] {
  const regular = files.filter((f) => f.type === "file" && f.sha256);
  if (access !== "sample") return regular;
  return regular.filter((f) => createHash("sha256").update(`${label}\0${f.path}`).digest().readUInt16BE(0) < (percent / 100) * 65536);
}

/** Guest memory (MiB) for `plainBytes` of page cache, against what this host has available now. */
async function guestMemory(plainBytes: number, given: number): Promise<number> {
  const info = await readFile("/proc/meminfo", "utf8").catch(() => "");
  const availKiB = Number(info.match(/^MemAvailable:\s+(\d+)/m)?.[1] ?? os.freemem() / 1024);
  return guestMemoryMiB(plainBytes, given, Math.floor(availKiB / 1024));
}

/**
 * Guest memory (MiB) for `plainBytes` of page cache: BASE_MIB plus 1.2 x the plain total (the plain
 * pass must cache every page), at least `given`; an InputError when that leaves the host under 256 MiB
 * of its `availableMiB`.
 */
export function guestMemoryMiB(plainBytes: number, given: number, availableMiB: number): number {
  const need = Math.max(given, BASE_MIB + Math.ceil((1.2 * plainBytes) / MiB));
  if (need > availableMiB - 256) {
    throw new InputError(`the guest needs ${need} MiB (the sources' plain page cache is ${(plainBytes / MiB).toFixed(0)} MiB) but the host has ${availableMiB} MiB available; measure fewer or smaller sources, use --access sample, or free memory`);
  }
  return need;
}

function fileLookup(entries: [string, FileRecord[]][]): (label: string, p: string) => FileRecord | undefined {
  const byLabel = new Map(entries.map(([l, files]) => [l, new Map(files.map((f) => [f.path, f]))]));
  return (label, p) => byLabel.get(label)?.get(p);
}

function caseResult(sources: ParsedSource[], v: Pick<CaseResult, "outcome" | "reason" | "checks" | "measurements">, durationMs: number, crashes: CaseResult["crashes"] = []): CaseResult {
  return {
    id: "MEASURE",
    name: "page-cache-saving",
    groups: ["measure"],
    tags: ["chart"],
    concern: `page cache with and without sharing for ${sources.map((s) => s.text).join(" ")}`,
    outcome: crashes.length && v.outcome === "pass" ? "fail" : v.outcome,
    ...(v.reason ? { reason: v.reason } : crashes[0] ? { reason: `kernel ${crashes[0].kind}: ${crashes[0].title}` } : {}),
    durationMs,
    checks: v.checks,
    measurements: v.measurements,
    crashes,
    findings: [],
    artifacts: {},
  };
}

async function runResult(kernel: Kernel, startedAt: Date, c: CaseResult): Promise<RunResult> {
  return {
    schema: "pcshare-results/1",
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    host: await hostInfo(kernel),
    kernel: kernel.info,
    tools: await toolVersions(),
    cases: [c],
  };
}
