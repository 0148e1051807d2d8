// JUnit XML export (the Jenkins/GitLab flavour): one <testsuite> per case group, <testcase> per case
// with classname = group and time in seconds. Valid against junit-10.xsd (the schema of Jenkins' xunit
// plugin, test/fixtures/junit-10.xsd): <testcase> has no <properties> there, so a case's measurements
// and known bugs are lines of its <system-out> and properties of its suite ("<case>.measure.<name>");
// <testsuites> carries no skipped count or timestamp (its suites do). Built with fast-xml-parser's
// XMLBuilder; all text goes through cleanText so characters XML 1.0 forbids never reach the file.
import { XMLBuilder } from "fast-xml-parser";
import type { CaseResult, Outcome, RunResult } from "./model.ts";
import { caseTitle, cleanText, failedChecks, formatNumber, measurementLabel, oneLine } from "./common.ts";

/**
 * Outcome -> the child element of <testcase> (none = passed) and the counter it adds to. As pytest's
 * JUnit output does: an xfail (a registered kernel bug that showed exactly) is <skipped type="xfail">
 * naming the bug, with the failed checks in its text and the crash excerpts in <system-out>; an xpass
 * (the bug did not show) passed, with an XPASS note in <system-out> (it fails a run only under --strict).
 */
export const JUNIT_STATUS: Readonly<Record<Outcome, { element?: "failure" | "error" | "skipped"; counter?: "failures" | "errors" | "skipped" }>> = {
  pass: {},
  xfail: { element: "skipped", counter: "skipped" },
  fail: { element: "failure", counter: "failures" },
  xpass: {},
  error: { element: "error", counter: "errors" },
  timeout: { element: "error", counter: "errors" },
  missing: { element: "error", counter: "errors" }, // never executed: the run did not do its job
  skip: { element: "skipped", counter: "skipped" },
};

type Node = Record<string, unknown>;
type Counts = { tests: number; failures: number; errors: number; skipped: number; time: number };

const seconds = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(3) : "0.000");
const prop = (name: string, value: string): Node => ({ "@_name": oneLine(name), "@_value": oneLine(value) });

/** Group a case is filed under (first of its groups). */
export function junitGroup(c: CaseResult): string {
  return c.groups[0] ?? "ungrouped";
}

function runProperties(run: RunResult): Node[] {
  const k = run.kernel;
  const props = [
    prop("kernel.source", k.source),
    prop("kernel.release", k.release),
    prop("kernel.version", k.version),
    ...Object.entries(k.hashes).map(([f, h]) => prop(`kernel.sha256.${f}`, h)),
    ...Object.entries(k.config).map(([o, v]) => prop(`kernel.config.${o}`, v)),
    ...Object.entries(run.tools).map(([t, v]) => prop(`tool.${t}`, v)),
    prop("host.hostname", run.host.hostname),
    prop("host.accel", run.host.accel),
    prop("host.cpus", String(run.host.cpus)),
    prop("host.qemu", run.host.qemu),
    prop("host.node", run.host.node),
  ];
  return props;
}

/** Body text of <failure>/<error>: reason, failed checks, crash titles. */
function problemText(c: CaseResult): string {
  const lines: string[] = [];
  if (c.reason) lines.push(c.reason);
  for (const k of failedChecks(c))
    lines.push(`check failed: ${k.name}` + (k.expected !== undefined ? `\n  expected: ${k.expected}` : "") + (k.seen !== undefined ? `\n  seen:     ${k.seen}` : ""));
  for (const cr of c.crashes) lines.push(`crash (${cr.kind}): ${cr.title}`);
  return cleanText(lines.join("\n"));
}

/** The case as its suite's property names prefix it: "F1", "F1#2" for the second repetition. */
function caseKey(c: CaseResult): string {
  return c.repeat ? `${c.id}#${c.repeat + 1}` : c.id;
}

/** A case's known bugs and measurements as suite-level properties (the schema allows none on <testcase>). */
function caseProperties(c: CaseResult): Node[] {
  return [
    ...(c.variants ? [prop(`${caseKey(c)}.variants`, c.variants.join(","))] : []),
    ...(c.knownBugs ?? []).map((b) => prop(`${caseKey(c)}.known_bug`, b.id)),
    ...c.measurements.map((m) => prop(`${caseKey(c)}.measure.${measurementLabel(m)}`, `${formatNumber(m.value)} ${m.unit}`)),
  ];
}

