// Every outcome through every exporter, one table row each: what KTAP, JUnit, KCIDB, the Markdown and
// HTML summaries and the run verdict make of a single case with that outcome. A changed mapping in any
// one exporter turns its cell red here.
import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { OUTCOMES, FAILING, failingOutcomes, summarize, type Outcome } from "../../harness/report/model.ts";
import { renderKtap } from "../../harness/report/ktap.ts";
import { renderJunit } from "../../harness/report/junit.ts";
import { toKcidb } from "../../harness/report/kcidb.ts";
import { renderMarkdown } from "../../harness/report/markdown.ts";
import { renderHtml } from "../../harness/report/html.ts";
import { makeCase, makeRun } from "./fixtures.ts";

interface Row {
  ktap: string;
  totals: string;
  junit: { element?: string; failures: number; errors: number; skipped: number };
  kcidb: string;
  mark: string;
  verdict: "PASS" | "FAIL";
}

const ROWS: Record<Outcome, Row> = {
  pass: { ktap: "ok 1 X1_c", totals: "pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0", junit: { failures: 0, errors: 0, skipped: 0 }, kcidb: "PASS", mark: "✅ pass", verdict: "PASS" },
  fail: { ktap: "not ok 1 X1_c", totals: "pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0", junit: { element: "failure", failures: 1, errors: 0, skipped: 0 }, kcidb: "FAIL", mark: "❌ fail", verdict: "FAIL" },
  skip: { ktap: "ok 1 X1_c # SKIP why", totals: "pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0", junit: { element: "skipped", failures: 0, errors: 0, skipped: 1 }, kcidb: "SKIP", mark: "⏭️ skip", verdict: "PASS" },
  // A registered kernel bug that showed: skipped as pytest writes an xfail, FAIL (faulty code) for KCIDB.
  xfail: { ktap: "ok 1 X1_c # XFAIL why", totals: "pass:0 fail:0 xfail:1 xpass:0 skip:0 error:0", junit: { element: "skipped", failures: 0, errors: 0, skipped: 1 }, kcidb: "FAIL", mark: "☑️ xfail", verdict: "PASS" },
  // A registered bug that did not show: passes everywhere (only --strict fails a run on it).
  xpass: { ktap: "ok 1 X1_c # XPASS why", totals: "pass:0 fail:0 xfail:0 xpass:1 skip:0 error:0", junit: { failures: 0, errors: 0, skipped: 0 }, kcidb: "PASS", mark: "⚠️ xpass", verdict: "PASS" },
  error: { ktap: "not ok 1 X1_c # ERROR why", totals: "pass:0 fail:0 xfail:0 xpass:0 skip:0 error:1", junit: { element: "error", failures: 0, errors: 1, skipped: 0 }, kcidb: "ERROR", mark: "💥 error", verdict: "FAIL" },
  timeout: { ktap: "not ok 1 X1_c # TIMEOUT why", totals: "pass:0 fail:0 xfail:0 xpass:0 skip:0 error:1", junit: { element: "error", failures: 0, errors: 1, skipped: 0 }, kcidb: "ERROR", mark: "⏱️ timeout", verdict: "FAIL" },
  // Selected but never executed: KTAP's ERROR directive with the MISSING diagnostic, KCIDB's own MISS.
  missing: { ktap: "not ok 1 X1_c # ERROR MISSING: why", totals: "pass:0 fail:0 xfail:0 xpass:0 skip:0 error:1", junit: { element: "error", failures: 0, errors: 1, skipped: 0 }, kcidb: "MISS", mark: "🕳️ missing", verdict: "FAIL" },
};

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_", isArray: (n) => ["testsuite", "testcase"].includes(n) });
const one = (outcome: Outcome) => makeRun([makeCase({ id: "X1", name: "c", outcome, reason: outcome === "pass" || outcome === "fail" ? undefined : "why" })]);

