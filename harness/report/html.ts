// The readable report as one self-contained HTML page (report.html): inline CSS, inline SVG charts,
// no scripts and nothing fetched from the network (a CSP meta tag enforces it). Lays out view.ts;
// every piece of text goes through escapeHtml.
import type { Outcome, RunResult } from "./model.ts";
import { renderChart } from "./svg-chart.ts";
import { buildView } from "./view.ts";

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);
}

/** Background/foreground colour per outcome. */
export const OUTCOME_COLOURS: Readonly<Record<Outcome, { bg: string; fg: string }>> = {
  pass: { bg: "#d4edda", fg: "#155724" },
  fail: { bg: "#f8d7da", fg: "#721c24" },
  skip: { bg: "#e2e3e5", fg: "#383d41" },
  xfail: { bg: "#d1ecf1", fg: "#0c5460" },
  xpass: { bg: "#fff3cd", fg: "#856404" },
  error: { bg: "#f5c6cb", fg: "#491217" },
  timeout: { bg: "#ffe5b4", fg: "#7a4100" },
  missing: { bg: "#d6d8db", fg: "#721c24" },
};

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}h3{margin-top:1.4em}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
td code{word-break:break-all}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}
pre{background:#f7f7f7;border:1px solid #ddd;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.o{display:inline-block;padding:0 .5em;border-radius:.3em;font-weight:600}
.verdict{font-size:1.2em;font-weight:700;padding:.3em .8em;border-radius:.3em;display:inline-block}
.chart{margin:.5em 0}.facts td:first-child{font-weight:600;white-space:nowrap}
` + Object.entries(OUTCOME_COLOURS).map(([o, c]) => `.o-${o}{background:${c.bg};color:${c.fg}}`).join("\n");

const badge = (o: Outcome) => `<span class="o o-${o}">${o}</span>`;
const td = (s: string, cls = "") => `<td${cls ? ` class="${cls}"` : ""}>${s}</td>`;

function table(head: string[], rows: string[][], cls = ""): string {
  return [
    `<table${cls ? ` class="${cls}"` : ""}>`,
    `<thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead>`,
    "<tbody>",
    ...rows.map((r) => `<tr>${r.join("")}</tr>`),
    "</tbody></table>",
  ].join("\n");
}

export function renderHtml(run: RunResult): string {
  const v = buildView(run);
  const e = escapeHtml;
  const out: string[] = [];
  out.push(
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${e(v.title)}</title>`,
    `<style>${CSS}</style>`,
    "</head><body>",
    `<h1>${e(v.title)}</h1>`,
    `<p><span class="verdict o-${v.verdict === "PASS" ? "pass" : "fail"}">${v.verdict}</span> ${e(v.totals)}</p>`,
  );

  out.push("<h2>Run</h2>");
  out.push(
    table(
      ["", ""],
      v.header.map((f) => [
        td(e(f.label)),
        td(f.values.map((x) => (f.code ? `<code>${e(x)}</code>` : e(x))).join("<br>")),
      ]),
      "facts",
    ),
  );

  out.push("<h2>Verdicts</h2>");
  out.push(
    table(
      ["ID", "Name", "Groups", "Outcome", "Reason", "Duration"],
      v.rows.map((r) => [td(e(r.id)), td(e(r.name)), td(e(r.groups)), td(badge(r.outcome)), td(e(r.reason)), td(e(r.duration), "num")]),
      "verdicts",
    ),
  );

  out.push("<h2>Failures and errors</h2>");
  if (!v.failures.length) out.push("<p>None.</p>");
  for (const f of v.failures) {
    out.push(`<h3>${e(f.title)} ${badge(f.outcome)}</h3>`);
    if (f.reason) out.push(`<p>${e(f.reason)}</p>`);
    if (f.checks.length)
      out.push(
        "<p>Failed checks:</p>",
        table(["Check", "Expected", "Seen"], f.checks.map((k) => [td(e(k.name)), td(`<code>${e(k.expected)}</code>`), td(`<code>${e(k.seen)}</code>`)])),
      );
    for (const cr of f.crashes)
      out.push(`<p><strong>Crash (${e(cr.kind)}):</strong> ${e(cr.title)}</p>`, `<pre>${e(cr.excerpt)}</pre>`);
    if (f.console) out.push("<details open><summary>Console excerpt</summary>", `<pre>${e(f.console)}</pre>`, "</details>");
  }

  if (v.knownBugs) {
    out.push("<h2>Known bugs</h2>");
    if (!v.knownBugs.length) out.push("<p>No registered bug affects this kernel.</p>");
    for (const b of v.knownBugs) {
      out.push(`<h3>${e(b.id)}${b.race ? " (race)" : ""}</h3>`, `<p>${e(b.title)}</p>`);
      const link = b.link && /^https?:/.test(b.link) ? `; report: <a href="${e(b.link)}">${e(b.link)}</a>` : "";
      out.push(`<p>Registered in <code>known-bugs/${e(b.file)}</code>${link}. ${e(b.tally)}.</p>`);
      if (b.passed.length) out.push(`<p>${badge("xpass")} did not show in: ${e(b.passed.join(", "))}</p>`);
      for (const h of b.hits) {
        out.push(`<h4>${e(h.title)} ${badge("xfail")}</h4>`, `<p>Explained by this bug: ${e(h.matched.join("; "))}</p>`);
        if (h.checks.length)
          out.push(table(["Check", "Expected", "Seen"], h.checks.map((k) => [td(e(k.name)), td(`<code>${e(k.expected)}</code>`), td(`<code>${e(k.seen)}</code>`)])));
        for (const cr of h.crashes) out.push(`<p><strong>Crash (${e(cr.kind)}):</strong> ${e(cr.title)}</p>`, `<pre>${e(cr.excerpt)}</pre>`);
      }
    }
  }

  out.push("<h2>Sharing measurements</h2>");
  if (!v.measured.length) out.push("<p>None.</p>");
  for (const m of v.measured) {
    out.push(`<h3>${e(m.title)}</h3>`);
    for (const ch of m.charts)
      out.push(`<div class="chart">${renderChart(ch.series, { kind: ch.kind, title: ch.title, yUnit: ch.unit, xLabel: ch.xLabel })}</div>`);
    out.push(
      table(
        ["Measurement", "Series", "x", "Value", "Raw"],
        m.rows.map((r) => [td(e(r.name)), td(e(r.series)), td(e(r.x), "num"), td(e(r.value), "num"), td(e(r.raw), "num")]),
      ),
    );
  }

  out.push("<h2>Findings</h2>");
  if (!v.findings.length) out.push("<p>None.</p>");
  else out.push("<ul>", ...v.findings.map((f) => `<li><strong>${e(f.title)}:</strong> ${e(f.text)}</li>`), "</ul>");

  if (v.stability) {
    out.push("<h2>Repeat stability</h2>");
    out.push(`<p>${v.stability.steady} cases gave the same verdict in every repetition; ${v.stability.varied.length} varied.</p>`);
    if (v.stability.varied.length) out.push("<ul>", ...v.stability.varied.map((c) => `<li><strong>${e(c.title)}:</strong> ${e(c.outcomes)}</li>`), "</ul>");
  }

  out.push(`<hr><p><strong>Summary:</strong> ${v.verdict} — ${e(v.totals)}</p>`, "</body></html>", "");
  return out.join("\n");
}
