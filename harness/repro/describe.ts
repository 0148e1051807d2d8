// Owns: the plain text of a reproducer bundle: one line per recorded step, what a correct kernel does
// against what the run saw (expected.txt, seen.txt), the kernel's reference (kernel.txt) and the short
// summary for a mailing-list reply. Pure: no I/O.
import type { CaseResult, KernelInfo, Provenance } from "../report/model.ts";
import type { RecordedStep } from "../runner/steps.ts";
import type { GuestSteps } from "./guest-steps.ts";
import { crashGist } from "../report/crash-gist.ts";

const str = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

/** One line for a request, as a reviewer reads it (the exact request is in steps.jsonl). */
export function describeRequest(r: Record<string, unknown>): string {
  const flags = Array.isArray(r.flags) ? (r.flags as string[]).join(",") : "";
  switch (r.op) {
    case "mount":
      return `mount${r.fstype ? ` -t ${str(r.fstype)}` : ""} -o ${[flags, str(r.data ?? "")].filter(Boolean).join(",")}${r.source ? ` ${str(r.source)}` : ""} ${str(r.target)}`;
    case "fs_mount":
      return describeFsMount(r);
    case "open_probe":
      return `open(2) ${str(r.path)} ${flags}`;
    case "copy_hash":
      return `${str(r.method)} ${str(r.path)}${r.offset !== undefined ? ` from ${str(r.offset)}` : ""}${r.length !== undefined ? ` (${str(r.length)} B)` : ""} into a pipe and XXH64 it`;
    case "umount":
      return `umount${flags ? ` (${flags})` : ""} ${str(r.target)}`;
    case "exec": {
      const argv = (r.argv as string[]) ?? [];
      return argv[0] === "sh" && argv[1] === "-c" ? `sh -c ${JSON.stringify(argv[2] ?? "")}` : argv.join(" ");
    }
    case "read_file":
      return `cat ${str(r.path)}`;
    case "read_hash":
      return `read(2) ${str(r.path)} and XXH64 it`;
    case "read_at":
      return `${str(r.method)} ${str(r.path)} at ${str(r.offset)} (${str(r.iov)} B)`;
    case "page_frames":
      return `mmap + /proc/self/pagemap frames of ${((r.paths as string[]) ?? []).join(" and ")}`;
    case "mincore":
      return `mincore ${str(r.path)}`;
    case "fadvise":
      return `fadvise ${str(r.advice)} ${str(r.path)}`;
    case "map_hold":
      return `helper process: mmap and hold ${str(r.path)}`;
    case "spawn":
      return `start in background: ${((r.argv as string[]) ?? []).join(" ")}`;
    case "proc_kill":
      return "kill the helper process";
    case "write_file":
      return `write ${str(r.path)}`;
    case "remount_race":
      return `remount race: ${cut(JSON.stringify({ ...r, op: undefined }), 200)}`;
    default: {
      const { op, ...args } = r;
      return `${str(op)} ${cut(JSON.stringify(args), 160)}`;
    }
  }
}

/** The new mount API as one line: the options as mount(8) shows them, then the calls made. */
function describeFsMount(r: Record<string, unknown>): string {
  const params = Array.isArray(r.params) ? (r.params as { key: string; value?: string }[]) : [];
  const source = params.find((p) => p.key === "source")?.value;
  const opts = params.filter((p) => p.key !== "source").map((p) => (p.value === undefined ? p.key : `${p.key}=${p.value}`)).join(",");
  if (r.pick !== undefined) return `reconfigure ${str(r.pick)} -o ${opts} (fspick, fsconfig per option, FSCONFIG_CMD_RECONFIGURE)`;
  return `mount -t ${str(r.fstype)} -o ${opts}${source ? ` ${source}` : ""}${r.target ? ` ${str(r.target)}` : ""} (fsopen, fsconfig per option, fsmount, move_mount)`;
}

/** The steps worth reading (all but the harness's own kernel-log collection); repeats of one request are one line. */
export function stepLines(steps: readonly RecordedStep[]): string[] {
  const lines: string[] = [];
  let prev = "";
  let times = 0;
  const flush = () => {
    if (times > 1) lines[lines.length - 1] += ` (${times} times)`;
  };
  for (const s of steps.filter((x) => x.request.op !== "kmsg")) {
    const text = cut(describeRequest(s.request), 220);
    if (text === prev) {
      times++;
      continue;
    }
    flush();
    prev = text;
    times = 1;
    lines.push(`${lines.length + 1}. ${text}`);
  }
  flush();
  return lines;
}