function systemOut(c: CaseResult): string | undefined {
  const parts: string[] = [];
  if (c.variants) parts.push(`variants: ${c.variants.join(", ")}`);
  if (c.outcome === "xfail") parts.push(`expected failure (xfail)${c.reason ? `: ${c.reason}` : ""}`);
  if (c.outcome === "xpass") parts.push(`XPASS: expected to fail but passed${c.reason ? `: ${c.reason}` : ""}`);
  for (const b of c.knownBugs ?? []) parts.push(`known bug ${b.id}${b.race ? " (race)" : ""}: ${b.title} (known-bugs/${b.file}${b.link ? `, ${b.link}` : ""})`);
  for (const f of c.findings) parts.push(`finding: ${f}`);
  for (const m of c.measurements) parts.push(`measure ${measurementLabel(m)}: ${formatNumber(m.value)} ${m.unit}`);
  for (const cr of c.crashes) parts.push(`--- crash (${cr.kind}): ${cr.title}\n${cr.excerpt}`);
  if (c.consoleExcerpt) parts.push(`--- console excerpt\n${c.consoleExcerpt}`);
  return parts.length ? cleanText(parts.join("\n")) : undefined;
}

function testcase(c: CaseResult): Node {
  const st = JUNIT_STATUS[c.outcome];
  const node: Node = {
    "@_name": oneLine(caseTitle(c)),
    "@_classname": oneLine(junitGroup(c)),
    "@_time": seconds(c.durationMs),
  };
  if (c.outcome === "xfail") node.skipped = { "@_message": oneLine(c.reason ?? "xfail"), "@_type": "xfail", "#text": problemText(c) };
  else if (st.element === "skipped") node.skipped = { "@_message": oneLine(c.reason ?? "skipped") };
  else if (st.element) {
    const first = c.reason ?? failedChecks(c)[0]?.name ?? c.crashes[0]?.title ?? c.outcome;
    node[st.element] = { "@_message": oneLine(first), "@_type": c.outcome, "#text": problemText(c) };
  }
  const out = systemOut(c);
  if (out) node["system-out"] = out;
  return node;
}

function counts(cases: CaseResult[]): Counts {
  const n: Counts = { tests: cases.length, failures: 0, errors: 0, skipped: 0, time: 0 };
  for (const c of cases) {
    const counter = JUNIT_STATUS[c.outcome].counter;
    if (counter) n[counter]++;
    n.time += Number.isFinite(c.durationMs) ? c.durationMs : 0;
  }
  return n;
}

/** <testsuites> takes tests, failures, errors and time; a <testsuite> also skipped. */
const countAttrs = (n: Counts, withSkipped: boolean): Node => ({
  "@_tests": n.tests,
  "@_failures": n.failures,
  "@_errors": n.errors,
  ...(withSkipped && { "@_skipped": n.skipped }),
  "@_time": seconds(n.time),
});

/** The JUnit XML document. */
export function renderJunit(run: RunResult): string {
  const groups = new Map<string, CaseResult[]>();
  for (const c of run.cases) {
    const g = junitGroup(c);
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(c);
  }
  const suites = [...groups].map(([g, cases]) => ({
    "@_name": oneLine(g),
    ...countAttrs(counts(cases), true),
    "@_timestamp": oneLine(run.startedAt),
    "@_hostname": oneLine(run.host.hostname),
    properties: { property: [...runProperties(run), ...cases.flatMap(caseProperties)] },
    testcase: cases.map(testcase),
  }));
  const doc = {
    "?xml": { "@_version": "1.0", "@_encoding": "UTF-8" },
    testsuites: {
      "@_name": "pcshare",
      ...countAttrs(counts(run.cases), false),
      testsuite: suites,
    },
  };
  const builder = new XMLBuilder({
    ignoreAttributes: false,
    attributeNamePrefix: "@_",
    format: true,
    suppressEmptyNode: true,
  });
  return builder.build(doc) as string;
}
