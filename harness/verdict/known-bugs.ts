// The known-bugs verdict layer: a post-pass over a RunResult. A failed case becomes xfail when every
// part of its failure (each failed check, each crash report) matches the signature of a bug registered
// for that case and kernel, and every required part of each such bug was seen. A case that passes on
// a kernel a bug is registered for becomes xpass ("fixed? update known-bugs/<file>"). Anything else
// is left as it is: a different crash, an extra failed check, an error or timeout stay what they were.
import semver from "semver";
import type { CaseResult, Check, CrashReport, KernelInfo, KnownBugMatch, RunResult } from "../report/model.ts";
import type { CheckSignature, CrashSignature, KnownBug } from "./known-bug-schema.ts";

const whole = (pattern: string, text: string) => new RegExp(`^(?:${pattern})$`, "s").test(text);

/** X.Y.Z of a release ("7.2.13+deb14-amd64" -> "7.2.13"), undefined when it has none. */
export function releaseVersion(release: string): string | undefined {
  const m = release.match(/^(\d+)\.(\d+)(?:\.(\d+))?/);
  return m ? `${m[1]}.${m[2]}.${m[3] ?? 0}` : undefined;
}

/** Whether `kernel` is one the bug is registered for (any range matches: version and every option). */
export function affects(bug: KnownBug, kernel: KernelInfo): boolean {
  const v = releaseVersion(kernel.release);
  if (!v) return false;
  return bug.kernels.some(
    (k) => semver.satisfies(v, k.versions) && Object.entries(k.config ?? {}).every(([opt, want]) => (kernel.config[opt] ?? "n") === want),
  );
}

const RIP = /\bRIP: 0010:([A-Za-z_][\w.]*)\+0x/;
const FRAME = /^(?:\[[^\]]*\]\s*)*\s+([A-Za-z_][\w.]*)\+0x[0-9a-f]+\/0x[0-9a-f]+/;
const IN_FN = /\bin ([A-Za-z_][\w.]*)\+0x/;
const AT_FN = /\bat ([A-Za-z_][\w.]*)\+0x/;

/** The excerpt from the report's own title line on (the lines before it belong to whatever came earlier). */
function ownLines(cr: CrashReport): string[] {
  const lines = cr.excerpt.split("\n");
  const at = lines.findIndex((l) => l.includes(cr.title));
  return at < 0 ? lines : lines.slice(at);
}

/**
 * The functions a crash report points at: KASAN/KFENCE name it in the title ("... in strlen+0x1c/0x40"),
 * others in the kernel RIP lines of the excerpt (several when reports of other CPUs interleave or
 * follow inside it), a WARNING without one in its title ("at iomap_readahead+0x..."). ["none"] if none.
 */
export function crashFunctions(cr: CrashReport): string[] {
  const fromTitle = cr.kind === "kasan" || cr.kind === "kfence" ? cr.title.match(IN_FN)?.[1] : undefined;
  const rips = ownLines(cr).map((l) => l.match(RIP)?.[1]).filter((f): f is string => f !== undefined);
  const all = [...(fromTitle ? [fromTitle] : []), ...rips];
  if (!all.length && cr.title.match(AT_FN)) all.push(cr.title.match(AT_FN)![1]);
  return all.length ? [...new Set(all)] : ["none"];
}

/** The first of crashFunctions (undefined for none): what a report is labelled with. */
export function crashFunction(cr: CrashReport): string | undefined {
  const f = crashFunctions(cr)[0];
  return f === "none" ? undefined : f;
}

/**
 * The functions of the report's call trace (the first "Call Trace:" from its title on: one in the lines
 * before it is an earlier report's), innermost first, without unreliable ("? fn") frames.
 */
export function callTrace(cr: CrashReport): string[] {
  const lines = ownLines(cr);
  const start = lines.findIndex((l) => /Call Trace:/.test(l));
  if (start < 0) return [];
  return lines.slice(start + 1).map((l) => l.match(FRAME)?.[1]).filter((f): f is string => f !== undefined);
}

/** `want` appears in `have` in order (a subsequence). */
function inOrder(want: readonly string[], have: readonly string[]): boolean {
  let i = 0;
  for (const f of have) if (f === want[i]) i++;
  return i === want.length;
}

