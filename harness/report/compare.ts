// Baseline vs patched as statistics: every results file of a side (each possibly with --repeat
// samples) is pooled, then each case's outcome and each figure is judged significant, inconclusive or
// no change (harness/verdict/). Renders the comparison as text, leading with what changed
// significantly; comparison.json is the Comparison itself. Used by `pcshare compare` and `series`.
import path from "node:path";
import { mkdir, writeFile } from "node:fs/promises";
import type { RunResult } from "./model.ts";
import { outcomeCounts } from "./model.ts";
import { collectSamples, sideLabel } from "../verdict/samples.ts";
import { renderComparisonMarkdown } from "./compare-markdown.ts";
import { ALPHA, failsComparison, judge, type FigureItem, type Item } from "../verdict/judge.ts";

export interface ComparisonSide {
  kernel: string;
  /** Results files (or run labels) pooled into this side. */
  files: string[];
  /** Case results pooled (cases x repetitions x files). */
  samples: number;
}

export interface Comparison {
  schema: "pcshare-comparison/2";
  baseline: ComparisonSide;
  patched: ComparisonSide;
  method: string;
  alpha: number;
  /** p-values covered by the Holm adjustment. */
  tests: number;
  significant: Item[];
  inconclusive: Item[];
  unchanged: Item[];
  /** Cases or figures present on one side only: not compared. */
  oneSided: string[];
  /** True when something significant changed for the worse: a new failure or an exact figure. */
  fails: boolean;
}

export const METHOD =
  "outcomes: Fisher's exact test on failing (fail, error, timeout, xfail) vs passing (pass, xpass) samples; " +
  "noisy figures: Mann-Whitney U, at least 3 samples a side; exact figures: equal or not over all samples; " +
  "Holm's adjustment over all tests of the comparison";

export interface LabelledRuns {
  runs: RunResult[];
  files: string[];
}

export function compareSamples(baseline: LabelledRuns, patched: LabelledRuns): Comparison {
  const j = judge(collectSamples(baseline.runs), collectSamples(patched.runs));
  const side = (s: LabelledRuns): ComparisonSide => ({ kernel: sideLabel(s.runs), files: s.files, samples: s.runs.reduce((n, r) => n + r.cases.length, 0) });
  const by = (v: Item["verdict"]) => j.items.filter((i) => i.verdict === v);
  // Failures for the worse first, then the rest of the significant items.
  const significant = by("significant").sort((a, b) => Number(failsComparison(b)) - Number(failsComparison(a)));
  return {
    schema: "pcshare-comparison/2",
    baseline: side(baseline),
    patched: side(patched),
    method: METHOD,
    alpha: ALPHA,
    tests: j.tests,
    significant,
    inconclusive: by("inconclusive"),
    unchanged: by("no change"),
    oneSided: j.oneSided,
    fails: significant.some(failsComparison),
  };
}

/** One results file a side: the form `pcshare compare A B` had before it took several. */
export function compareRuns(before: RunResult, after: RunResult): Comparison {
  return compareSamples({ runs: [before], files: ["baseline"] }, { runs: [after], files: ["patched"] });
}

const LABEL: Record<string, string> = { "outcome:worse": "NEW FAILURE", "outcome:better": "FIXED", "figure:worse": "WORSE", "figure:better": "BETTER" };

/** "NEW FAILURE", "FIXED", "WORSE", "BETTER" or "CHANGED" for a significant item. */
export function itemLabel(item: Item): string {
  return LABEL[`${item.type}:${item.direction}`] ?? "CHANGED";
}

const num = (v: number) => String(Number.isInteger(v) ? v : Number(v.toPrecision(4)));

function sideFigure(s: FigureItem["baseline"]): string {
  if (s.min === s.max) return s.n === 1 ? num(s.min) : `${num(s.min)} (x${s.n})`;
  return `median ${num(s.median)} [${num(s.q1)}..${num(s.q3)}] n=${s.n}`;
}

/** The item's what-changed part: "pass 10 -> 3 pass, 7 fail" or "2048 -> 0 pages (-100 %)". */
export function itemChange(item: Item): string {
  if (item.type === "outcome") return `${outcomeCounts(item.baseline.outcomes)} -> ${outcomeCounts(item.patched.outcomes)}`;
  const pct = item.change === undefined || item.change === 0 ? "" : ` (${item.change > 0 ? "+" : ""}${(100 * item.change).toFixed(0)} %)`;
  return `${sideFigure(item.baseline)} -> ${sideFigure(item.patched)} ${item.unit}${pct}`;
}

export function itemTitle(item: Item): string {
  return item.type === "outcome" ? `${item.id} ${item.caseName}` : `${item.id} ${item.figure}${item.kindDeclared ? "" : " (kind not declared: noisy)"}`;
}

function unchangedSummary(items: Item[]): string {
  const n = (f: (i: Item) => boolean) => items.filter(f).length;
  return `${items.length} item(s): ${n((i) => i.type === "outcome")} outcome(s), ${n((i) => i.type === "figure" && i.kind === "exact")} exact figure(s), ${n((i) => i.type === "figure" && i.kind === "noisy")} noisy figure(s)`;
}

export function formatComparison(c: Comparison): string {
  const side = (s: ComparisonSide) => `${s.kernel} (${s.files.length} results file(s), ${s.samples} case sample(s))`;
  const lines = [`baseline: ${side(c.baseline)}`, `patched:  ${side(c.patched)}`, `method:   ${c.method}; alpha ${c.alpha}`, ""];
  lines.push(`significant: ${c.significant.length || "none"}`);
  for (const i of c.significant) lines.push(`  ${itemLabel(i).padEnd(11)} ${itemTitle(i)}: ${itemChange(i)}  [${i.note}]`);
  lines.push(`inconclusive: ${c.inconclusive.length || "none"}`);
  for (const i of c.inconclusive) lines.push(`  ${itemTitle(i)}: ${itemChange(i)}  [${i.note}]`);
  lines.push(`no change: ${unchangedSummary(c.unchanged)}`);
  if (c.oneSided.length) lines.push(`on one side only (not compared): ${c.oneSided.join(", ")}`);
  lines.push("", verdictLine(c));
  return lines.join("\n");
}

export function verdictLine(c: Comparison): string {
  if (c.fails) return `verdict: FAIL: ${c.significant.filter(failsComparison).length} significant change(s) for the worse`;
  const open = c.inconclusive.length ? `; ${c.inconclusive.length} inconclusive item(s) listed, not failing` : "";
  return `verdict: ok: no significant change for the worse${open}`;
}

/** Write comparison.json and comparison.md into `dir`; returns their paths. */
export async function writeComparison(c: Comparison, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const json = path.join(dir, "comparison.json");
  const md = path.join(dir, "comparison.md");
  await writeFile(json, JSON.stringify(c, null, 2) + "\n");
  await writeFile(md, renderComparisonMarkdown(c));
  return [json, md];
}
