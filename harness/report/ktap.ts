// KTAP v1 export (Documentation/dev-tools/ktap.rst), printed the way kselftest does: version line,
// plan, "# " diagnostic lines before each result line, and kselftest's "# Totals:" line at the end.
// The outcome -> KTAP mapping lives in KTAP_STATUS and nowhere else.
import type { CaseResult, Outcome, RunResult } from "./model.ts";
import { caseSlug, cleanText, failedChecks, formatNumber, oneLine } from "./common.ts";

type TotalsKey = "pass" | "fail" | "xfail" | "xpass" | "skip" | "error";

/**
 * Outcome -> result line. `directive` is printed as "# DIRECTIVE reason" after the name; `totals`
 * is the kselftest counter the case adds to. xfail and xpass print as kselftest.h prints them
 * ("ok N # XFAIL reason", "ok N # XPASS reason"): an xfail is a registered kernel bug that showed
 * exactly (ktap.rst's XFAIL directive), an xpass a registered bug that did not show, which fails a run
 * only under --strict. XPASS is not a ktap.rst directive; parsers fall back to the "ok".
 * missing (never executed) is "not ok" with ktap.rst's ERROR directive ("the execution of a test has
 * failed", the cause in the diagnostic), its reason starting "MISSING:". Not SKIP: ktap.rst lets SKIP
 * stand on a "not ok" line but parsers (kunit.py) then count the test as skipped, i.e. fine, and a run
 * that did not execute a selected case did not do its job. Not an absent result line either: the
 * plan would then flag it, but the reason would be lost.
 */
export const KTAP_STATUS: Readonly<Record<Outcome, { ok: boolean; directive?: string; totals: TotalsKey }>> = {
  pass: { ok: true, totals: "pass" },
  fail: { ok: false, totals: "fail" },
  skip: { ok: true, directive: "SKIP", totals: "skip" },
  xfail: { ok: true, directive: "XFAIL", totals: "xfail" },
  xpass: { ok: true, directive: "XPASS", totals: "xpass" },
  error: { ok: false, directive: "ERROR", totals: "error" },
  timeout: { ok: false, directive: "TIMEOUT", totals: "error" },
  missing: { ok: false, directive: "ERROR", totals: "error" },
};

/** Diagnostic lines ("# ...") printed before a case's result line. */
export function ktapDiagnostics(c: CaseResult): string[] {
  const out: string[] = [];
  const diag = (s: string) => {
    for (const line of cleanText(s).split("\n")) out.push(line.trim() ? `# ${line.trimEnd()}` : "#");
  };
  if (c.variants) diag(`variants: ${c.variants.join(", ")}`);
  if (c.outcome === "fail" && c.reason) diag(`reason: ${oneLine(c.reason)}`);
  for (const b of c.knownBugs ?? [])
    diag(`known bug ${b.id}${b.race ? " (race)" : ""}: ${oneLine(b.title)} [known-bugs/${b.file}${b.link ? ` ${b.link}` : ""}]`);
  for (const k of failedChecks(c)) {
    const detail = [
      k.expected !== undefined ? `expected ${oneLine(k.expected)}` : undefined,
      k.seen !== undefined ? `seen ${oneLine(k.seen)}` : undefined,
    ].filter(Boolean);
    diag(`check failed: ${oneLine(k.name)}${detail.length ? `: ${detail.join(", ")}` : ""}`);
  }
  for (const cr of c.crashes) diag(`crash ${oneLine(cr.kind)}: ${oneLine(cr.title)}`);
  for (const m of c.measurements) {
    const where = [m.series !== undefined ? `series=${m.series}` : "", m.x !== undefined ? `x=${m.x}` : ""];
    diag(["measure", `${oneLine(m.name).replace(/\s+/g, "_")}=${formatNumber(m.value)}`, m.unit, ...where].filter(Boolean).join(" "));
  }
  for (const f of c.findings) diag(`finding: ${oneLine(f)}`);
  return out;
}

/** The result line: "ok 3 F1_name # SKIP reason". */
export function ktapResultLine(c: CaseResult, n: number): string {
  const st = KTAP_STATUS[c.outcome];
  let line = `${st.ok ? "ok" : "not ok"} ${n} ${caseSlug(c)}`;
  if (st.directive) {
    const reason = [c.outcome === "missing" ? "MISSING:" : "", c.reason ? oneLine(c.reason) : ""].filter(Boolean).join(" ");
    line += ` # ${st.directive}${reason ? ` ${reason}` : ""}`;
  }
  return line;
}

/** kselftest's totals line. Timeouts count as errors (kselftest has no timeout counter). */
export function ktapTotals(run: RunResult): string {
  const t: Record<TotalsKey, number> = { pass: 0, fail: 0, xfail: 0, xpass: 0, skip: 0, error: 0 };
  for (const c of run.cases) t[KTAP_STATUS[c.outcome].totals]++;
  return `# Totals: pass:${t.pass} fail:${t.fail} xfail:${t.xfail} xpass:${t.xpass} skip:${t.skip} error:${t.error}`;
}

/** The whole KTAP document, newline-terminated. */
export function renderKtap(run: RunResult): string {
  const lines = ["KTAP version 1", `1..${run.cases.length}`];
  run.cases.forEach((c, i) => {
    lines.push(...ktapDiagnostics(c), ktapResultLine(c, i + 1));
  });
  lines.push(ktapTotals(run));
  return lines.join("\n") + "\n";
}