export function crashMatches(sig: CrashSignature, cr: CrashReport): boolean {
  if (sig.kind !== cr.kind) return false;
  if (sig.function !== undefined) {
    const fns = typeof sig.function === "string" ? [sig.function] : sig.function;
    if (!crashFunctions(cr).every((f) => fns.includes(f))) return false;
  }
  if (sig.callers && !inOrder(sig.callers, callTrace(cr))) return false;
  return sig.title === undefined || whole(sig.title, cr.title);
}

export function checkMatches(sig: CheckSignature, k: Check): boolean {
  return !k.ok && sig.name === k.name && whole(sig.seen, k.seen ?? "");
}

/** Why a failed case is or is not explained by the bugs registered for it. */
export interface Explanation {
  /** Bugs that explain the whole failure (non-empty only when everything is explained). */
  bugs: KnownBugMatch[];
  /** Parts of the failure no registered bug explains, or required parts of a bug that were missing. */
  unexplained: string[];
}

function ref(bug: KnownBug, matched: string[]): KnownBugMatch {
  return { id: bug.id, title: bug.title, file: bug.file, version: bug.version, race: bug.race, ...(bug.link && { link: bug.link }), matched };
}

/** Match a failed case's failed checks and crashes against `bugs` (already narrowed to its case and kernel). */
export function explain(c: CaseResult, bugs: readonly KnownBug[]): Explanation {
  const parts = [
    ...c.checks.filter((k) => !k.ok).map((k) => ({ label: `check "${k.name}" (seen ${k.seen ?? "?"})`, hit: (b: KnownBug) => b.signature.checks.filter((s) => checkMatches(s, k)) as object[] })),
    ...c.crashes.map((cr) => ({ label: `${cr.kind} "${cr.title}"${crashFunction(cr) ? ` in ${crashFunction(cr)}` : ""}`, hit: (b: KnownBug) => b.signature.crashes.filter((s) => crashMatches(s, cr)) as object[] })),
  ];
  const matched = new Map<KnownBug, { labels: string[]; sigs: Set<object> }>();
  const hits = parts.map((p) => {
    const by: KnownBug[] = [];
    for (const b of bugs) {
      const sigs = p.hit(b);
      if (!sigs.length) continue;
      by.push(b);
      const m = matched.get(b) ?? { labels: [], sigs: new Set<object>() };
      m.labels.push(p.label);
      for (const s of sigs) m.sigs.add(s);
      matched.set(b, m);
    }
    return { label: p.label, by };
  });
  // A bug explains only with every required part of its signature seen: a bug that matched some part
  // but misses a required one explains nothing (another bug may explain what it matched).
  const missing = new Map<KnownBug, string[]>();
  for (const [b, m] of matched) {
    const absent = [...b.signature.checks, ...b.signature.crashes].filter((s) => !s.optional && !m.sigs.has(s));
    if (absent.length) missing.set(b, absent.map((s) => `${"name" in s ? `check "${s.name}"` : `${s.kind}${s.function ? ` in ${s.function}` : ""}${s.title ? ` /${s.title}/` : ""}`}, required by known bug ${b.id}, not seen`));
  }
  const unexplained = hits.filter((h) => !h.by.some((b) => !missing.has(b))).map((h) => h.label);
  if (parts.length === 0) unexplained.push(`the failure shows no failed check and no crash report${c.reason ? ` (${c.reason})` : ""}`);
  if (unexplained.length) for (const why of missing.values()) unexplained.push(...why);
  const explaining = [...matched].filter(([b]) => !missing.has(b));
  return { bugs: unexplained.length ? [] : explaining.map(([b, m]) => ref(b, m.labels)), unexplained };
}

/**
 * The bugs registered for this case id on this kernel; with the variants a result ran, only the bugs
 * registered for one of them (or for every variant).
 */
export function bugsFor(caseId: string, kernel: KernelInfo, bugs: readonly KnownBug[], variants?: readonly string[]): KnownBug[] {
  return bugs.filter((b) => b.cases.includes(caseId) && affects(b, kernel) && ranVariantOf(b, variants));
}

/** Whether a result that ran `variants` (undefined: a case without variants) could show bug `b`. */
function ranVariantOf(b: Pick<KnownBug, "variants">, variants: readonly string[] | undefined): boolean {
  return !b.variants || !variants || b.variants.some((v) => variants.includes(v));
}