/** Kernel reference: release, where it came from, package or build hashes. */
export function kernelReference(k: KernelInfo, prov?: Provenance["kernel"]): string {
  const lines = [`release: ${k.release}`, `source: ${k.source}`, `version: ${k.version}`];
  for (const [file, sha] of Object.entries(k.hashes ?? {})) lines.push(`sha256 ${sha}  ${file}`);
  if (prov?.base) lines.push(`built from: ${prov.base}${prov.fragments?.length ? ` with config fragments ${prov.fragments.join(", ")}` : ""}`);
  if (prov?.configSha256) lines.push(`config sha256 (sorted CONFIG_ lines): ${prov.configSha256}`);
  if (k.series) lines.push(`series: ${k.series.spec} on ${k.series.base}, sha256 ${k.series.hash}`, ...k.series.patches.map((p) => `  ${p.subject}`));
  return `${lines.join("\n")}\n`;
}

/** One line naming the kernel. */
export function kernelLine(k: KernelInfo): string {
  const pkg = Object.entries(k.hashes ?? {}).find(([f]) => f.endsWith(".deb"));
  return `${k.release} (${k.source} ${k.version}${pkg ? `, ${pkg[0]} sha256 ${pkg[1].slice(0, 16)}...` : ""}${k.series ? `, series sha256 ${k.series.hash.slice(0, 16)}...` : ""})`;
}

export function expectedText(expect: string | undefined, r: CaseResult, g: GuestSteps): string {
  const lines = [`A correct kernel: ${expect ?? "every check below holds"}, with no kernel report (oops, BUG, WARNING, KASAN, busy inodes, hung task).`, ""];
  for (const j of g.judged) {
    const where = j.step !== undefined ? `[judged in the guest at step ${j.step}]` : "[judged by pcshare only]";
    lines.push(`${j.check.name}: ${j.check.expected ?? "holds"} ${where}`);
  }
  return `${lines.join("\n")}\n`;
}

export function seenText(r: CaseResult): string {
  const lines = [`Outcome: ${r.rawOutcome ?? r.outcome}${r.reason ? `: ${r.rawReason || r.reason}` : ""}`, ""];
  for (const c of r.checks) lines.push(`${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.seen ?? (c.ok ? "holds" : "does not hold")}`);
  for (const c of r.crashes) lines.push(`kernel report (${c.kind}): ${c.title}`);
  if (r.consoleExcerpt) lines.push("", "Excerpt:", r.consoleExcerpt);
  return `${lines.join("\n")}\n`;
}

export interface SummaryInput {
  result: CaseResult;
  expect?: string;
  steps: readonly RecordedStep[];
  kernel: KernelInfo;
  bundleDir: string;
  withKernel: boolean;
}

const EXCERPT_FRAMES = 8;

/** The text to paste into a reply: steps, expected, seen, kernel, excerpt, how to rerun. */
export function summaryText(s: SummaryInput): string {
  const r = s.result;
  const failed = r.checks.filter((c) => !c.ok);
  const seen = [
    ...failed.map((c) => `${c.name}: ${c.seen ?? "does not hold"}`),
    ...r.crashes.map((c) => `kernel report (${c.kind}): ${c.title}`),
  ];
  const excerpt = r.crashes[0] ? crashGist(r.crashes[0], EXCERPT_FRAMES) : (r.consoleExcerpt ?? "").split("\n").filter(Boolean).slice(-EXCERPT_FRAMES);
  const out = [
    `${r.id} ${r.name}: ${r.rawOutcome ?? r.outcome} on ${kernelLine(s.kernel)}`,
    "",
    "Steps (run in the guest, as root, on read-only erofs images):",
    ...stepLines(s.steps).map((l) => `  ${l}`),
    "",
    "Expected:",
    `  ${s.expect ?? "every check holds"}; no kernel report.`,
    ...failed.filter((c) => c.expected !== undefined).map((c) => `  ${c.name}: ${c.expected}`),
    "",
    "Seen:",
    ...(seen.length ? seen.map((l) => `  ${l}`) : [`  ${r.reason ?? "as expected"}`]),
    "",
    `Kernel: ${kernelLine(s.kernel)}`,
    ...(excerpt.length ? ["", "Excerpt:", ...excerpt.map((l) => `  ${l}`)] : []),
    "",
    `Reproducer: ${s.bundleDir}/run.sh (needs only qemu-system-x86_64${s.withKernel ? "; the kernel is in the bundle" : "; give it the kernel image"})`,
  ];
  return `${out.join("\n")}\n`;
}
