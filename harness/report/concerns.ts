// Owns: the plain text of `pcshare concerns`: for each review concern (cases/concerns.ts), what one
// kernel does in the cases that reproduce it: each case's verdict (all repeats), what it saw when it
// failed, a one-line reproducer and a short excerpt, ready to paste into a review reply. Pure.
import { CONCERNS, type ConcernTag } from "../../cases/concerns.ts";
import type { CaseDef } from "../runner/case.ts";
import type { CaseResult, RunResult } from "./model.ts";
import { crashGist } from "./crash-gist.ts";

const EXCERPT_LINES = 4;
const WIDTH = 200;

export interface ConcernsInput {
  run: RunResult;
  /** The catalogue, for the concern tag and expectation of results that do not carry them. */
  defs: readonly CaseDef[];
  /** How the reproducer lines name the results file (as the user gave it). */
  resultsPath: string;
}

const cut = (s: string) => (s.length > WIDTH ? `${s.slice(0, WIDTH - 3)}...` : s);

function tagOf(r: CaseResult, defs: readonly CaseDef[]): ConcernTag | undefined {
  const tag = r.concernTag ?? defs.find((d) => d.id === r.id)?.concernTag;
  return tag && tag in CONCERNS ? (tag as ConcernTag) : undefined;
}

/** "fail" or "xfail (registered bug X)"; with repeats "fail 3/5, pass 2/5". */
function verdict(rs: CaseResult[]): string {
  const counts = new Map<string, number>();
  for (const r of rs) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  const bugs = [...new Set(rs.flatMap((r) => r.knownBugs?.map((b) => b.id) ?? []))];
  const parts = [...counts].map(([o, n]) => (rs.length > 1 ? `${o} ${n}/${rs.length}` : o));
  return `${parts.join(", ")}${bugs.length ? ` (registered bug ${bugs.join(", ")})` : ""}`;
}

/** What the first failing repeat saw: its first kernel report, else its first failed check, else its reason. */
function seen(r: CaseResult): string {
  const crash = r.crashes[0];
  if (crash) return `kernel report (${crash.kind}): ${crash.title}`;
  const check = r.checks.find((c) => !c.ok);
  if (check) return `${check.name}: expected ${check.expected ?? "to hold"}, seen ${check.seen ?? "not"}`;
  return r.rawReason || r.reason || r.outcome;
}

/** The lines of the first kernel report that say where (its title is already in "seen"). */
function excerpt(r: CaseResult): string[] {
  return r.crashes[0] ? crashGist(r.crashes[0], EXCERPT_LINES - 1).slice(1).filter((l) => l !== "Call Trace:") : [];
}

/** The --kernel option that names this kernel again, when the source is one (Debian package or a file). */
function kernelOption(source: string): string {
  if (source.startsWith("debian:")) return ` --kernel ${source}`;
  if (source.startsWith("path:")) return ` --kernel ${source.slice(5)}`;
  return ` (with the build options that made ${source})`;
}

const FAILING = new Set(["fail", "xfail", "error", "timeout"]);

function caseBlock(rs: CaseResult[], input: ConcernsInput): string[] {
  const r = rs[0];
  const failed = rs.find((x) => FAILING.has(x.outcome));
  const def = input.defs.find((d) => d.id === r.id);
  const lines = [`  ${r.id} ${r.name}: ${verdict(rs)}`];
  if (!failed) {
    if (def && rs.some((x) => x.outcome === "pass")) lines.push(`    does: ${cut(def.expect)}`);
    else if (r.reason) lines.push(`    ${cut(r.reason)}`);
    return lines;
  }
  lines.push(`    seen: ${cut(seen(failed))}`);
  for (const l of excerpt(failed)) lines.push(`    | ${cut(l)}`);
  lines.push(`    reproduce: pcshare repro ${input.resultsPath}#${r.id} --out repro-${r.id}   (or: pcshare run --only ${r.id}${kernelOption(input.run.kernel.source)})`);
  return lines;
}

/** The whole text. */
export function concernsText(input: ConcernsInput): string {
  const { run } = input;
  const byTag = new Map<ConcernTag, Map<string, CaseResult[]>>();
  for (const r of run.cases) {
    const tag = tagOf(r, input.defs);
    if (!tag) continue;
    const cases = byTag.get(tag) ?? new Map<string, CaseResult[]>();
    cases.set(r.id, [...(cases.get(r.id) ?? []), r]);
    byTag.set(tag, cases);
  }
  const out = [`Review concerns on ${run.kernel.release} (${run.kernel.source} ${run.kernel.version}), from ${input.resultsPath}:`];
  for (const [tag, title] of Object.entries(CONCERNS) as [ConcernTag, string][]) {
    out.push("", `* ${title} [${tag}]`);
    const cases = byTag.get(tag);
    if (!cases) {
      const ids = input.defs.filter((d) => d.concernTag === tag).map((d) => d.id);
      out.push(`  not run in these results (cases: ${ids.join(", ") || "none"}); run them: pcshare run --only ${ids.join(",")}${kernelOption(run.kernel.source)}`);
      continue;
    }
    const all = [...cases.values()];
    const bad = all.filter((rs) => rs.some((x) => FAILING.has(x.outcome))).length;
    out.push(`  ${bad ? `${bad} of ${all.length} case${all.length > 1 ? "s" : ""} failed` : all.length > 1 ? `held in all ${all.length} cases` : "held in its 1 case"}`);
    for (const rs of all) out.push(...caseBlock(rs, input));
  }
  return `${out.join("\n")}\n`;
}