/**
 * One case through the layer. Outcomes other than pass and fail are never changed. A case the layer
 * has seen (rawOutcome set: also on a fail it explained as not the known bug) is left as it is.
 */
export function applyToCase(c: CaseResult, kernel: KernelInfo, bugs: readonly KnownBug[]): CaseResult {
  const mine = bugsFor(c.id, kernel, bugs, c.variants);
  if (!mine.length || c.rawOutcome !== undefined) return c;
  const raw = { rawReason: c.reason ?? "" };
  if (c.outcome === "fail") {
    const ex = explain(c, mine);
    if (!ex.bugs.length) {
      const near = mine.map((b) => b.id).join(", ");
      return { ...c, rawOutcome: "fail", ...raw, reason: `${c.reason ?? "failed"} [not known bug ${near}: ${ex.unexplained.join("; ")}]` };
    }
    return {
      ...c,
      outcome: "xfail",
      rawOutcome: "fail",
      ...raw,
      reason: `known bug ${ex.bugs.map((b) => b.id).join(", ")}: ${c.reason ?? ex.bugs[0].title}`,
      knownBugs: ex.bugs,
    };
  }
  if (c.outcome === "pass") {
    const why = mine.map((b) => (b.race ? `race ${b.id} did not fire this time` : `known bug ${b.id} did not show: fixed? update known-bugs/${b.file}`));
    return { ...c, outcome: "xpass", rawOutcome: "pass", ...raw, reason: why.join("; "), knownBugs: mine.map((b) => ref(b, [])) };
  }
  return c;
}

/**
 * A case as the kernel left it, before the known-bugs layer: its raw outcome and reason back, no bug
 * matches. Results written before rawReason was recorded get the layer's own wording taken off.
 */
export function withoutKnownBugsCase(c: CaseResult): CaseResult {
  if (c.rawOutcome === undefined) return c;
  // The layer's reason goes with it: the raw one (none when it was empty) takes its place.
  const { rawOutcome, rawReason, knownBugs: _matches, reason: _layers, ...rest } = c;
  const legacy = rawOutcome === "pass" ? undefined : c.reason?.replace(/^known bug [^:]+: /, "").replace(/ \[not known bug .*\]$/s, "");
  const reason = rawReason !== undefined ? rawReason || undefined : legacy;
  return { ...rest, outcome: rawOutcome, ...(reason !== undefined && { reason }) };
}

/** The run as the kernel left it (see withoutKnownBugsCase), to judge again with another registry. */
export function withoutKnownBugs(run: RunResult): RunResult {
  const { knownBugs: _registered, ...rest } = run;
  return { ...rest, cases: run.cases.map(withoutKnownBugsCase) };
}

/** The run with the known-bugs layer applied to every case (the input is not modified). */
export function applyKnownBugs(run: RunResult, bugs: readonly KnownBug[]): RunResult {
  return {
    ...run,
    cases: run.cases.map((c) => applyToCase(c, run.kernel, bugs)),
    knownBugs: bugs.filter((b) => affects(b, run.kernel)).map((b) => ({ id: b.id, title: b.title, file: b.file, version: b.version, race: b.race, cases: b.cases, ...(b.variants && { variants: b.variants }), ...(b.link && { link: b.link }) })),
  };
}

/** Per registered bug, over the run's cases (all repetitions): how often its cases hit it and passed. */
export interface BugTally {
  id: string;
  file: string;
  race: boolean;
  hits: number;
  passes: number;
  runs: number;
  /** Results of its cases that failed as another registered bug (a race registered in two shapes). */
  otherBugs: number;
}

export function tallyKnownBugs(run: RunResult): BugTally[] {
  return (run.knownBugs ?? []).map((b) => {
    const cases = run.cases.filter((c) => b.cases.includes(c.id) && c.outcome !== "skip" && ranVariantOf(b, c.variants));
    const hits = cases.filter((c) => c.outcome === "xfail" && c.knownBugs?.some((k) => k.id === b.id)).length;
    const passes = cases.filter((c) => c.outcome === "xpass" && c.knownBugs?.some((k) => k.id === b.id)).length;
    const otherBugs = cases.filter((c) => c.outcome === "xfail" && c.knownBugs?.length && !c.knownBugs.some((k) => k.id === b.id)).length;
    return { id: b.id, file: b.file, race: b.race, hits, passes, runs: cases.length, otherBugs };
  });
}
