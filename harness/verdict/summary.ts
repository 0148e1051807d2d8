// What the command line says about known bugs after a run: each xfail with the bug that explains it,
// each xpass loudly (with what to do about it), and per race how many of its results hit it. Shared by
// `pcshare run`, `series` and `mutants`, and the layer's loading step for those commands.
import { ALL_CASES } from "../../cases/index.ts";
import type { CaseResult, KernelInfo, RunResult } from "../report/model.ts";
import { caseTitle } from "../report/common.ts";
import { applyToCase, tallyKnownBugs } from "./known-bugs.ts";
import { loadKnownBugs, DEFAULT_KNOWN_BUGS_DIR } from "./load-known-bugs.ts";
import type { KnownBug } from "./known-bug-schema.ts";

/** The registered bugs for a command: from `dir` (default known-bugs/), none when `dir` is false (--no-known-bugs). */
export async function knownBugsFor(dir: string | boolean | undefined): Promise<KnownBug[]> {
  if (dir === false) return [];
  return loadKnownBugs(typeof dir === "string" ? dir : DEFAULT_KNOWN_BUGS_DIR, ALL_CASES.map((c) => c.id));
}

/** Wrap a per-result printer so live lines show the outcome after the known-bugs layer. */
export function layeredPrinter<A extends unknown[]>(
  kernel: KernelInfo,
  bugs: readonly KnownBug[],
  print: (r: CaseResult, ...rest: A) => void,
): (r: CaseResult, ...rest: A) => void {
  return (r, ...rest) => print(applyToCase(r, kernel, bugs), ...rest);
}

/** Lines for the end of a run: xfails with their bug ids, xpasses loudly, race tallies. Empty when none apply. */
export function knownBugLines(run: RunResult): string[] {
  const out: string[] = [];
  for (const c of run.cases.filter((x) => x.outcome === "xfail"))
    out.push(`  xfail ${caseTitle(c)}: known bug ${(c.knownBugs ?? []).map((b) => `${b.id} (known-bugs/${b.file})`).join(", ")}`);
  for (const c of run.cases.filter((x) => x.outcome === "xpass")) {
    for (const b of c.knownBugs ?? []) {
      out.push(
        b.race
          ? `  XPASS ${caseTitle(c)}: race ${b.id} did not fire this time (known-bugs/${b.file})`
          : `  XPASS ${caseTitle(c)}: known bug ${b.id} did not show. FIXED? update known-bugs/${b.file}`,
      );
    }
  }
  for (const t of tallyKnownBugs(run).filter((x) => x.race && x.runs > 0))
    out.push(`  race ${t.id}: hit in ${t.hits} of ${t.runs} result(s), passed in ${t.passes}${t.otherBugs ? `, another registered bug in ${t.otherBugs}` : ""}`);
  return out.length ? ["known bugs:", ...out] : [];
}
