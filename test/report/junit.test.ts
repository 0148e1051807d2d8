// Tests of the JUnit reporter: the XML parses back, counts match the outcomes, elements per outcome,
// properties, and forbidden XML characters never reach the file.
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { renderJunit } from "../../harness/report/junit.ts";
import { fullRun } from "./fixtures.ts";

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
    expect(Number(top["@_skipped"])).toBe(2); // skip + xfail
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

  it("has kernel release and measurements as properties", () => {
    const props: Node[] = suites[0].properties.property;
    expect(props.find((p) => p["@_name"] === "kernel.release")?.["@_value"]).toBe("6.16.0-1-amd64");
    const m4 = cases.find((c) => String(c["@_name"]).startsWith("M4 "))!;
    const mp: Node[] = m4.properties.property;
    expect(mp.find((p) => p["@_name"] === "measure.mount_time")?.["@_value"]).toBe("12.5 ms");
    expect(mp.find((p) => p["@_name"] === "measure.page_cache[shared,x=4]")?.["@_value"]).toBe("3145728 B");
  });
});
