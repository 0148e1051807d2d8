// Tests of the JUnit reporter: the XML parses back, counts match the outcomes, elements per outcome,
// properties, and forbidden XML characters never reach the file.
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { junitGroup, renderJunit } from "../../harness/report/junit.ts";
import { fullRun, makeCase, makeRun } from "./fixtures.ts";

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseAttributeValue: false,
  trimValues: false,
  isArray: (name) => ["testsuite", "testcase", "property"].includes(name),
});

type Node = Record<string, any>;

describe("junit", () => {
  const run = fullRun();
  const xml = renderJunit(run);
  const doc = parser.parse(xml) as Node;
  const suites: Node[] = doc.testsuites.testsuite;
  const cases: Node[] = suites.flatMap((s) => s.testcase);

  it("is well-formed XML 1.0 without forbidden characters", () => {
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    expect(xml).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\uFFFE\uFFFF]/);
    expect(xml).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/); // no lone high surrogate
    expect(xml).not.toContain("<script>");
  });

  it("counts tests/failures/errors/skipped like the outcomes", () => {
    const top = doc.testsuites;
    expect(Number(top["@_tests"])).toBe(7);
    expect(Number(top["@_failures"])).toBe(1); // fail (an xpass passed)
    expect(Number(top["@_errors"])).toBe(2); // error + timeout
    expect(top["@_skipped"]).toBeUndefined(); // junit-10.xsd has no skipped count on <testsuites>
    expect(cases).toHaveLength(run.cases.length);
    const sum = (k: string) => suites.reduce((n, s) => n + Number(s[`@_${k}`]), 0);
    expect(sum("tests")).toBe(7);
    expect(sum("failures")).toBe(cases.filter((c) => c.failure).length);
    expect(sum("errors")).toBe(cases.filter((c) => c.error).length);
    expect(sum("skipped")).toBe(cases.filter((c) => c.skipped).length);
  });

  it("uses the group as classname and seconds as time", () => {
    const f1 = cases.find((c) => c["@_name"] === "F1 same-domain-shares-frames")!;
    expect(f1["@_classname"]).toBe("F");
    expect(f1["@_time"]).toBe("1.234");
    expect(suites.map((s) => s["@_name"]).sort()).toEqual(["B", "F", "M", "S"]);
  });

  it("puts the right element on each outcome", () => {
    const by = (id: string) => cases.find((c) => String(c["@_name"]).startsWith(`${id} `))!;
    expect(by("F2").failure["@_type"]).toBe("fail");
    expect(by("F2").failure["@_message"]).toBe("frames shared across domains");
    expect(by("F2").failure["#text"]).toContain("expected: pfn A != pfn B");
    expect(by("F2").failure["#text"]).toContain("seen:     both 0x1234 <same>");
    expect(by("B2").failure ?? by("B2").error ?? by("B2").skipped).toBeUndefined();
    expect(by("B2")["system-out"]).toContain("XPASS: expected to fail but passed: expected leak did not happen");
    expect(by("S1").error["@_type"]).toBe("error");
    expect(by("S1").error["#text"]).toContain("BUG: KASAN: slab-use-after-free in erofs_ishare_free");
    expect(by("M4").error["@_type"]).toBe("timeout");
    expect(by("F3").skipped["@_message"]).toBe("CONFIG_KASAN not set");
    const b1 = by("B1");
    expect(b1.failure ?? b1.error).toBeUndefined();
    expect(b1.skipped["@_type"]).toBe("xfail");
    expect(b1.skipped["@_message"]).toBe("known: page refcount leak on umount");
    expect(b1["system-out"]).toContain("expected failure (xfail): known: page refcount leak on umount");
  });

  it("keeps unicode and the console excerpt (escaped) in system-out", () => {
    const out = cases.find((c) => String(c["@_name"]).startsWith("F2 "))!["system-out"] as string;
    expect(out).toContain("mounted ✓ 日本語 🐧");
    expect(out).toContain("rednulbelvtlone");
    expect(out).toContain("<script>alert('x')</script> & ]]>");
  });

  it("has kernel release as suite properties, and measurements as the case's suite properties and system-out lines", () => {
    const props: Node[] = suites[0].properties.property;
    expect(props.find((p) => p["@_name"] === "kernel.release")?.["@_value"]).toBe("6.16.0-1-amd64");
    const m4 = cases.find((c) => String(c["@_name"]).startsWith("M4 "))!;
    expect(m4.properties).toBeUndefined(); // junit-10.xsd allows no <properties> in <testcase>
    const mp: Node[] = suites.find((s) => s["@_name"] === "M")!.properties.property;
    expect(mp.find((p) => p["@_name"] === "M4.measure.mount_time")?.["@_value"]).toBe("12.5 ms");
    expect(mp.find((p) => p["@_name"] === "M4.measure.page_cache[shared,x=4]")?.["@_value"]).toBe("3145728 B");
    expect(m4["system-out"]).toContain("measure mount_time: 12.5 ms");
  });
});

