// The readable report as GitHub-flavoured Markdown (report.md). Lays out view.ts; escapes table cells
// and inline text, fences console excerpts with a fence longer than any backtick run inside them.
// Charts become x-by-series tables here (SVG charts are in report.html).
import type { RunResult } from "./model.ts";
import { buildView } from "./view.ts";

/** Escape inline Markdown (and raw HTML) in text; pipes too, so it is safe in table cells. */
export function mdEscape(s: string): string {
  return s
    .replace(/[\\`*_[\]|~]/g, (ch) => `\\${ch}`)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\n/g, "<br>");
}

/** Inline code span that survives backticks and pipes in the content. */
function mdCode(s: string): string {
  const t = s.replace(/\|/g, "\\|");
  const runs = t.match(/`+/g) ?? [];
  const fence = "`".repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = t.startsWith("`") || t.endsWith("`") ? " " : "";
  return `${fence}${pad}${t}${pad}${fence}`;
}

/** A fenced code block whose fence cannot be closed by the content. */
export function mdFence(s: string, info = "text"): string {
  const runs = s.match(/`{3,}/g) ?? [];
  const fence = "`".repeat(Math.max(3, ...runs.map((r) => r.length + 1)));
  return `${fence}${info}\n${s.replace(/\n+$/, "")}\n${fence}`;
}

function table(head: string[], rows: string[][]): string[] {
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)];
}

const OUTCOME_MARK: Record<string, string> = {
  pass: "✅ pass",
  fail: "❌ fail",
  skip: "⏭️ skip",
  xfail: "☑️ xfail",
  xpass: "⚠️ xpass",
  error: "💥 error",
  timeout: "⏱️ timeout",
  missing: "🕳️ missing",
};

export function renderMarkdown(run: RunResult): string {
  const v = buildView(run);
  const out: string[] = [];
  out.push(`# ${mdEscape(v.title)}`, "", `**${v.verdict}** — ${mdEscape(v.totals)}`, "");

  out.push("## Run", "");
  out.push(
    ...table(
      ["", ""],
      v.header.map((f) => [`**${mdEscape(f.label)}**`, f.values.map((x) => (f.code ? mdCode(x) : mdEscape(x))).join("<br>")]),
    ),
    "",
  );

  out.push("## Verdicts", "");
  out.push(
    ...table(
      ["ID", "Name", "Groups", "Outcome", "Reason", "Duration"],
      v.rows.map((r) => [mdEscape(r.id), mdEscape(r.name), mdEscape(r.groups), OUTCOME_MARK[r.outcome], mdEscape(r.reason), r.duration]),
    ),
    "",
  );

  out.push("## Failures and errors", "");
  if (!v.failures.length) out.push("None.", "");
  for (const f of v.failures) {
    out.push(`### ${mdEscape(f.title)} — ${f.outcome.toUpperCase()}`, "");
    if (f.reason) out.push(mdEscape(f.reason), "");
    if (f.checks.length)
      out.push("Failed checks:", "", ...table(["Check", "Expected", "Seen"], f.checks.map((k) => [mdEscape(k.name), mdEscape(k.expected), mdEscape(k.seen)])), "");
    for (const cr of f.crashes) out.push(`**Crash (${mdEscape(cr.kind)}):** ${mdEscape(cr.title)}`, "", mdFence(cr.excerpt), "");
    if (f.console) out.push("Console excerpt:", "", mdFence(f.console), "");
  }

  if (v.knownBugs) {
    out.push("## Known bugs", "");
    if (!v.knownBugs.length) out.push("No registered bug affects this kernel.", "");
    for (const b of v.knownBugs) {
      out.push(`### ${mdEscape(b.id)}${b.race ? " (race)" : ""}`, "", mdEscape(b.title), "");
      out.push(`Registered in ${mdCode(`known-bugs/${b.file}`)}${b.link ? `; report: <${b.link.replace(/[<>\s]/g, encodeURIComponent)}>` : ""}. ${mdEscape(b.tally)}.`, "");
      if (b.passed.length) out.push(`**XPASS** (did not show): ${b.passed.map(mdEscape).join(", ")}`, "");
      for (const h of b.hits) {
        out.push(`#### ${mdEscape(h.title)} — XFAIL`, "", `Explained by this bug: ${h.matched.map(mdEscape).join("; ")}`, "");
        if (h.checks.length)
          out.push(...table(["Check", "Expected", "Seen"], h.checks.map((k) => [mdEscape(k.name), mdEscape(k.expected), mdEscape(k.seen)])), "");
        for (const cr of h.crashes) out.push(`**Crash (${mdEscape(cr.kind)}):** ${mdEscape(cr.title)}`, "", mdFence(cr.excerpt), "");
      }
    }
  }

  out.push("## Sharing measurements", "");
  if (!v.measured.length) out.push("None.", "");
  for (const m of v.measured) {
    out.push(`### ${mdEscape(m.title)}`, "");
    out.push(...table(["Measurement", "Series", "x", "Value", "Raw"], m.rows.map((r) => [mdEscape(r.name), mdEscape(r.series), r.x, mdEscape(r.value), mdEscape(r.raw)])), "");
    m.pivots.forEach((p, i) => {
      out.push(`Chart data: ${mdEscape(m.charts[i].title)} (${mdEscape(p.unit)}; chart in report.html)`, "");
      out.push(...table(["x", ...p.columns.map(mdEscape)], p.rows.map((r) => [mdEscape(r.x), ...r.cells])), "");
    });
  }

  out.push("## Findings", "");
  if (!v.findings.length) out.push("None.", "");
  for (const f of v.findings) out.push(`- **${mdEscape(f.title)}:** ${mdEscape(f.text)}`);
  if (v.findings.length) out.push("");

  if (v.stability) {
    out.push("## Repeat stability", "");
    out.push(`${v.stability.steady} cases gave the same verdict in every repetition; ${v.stability.varied.length} varied.`, "");
    for (const c of v.stability.varied) out.push(`- **${mdEscape(c.title)}:** ${mdEscape(c.outcomes)}`);
    if (v.stability.varied.length) out.push("");
  }

  out.push("---", "", `**Summary:** ${v.verdict} — ${mdEscape(v.totals)}`, "");
  return out.join("\n");
}
