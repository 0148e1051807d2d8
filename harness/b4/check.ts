// b4's CI check protocol (b4 review: b4.review-perpatch-check-cmd / b4.review-series-check-cmd): the
// command reads one RFC 2822 message on stdin (a patch, or the series' cover letter) and prints a JSON
// array of {tool, status: pass|warn|fail, summary?, url?, details?}; [] means nothing to report. This
// module turns what pcshare found into those entries: a series that does not apply, a kernel that does
// not build, and the A/B comparison's verdict.
import { readFile } from "node:fs/promises";
import type { Comparison } from "../report/compare.ts";
import { formatComparison, itemChange, itemLabel, itemTitle, verdictLine } from "../report/compare.ts";
import { failsComparison } from "../verdict/judge.ts";
import { parseMbox, PatchApplyError } from "../kernel/series.ts";
import { InputError } from "../util/input-error.ts";
import { describeErrno } from "../cli/validate.ts";

export const B4_TOOL = "pcshare";

export interface B4Result {
  tool: string;
  status: "pass" | "warn" | "fail";
  summary?: string;
  url?: string;
  details?: string;
}

/** The patches in the message(s) on stdin; none for a cover letter. */
export function patchesIn(text: string): number {
  return parseMbox(text, "stdin").filter((p) => p.diff).length;
}

/** The series range b4's tracking file (B4_TRACKING_FILE) records, e.g. "abc123..def456", if any. */
export async function trackedRange(file: string | undefined): Promise<string | undefined> {
  if (!file) return undefined;
  const where = `B4_TRACKING_FILE=${file}`;
  const content = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
    throw new InputError(`${where}: ${err.code === "ENOENT" ? "no such file" : `cannot read it (${describeErrno(err.code)})`}; b4 sets it to the series' tracking file: unset it or name that file`);
  });
  let data: { series?: Record<string, unknown> };
  try {
    data = JSON.parse(content) as typeof data;
  } catch (err) {
    throw new InputError(`${where}: not JSON (${(err as Error).message}); b4 sets it to the series' tracking file: unset it or name that file`);
  }
  const range = data.series?.["series-range"];
  return typeof range === "string" && range.includes("..") ? range : undefined;
}

/** A series that does not apply: which patch, which file and hunk. */
export function applyFailure(err: PatchApplyError): B4Result {
  return {
    tool: B4_TOOL,
    status: "fail",
    summary: `patch ${err.patch.index}/${err.total} "${err.patch.subject}" does not apply`,
    details: `${err.message}\n\npatch(1) said:\n${err.output.trim()}`,
  };
}

/** A kernel that did not build (or a run that could not start): the error as pcshare reported it. */
export function buildFailure(side: "baseline" | "patched", err: Error): B4Result {
  return { tool: B4_TOOL, status: side === "patched" ? "fail" : "warn", summary: `${side} kernel: ${err.message.split("\n")[0]}`, details: err.message };
}

/**
 * The comparison's verdict: fail on a significant change for the worse (or cases left missing), warn
 * when items stay inconclusive, else pass.
 */
export function comparisonResult(cmp: Comparison, missing: number, url?: string): B4Result {
  const worse = cmp.significant.filter(failsComparison);
  const status = worse.length || missing ? "fail" : cmp.inconclusive.length ? "warn" : "pass";
  const summary =
    status === "fail"
      ? worse.length
        ? `${worse.length} significant change(s) for the worse: ${worse.map((i) => `${itemLabel(i)} ${itemTitle(i)}`).join("; ")}`
        : `${missing} case run(s) missing: the comparison is incomplete`
      : status === "warn"
        ? `no significant change for the worse; ${cmp.inconclusive.length} item(s) inconclusive: ${cmp.inconclusive.map((i) => `${itemTitle(i)} ${itemChange(i)}`).join("; ")}`
        : `no significant change over ${cmp.significant.length + cmp.unchanged.length} item(s) (${verdictLine(cmp).replace(/^verdict: /, "")})`;
  return { tool: B4_TOOL, status, summary: summary.slice(0, 300), ...(url && { url }), details: formatComparison(cmp) };
}

/** The JSON b4 reads from stdout. */
export function renderB4(results: B4Result[]): string {
  return JSON.stringify(results, null, 2) + "\n";
}