describe("junit details", () => {
  const parse = (cases: Parameters<typeof makeCase>[0][]) => parser.parse(renderJunit(makeRun(cases.map(makeCase)))) as Node;
  const tc = (c: Parameters<typeof makeCase>[0]) => parse([c]).testsuites.testsuite[0].testcase[0] as Node;

  it("names the message after the reason, else the first failed check, else the first crash, else the outcome", () => {
    const check = { name: "bytes match", ok: false, expected: "a", seen: "b" };
    const crash = { kind: "oops", title: "Oops: 0000 [#1]", excerpt: "RIP" };
    expect(tc({ id: "J1", name: "j", outcome: "fail", reason: "why", checks: [check], crashes: [crash] }).failure["@_message"]).toBe("why");
    expect(tc({ id: "J1", name: "j", outcome: "fail", checks: [{ name: "fine", ok: true }, check], crashes: [crash] }).failure["@_message"]).toBe("bytes match");
    expect(tc({ id: "J1", name: "j", outcome: "error", crashes: [crash] }).error["@_message"]).toBe("Oops: 0000 [#1]");
    expect(tc({ id: "J1", name: "j", outcome: "timeout" }).error["@_message"]).toBe("timeout");
    expect(tc({ id: "J1", name: "j", outcome: "skip" }).skipped["@_message"]).toBe("skipped");
  });

  it("writes reason, failed checks and crashes in the failure text", () => {
    const x = tc({
      id: "J2",
      name: "j",
      outcome: "fail",
      reason: "bytes differ",
      checks: [{ name: "only expected", ok: false, expected: "e" }, { name: "only seen", ok: false, seen: "s" }, { name: "fine", ok: true }],
      crashes: [{ kind: "warning", title: "WARNING: x", excerpt: "trace" }],
    });
    expect(x.failure["#text"]).toBe("bytes differ\ncheck failed: only expected\n  expected: e\ncheck failed: only seen\n  seen:     s\ncrash (warning): WARNING: x");
    expect(tc({ id: "J2", name: "j", outcome: "fail", reason: "r" }).failure["#text"]).toBe("r");
  });

  it("writes an xfail as skipped with type xfail, and an xpass as passed with a note", () => {
    const xf = tc({ id: "J2", name: "j", outcome: "xfail", reason: "known bug b1", checks: [{ name: "c", ok: false }] });
    expect(xf.skipped).toEqual({ "@_message": "known bug b1", "@_type": "xfail", "#text": "known bug b1\ncheck failed: c" });
    expect(tc({ id: "J2", name: "j", outcome: "xfail" }).skipped["@_message"]).toBe("xfail");
    const xp = tc({ id: "J2", name: "j", outcome: "xpass", reason: "b1 did not show" });
    expect(xp.failure ?? xp.error ?? xp.skipped).toBeUndefined();
    expect(xp["system-out"]).toBe("XPASS: expected to fail but passed: b1 did not show");
    expect(tc({ id: "J2", name: "j", outcome: "xpass" })["system-out"]).toBe("XPASS: expected to fail but passed");
  });

  it("puts xfail notes, findings, crashes and the console in system-out, and nothing when there is none", () => {
    const c = tc({
      id: "J3",
      name: "j",
      outcome: "fail",
      findings: ["f1"],
      crashes: [{ kind: "bug", title: "kernel BUG at x", excerpt: "line1\nline2" }],
      consoleExcerpt: "console",
    });
    expect(c["system-out"]).toBe("finding: f1\n--- crash (bug): kernel BUG at x\nline1\nline2\n--- console excerpt\nconsole");
    expect(tc({ id: "J3", name: "j", outcome: "xfail" })["system-out"]).toBe("expected failure (xfail)");
    expect(tc({ id: "J3", name: "j", outcome: "pass" })["system-out"]).toBeUndefined();
    expect(tc({ id: "J3", name: "j", outcome: "pass" }).properties).toBeUndefined();
  });

  it("files a case without groups under 'ungrouped', and a case under its first group", () => {
    expect(junitGroup(makeCase({ id: "U1", name: "u", outcome: "pass", groups: [] }))).toBe("ungrouped");
    expect(junitGroup(makeCase({ id: "U1", name: "u", outcome: "pass", groups: ["M", "V"] }))).toBe("M");
  });

  it("gives times in seconds with 3 decimals, summed per suite; an unknown duration counts as 0", () => {
    const doc = parse([
      { id: "T1", name: "a", outcome: "pass", durationMs: 1500 },
      { id: "T2", name: "b", outcome: "pass", durationMs: NaN },
      { id: "T3", name: "c", outcome: "pass", durationMs: 250 },
    ]);
    const s = doc.testsuites.testsuite[0];
    expect(s.testcase.map((c: Node) => c["@_time"])).toEqual(["1.500", "0.000", "0.250"]);
    expect(s["@_time"]).toBe("1.750");
    expect(doc.testsuites["@_time"]).toBe("1.750");
  });

  it("has one suite per first group, counting only its own cases, with the run's properties", () => {
    const doc = parse([
      { id: "A1", name: "a", outcome: "fail" },
      { id: "B1", name: "b", outcome: "error", reason: "r" },
      { id: "A2", name: "c", outcome: "skip", reason: "r" },
    ]);
    const [a, b] = doc.testsuites.testsuite as Node[];
    expect([a["@_name"], a["@_tests"], a["@_failures"], a["@_errors"], a["@_skipped"]]).toEqual(["A", "2", "1", "0", "1"]);
    expect([b["@_name"], b["@_tests"], b["@_failures"], b["@_errors"], b["@_skipped"]]).toEqual(["B", "1", "0", "1", "0"]);
    expect(a["@_timestamp"]).toBe("2025-01-02T03:04:05.000Z");
    expect(a["@_hostname"]).toBe("builder");
    expect(doc.testsuites["@_name"]).toBe("pcshare");
    expect(doc.testsuites["@_timestamp"]).toBeUndefined();
    const props = Object.fromEntries((a.properties.property as Node[]).map((p) => [p["@_name"], p["@_value"]]));
    expect(props).toEqual({
      "kernel.source": "debian:sid",
      "kernel.release": "6.16.0-1-amd64",
      "kernel.version": "6.16.3-1",
      "kernel.sha256.vmlinuz": "a".repeat(64),
      "kernel.config.CONFIG_EROFS_FS": "y",
      "kernel.config.CONFIG_EROFS_FS_PAGE_CACHE_SHARE": "y",
      "tool.mkfs.erofs": "1.9.4",
      "tool.busybox": "1.35.0",
      "host.hostname": "builder",
      "host.accel": "kvm",
      "host.cpus": "2",
      "host.qemu": "8.2.2",
      "host.node": "v20.20.2",
    });
  });

  it("names repeated cases with their repetition", () => {
    expect(tc({ id: "R1", name: "r", outcome: "pass", repeat: 1 })["@_name"]).toBe("R1 r #2");
  });
});