describe.each(OUTCOMES.map((o) => [o, ROWS[o]] as const))("outcome %s", (outcome, row) => {
  const run = one(outcome);

  it("KTAP: result line and kselftest totals", () => {
    const lines = renderKtap(run).trimEnd().split("\n");
    expect(lines.find((l) => /^(not )?ok /.test(l))).toBe(row.ktap);
    expect(lines.at(-1)).toBe(`# Totals: ${row.totals}`);
  });

  it("JUnit: child element of <testcase> and the counters, per suite and overall", () => {
    const doc = parser.parse(renderJunit(run));
    const tc = doc.testsuites.testsuite[0].testcase[0];
    for (const el of ["failure", "error", "skipped"]) expect(tc[el] !== undefined, el).toBe(el === row.junit.element);
    if (row.junit.element && outcome !== "skip") expect(tc[row.junit.element]["@_type"]).toBe(outcome);
    for (const node of [doc.testsuites, doc.testsuites.testsuite[0]]) {
      expect(Number(node["@_tests"])).toBe(1);
      expect(Number(node["@_failures"])).toBe(row.junit.failures);
      expect(Number(node["@_errors"])).toBe(row.junit.errors);
    }
    expect(Number(doc.testsuites.testsuite[0]["@_skipped"])).toBe(row.junit.skipped);
    expect(doc.testsuites["@_skipped"]).toBeUndefined(); // junit-10.xsd: no skipped count on <testsuites>
  });

  it("KCIDB: status", () => {
    const t = (toKcidb(run).tests as Record<string, unknown>[])[0];
    expect(t.status).toBe(row.kcidb);
  });

  it("Markdown: the verdict row's mark and the run's verdict line", () => {
    const md = renderMarkdown(run);
    expect(md).toContain(`| X1 | c | X | ${row.mark} |`);
    expect(md.trimEnd().split("\n").at(-1)).toMatch(new RegExp(`^\\*\\*Summary:\\*\\* ${row.verdict} — 1 cases: `));
    expect(md).toContain(`**${row.verdict}** — 1 cases: `);
  });

  it("HTML: the badge and the run's verdict", () => {
    const html = renderHtml(run);
    expect(html).toContain(`<td><span class="o o-${outcome}">${outcome}</span></td>`);
    expect(html).toContain(`<span class="verdict o-${row.verdict === "PASS" ? "pass" : "fail"}">${row.verdict}</span>`);
    expect(html).toContain(`<strong>Summary:</strong> ${row.verdict} — `);
  });

  it("the run fails on it exactly when the verdict says FAIL; --strict fails it on an xpass too", () => {
    expect(FAILING.has(outcome)).toBe(row.verdict === "FAIL");
    expect(failingOutcomes(false)).toBe(FAILING);
    expect(failingOutcomes(true).has(outcome)).toBe(row.verdict === "FAIL" || outcome === "xpass");
    expect(summarize(run)[outcome]).toBe(1);
  });
});

describe("mixed runs", () => {
  it("a single failing case among passes fails the whole run in every summary", () => {
    const run = makeRun([
      makeCase({ id: "A1", name: "a", outcome: "pass" }),
      makeCase({ id: "A2", name: "b", outcome: "xfail", reason: "known" }),
      makeCase({ id: "A3", name: "c", outcome: "skip", reason: "n/a" }),
      makeCase({ id: "A4", name: "d", outcome: "timeout", reason: "60 s" }),
    ]);
    expect(renderMarkdown(run)).toContain("**FAIL** — 4 cases: 1 pass, 0 fail, 1 skip, 1 xfail, 0 xpass, 0 error, 1 timeout");
    expect(renderHtml(run)).toContain('<span class="verdict o-fail">FAIL</span>');
    expect(renderKtap(run)).toContain("# Totals: pass:1 fail:0 xfail:1 xpass:0 skip:1 error:1\n");
  });

  it("an empty run passes", () => {
    expect(renderMarkdown(makeRun([]))).toContain("**PASS** — 0 cases: 0 pass");
  });
});
