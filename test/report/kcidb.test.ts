// Tests of the KCIDB reporter against the rules of kcidb-io's schema v5.3 (kcidb_io/schema/v05_03.py,
// encoded by hand in kcidb-schema.ts since kcidb-io cannot be installed here): fields allowed and required per
// object, id/origin/path patterns, status values, types, nulls; then ids and links, the status table,
// numeric measurements, and known bugs as issues with one incident per case result they explain.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { OUTCOMES, type RunResult } from "../../harness/report/model.ts";
import { KCIDB_STATUS, headlineMeasurement, kcidbNumber, kcidbPath, kcidbStatus, renderKcidb, toKcidb } from "../../harness/report/kcidb.ts";
import { applyKnownBugs } from "../../harness/verdict/known-bugs.ts";
import { loadKnownBugs } from "../../harness/verdict/load-known-bugs.ts";
import { fullRun, makeCase, makeRun } from "./fixtures.ts";

import { STATUS, kcidbViolations } from "./kcidb-schema.ts";

type Node = Record<string, any>;

const recorded = JSON.parse(readFileSync(new URL("../fixtures/runs/sid-7.2.13-f1-l2-d2-o3.json", import.meta.url), "utf8")) as RunResult;

describe("kcidb", () => {
  const run = fullRun();
  const data = JSON.parse(renderKcidb(run, { resultsUrl: "file:///tmp/results/x/" })) as Node;

  it("follows the v5.3 schema rules (and the rule checker catches breaches)", () => {
    expect(kcidbViolations(data)).toEqual([]);
    const broken = structuredClone(data);
    broken.tests[0].waived = false; // a 4.x field
    broken.builds[0].valid = true; // 4.x builds; 5.x has status
    broken.tests[1].status = "XFAIL";
    broken.tests[2].id = "Pcshare:1";
    broken.checkouts[0].comment = null;
    delete broken.tests[3].build_id;
    expect(kcidbViolations(broken).sort()).toEqual([
      'builds[0]: "valid" is not allowed (additionalProperties: false)',
      'tests[0]: "waived" is not allowed (additionalProperties: false)',
      'tests[1].status: status "XFAIL"',
      'tests[2].id: "Pcshare:1" does not match /^[a-z0-9_]+:[^\\0]*$/',
      'tests[3]: "build_id" is required',
      "checkouts[0].comment: null is not allowed",
    ].sort());
  });

  it("is KCIDB v5.3 with one checkout, one build and a test per case, linked by id", () => {
    expect(data.version).toEqual({ major: 5, minor: 3 });
    expect(data.checkouts).toHaveLength(1);
    expect(data.builds).toHaveLength(1);
    expect(data.tests).toHaveLength(run.cases.length);
    expect(data.builds[0].checkout_id).toBe(data.checkouts[0].id);
    expect(data.builds[0].status).toBe("PASS");
    const ids = new Set<string>();
    for (const o of [...data.checkouts, ...data.builds, ...data.tests]) {
      expect(o.origin).toBe("pcshare");
      expect(o.id).toMatch(/^pcshare:[0-9a-f]{32}$/);
      ids.add(o.id);
    }
    expect(ids.size).toBe(2 + run.cases.length);
    for (const t of data.tests) {
      expect(t.build_id).toBe(data.builds[0].id);
      expect(t.path).toMatch(/^erofs\.pcshare\.[a-zA-Z0-9_-]+$/);
    }
    expect(data.tests.map((t: Node) => t.path)).toContain("erofs.pcshare.F1");
  });

  it("gives the same ids for the same results (re-export is idempotent)", () => {
    expect(renderKcidb(fullRun())).toBe(renderKcidb(run));
  });

  it("maps statuses through one table", () => {
    const status = Object.fromEntries(data.tests.map((t: Node) => [t.misc.pcshare_outcome, t.status]));
    expect(status).toEqual({ pass: "PASS", fail: "FAIL", skip: "SKIP", xfail: "FAIL", xpass: "PASS", error: "ERROR", timeout: "ERROR" });
    for (const o of OUTCOMES) expect(STATUS).toContain(KCIDB_STATUS[o]);
  });

  it("links each test's qemu.cmd as input and its logs as output under the results URL", () => {
    const c = makeCase({ id: "F1", name: "x", outcome: "pass", artifacts: { console: "cases/F1 x/console.log", dmesg: "cases/F1 x/dmesg.log", qemu: "cases/F1 x/qemu.cmd" } });
    const t = (toKcidb(makeRun([c]), { resultsUrl: "file:///r/run1/" }).tests as Node[])[0];
    expect(t.input_files).toEqual([{ name: "qemu.cmd", url: "file:///r/run1/cases/F1%20x/qemu.cmd" }]);
    expect(t.output_files.map((f: Node) => f.name)).toEqual(["console.log", "dmesg.log"]);
    expect((toKcidb(makeRun([c])).tests as Node[])[0].input_files).toBeUndefined();
    // A results URL without the trailing slash links to the same files.
    const bare = (toKcidb(makeRun([c]), { resultsUrl: "file:///r/run1" }).tests as Node[])[0];
    expect(bare.input_files).toEqual(t.input_files);
    expect(bare.output_files).toEqual(t.output_files);
    // Artifacts a case does not have are left out, not listed empty.
    const noLogs = makeCase({ id: "F2", name: "y", outcome: "pass", artifacts: { qemu: "cases/F2 y/qemu.cmd" } });
    const t2 = (toKcidb(makeRun([noLogs]), { resultsUrl: "file:///r/run1/" }).tests as Node[])[0];
    expect(t2.input_files).toEqual([{ name: "qemu.cmd", url: "file:///r/run1/cases/F2%20y/qemu.cmd" }]);
    expect(t2.output_files).toBeUndefined();
  });

  it("reports a case that was never executed as MISS", () => {
    const t = (toKcidb(makeRun([makeCase({ id: "F1", name: "a", outcome: "missing", reason: "run interrupted (SIGINT)" })])).tests as Node[])[0];
    expect(t.status).toBe("MISS");
  });

  it("reports a pass with only measurements as DONE", () => {
    const d = toKcidb(makeRun([makeCase({ id: "M1", name: "m", outcome: "pass", measurements: [{ name: "t", value: 3, unit: "s" }] })]));
    expect((d.tests as Node[])[0].status).toBe("DONE");
    expect((d.tests as Node[])[0].number).toEqual({ value: 3, unit: "s", prefix: "metric" });
  });

  it("carries measurements as numbers: headline in number, all in misc", () => {
    const f1 = data.tests.find((t: Node) => t.path === "erofs.pcshare.F1");
    expect(f1.number).toEqual({ value: 256, unit: "pages" });
    const m4 = data.tests.find((t: Node) => t.path === "erofs.pcshare.M4");
    expect(m4.number).toEqual({ value: 12.5, unit: "ms" });
    expect(m4.misc.measurements).toHaveLength(13);
    for (const m of m4.misc.measurements) {
      expect(typeof m.value).toBe("number");
      expect(typeof m.unit).toBe("string");
    }
    expect(m4.misc.measurements[1]).toEqual({ name: "page_cache", value: 1572864, unit: "B", series: "shared", x: 1 });
    expect(data.tests.find((t: Node) => t.path === "erofs.pcshare.F3").number).toBeUndefined();
    expect(typeof f1.duration).toBe("number");
  });

  it("puts the crash and console excerpt in log_excerpt, cleaned", () => {
    const s1 = data.tests.find((t: Node) => t.path === "erofs.pcshare.S1");
    expect(s1.log_excerpt).toContain("BUG: KASAN: slab-use-after-free");
    expect(s1.log_excerpt).not.toContain("\x1b");
    expect(s1.log_excerpt.length).toBeLessThanOrEqual(16384);
  });
});

/** Ids of the recorded run's export as first written; KCIDB deduplicates by id, so they must not drift. */
const STABLE_IDS = {
  checkout: "pcshare:f6e5bc6835d5b2dc882a1863441cfa9e",
  build: "pcshare:a3b1e104d4f0d1f4e89ec69f079ffe92",
  test: "pcshare:5f9af5e6c29ccd8c0f67e940f062be61",
  incident: "pcshare:11a8bfa7daeff61f570a3b4b41d576a9",
};

describe("kcidb known bugs: issues and incidents", async () => {
  const bugs = await loadKnownBugs();
  const layered = applyKnownBugs(recorded, bugs);
  const o3 = layered.cases.find((c) => c.id === "O3")!;
  const passed = { ...layered, cases: [...layered.cases, { ...o3, repeat: 1, outcome: "pass" as const, rawOutcome: undefined, knownBugs: undefined, crashes: [], checks: [] }] };
  const data = toKcidb(applyKnownBugs({ ...passed, cases: passed.cases.map((c) => ({ ...c })) }, bugs)) as Node;

  it("follows the v5.3 rules with issues and incidents", () => {
    expect(kcidbViolations(data)).toEqual([]);
  });

  it("has one issue per registered bug for this kernel: versioned, the kernel's code as culprit", () => {
    expect(data.issues.map((i: Node) => i.id).sort()).toEqual(bugs.map((b) => `pcshare:${b.id}`).sort());
    for (const i of data.issues) {
      expect(i.version).toBe(bugs.find((b) => `pcshare:${b.id}` === i.id)!.version); // the registration's revision
      expect(i.culprit).toEqual({ code: true, tool: false, harness: false });
      expect(i.misc.file).toMatch(/^known-bugs\/.+\.yaml$/);
    }
  });

  it("has an incident per xfail (present) and per xpass (not present), linked to test, build and issue", () => {
    const tests = new Map(data.tests.map((t: Node) => [t.id, t]));
    const byCase = data.incidents.map((i: Node) => [(tests.get(i.test_id) as Node).misc.name, (tests.get(i.test_id) as Node).status, i.issue_id, i.present]);
    expect(byCase).toEqual([
      ["unmounting-the-io-serving-mount-under-a-reader-lz4hc", "FAIL", "pcshare:erofs-ishare-unmount-busy-inodes-race", true],
      ["sub-page-blocks-tails-holes-chunks-read-correctly-shared", "FAIL", "pcshare:erofs-ishare-inline-tail-zeros-bs2048", true],
      ["remount-adds-inode-share-without-domain", "FAIL", "pcshare:erofs-remount-inode-share-null-domain", true],
      ["remount-adds-inode-share-without-domain", "PASS", "pcshare:erofs-remount-inode-share-null-domain", false],
    ]);
    const issues = new Set(data.issues.map((i: Node) => `${i.id}@${i.version}`));
    for (const i of data.incidents) {
      expect(issues.has(`${i.issue_id}@${i.issue_version}`)).toBe(true);
      expect(i.build_id).toBe(data.builds[0].id);
    }
    expect(new Set(data.incidents.map((i: Node) => i.id)).size).toBe(data.incidents.length);
  });

  it("says in each incident what matched (xfail) or that the bug did not show (xpass), and marks the race's issue", () => {
    const o3 = data.incidents.filter((i: Node) => i.issue_id === "pcshare:erofs-remount-inode-share-null-domain").map((i: Node) => i.comment);
    expect(o3).toHaveLength(2);
    expect(o3[0]).toMatch(/^O3: \S/);
    expect(o3[0]).not.toContain("passed");
    expect(o3[1]).toBe("O3 passed: erofs-remount-inode-share-null-domain did not show");
    for (const i of data.issues) {
      const bug = bugs.find((b) => `pcshare:${b.id}` === i.id)!;
      expect(i.comment).toBe(bug.race ? `${bug.title} (a race: fires by chance)` : bug.title);
      expect(i.report_url).toBe(bug.link);
    }
    expect(data.tests.map((t: Node) => t.id).length).toBe(new Set(data.tests.map((t: Node) => t.id)).size); // O3 and its repeat differ
  });

  it("keeps its ids stable across pcshare versions (a re-export must give the ids submitted before)", () => {
    // An incident id names its issue's revision: the ids below were taken with every bug at revision 1.
    const v1 = toKcidb(applyKnownBugs(recorded, bugs.map((b) => ({ ...b, version: 1 })))) as Node;
    expect(v1.checkouts[0].id).toBe(STABLE_IDS.checkout);
    expect(v1.builds[0].id).toBe(STABLE_IDS.build);
    expect(v1.tests[0].id).toBe(STABLE_IDS.test);
    expect(v1.incidents[0].id).toBe(STABLE_IDS.incident);
    const race = bugs.find((b) => b.id === "erofs-ishare-unmount-busy-inodes-race")!;
    if (race.version !== 1) expect(data.incidents[0].id).not.toBe(STABLE_IDS.incident); // a new revision, a new incident
  });

  it("keeps the xfail's failed checks and crash in the test itself", () => {
    const t = data.tests.find((x: Node) => x.path === "erofs.pcshare.O3" && x.status === "FAIL");
    expect(t.misc.pcshare_outcome).toBe("xfail");
    expect(t.misc.raw_outcome).toBe("fail");
    expect(t.misc.known_bugs).toEqual(["erofs-remount-inode-share-null-domain"]);
    expect(t.log_excerpt).toContain("RIP: 0010:strlen");
    expect(t.log_excerpt).toContain("check failed: a remount without domain_id did not leave inode_share on");
  });
});

describe("kcidb details", () => {
  const test0 = (c: Parameters<typeof makeCase>[0]) => (toKcidb(makeRun([makeCase(c)])).tests as Node[])[0];

  it("gives units their KCIDB prefix: bytes binary, seconds metric, counts no unit", () => {
    const cases: [string, Node][] = [
      ["B", { value: 7, unit: "B", prefix: "binary" }],
      ["s", { value: 7, unit: "s", prefix: "metric" }],
      ["ms", { value: 7, unit: "ms" }],
      ["pages", { value: 7, unit: "pages" }],
      ["count", { value: 7 }],
      ["", { value: 7 }],
    ];
    for (const [unit, number] of cases) expect(kcidbNumber({ name: "m", value: 7, unit }), unit).toEqual(number);
  });

  it("takes as headline the first finite measurement outside a series, else the first finite one", () => {
    const m = (name: string, value: number, series?: string) => ({ name, value, unit: "B", ...(series ? { series } : {}) });
    const head = (ms: ReturnType<typeof m>[]) => headlineMeasurement(makeCase({ id: "H1", name: "h", outcome: "pass", measurements: ms }))?.name;
    expect(head([m("s1", 1, "a"), m("nan", NaN), m("plain", 2), m("later", 3)])).toBe("plain");
    expect(head([m("inf", Infinity, "a"), m("s1", 1, "a"), m("s2", 2, "b")])).toBe("s1");
    expect(head([m("nan", NaN)])).toBeUndefined();
    expect(head([])).toBeUndefined();
  });

  it("leaves the number out of a skipped test, and keeps it for a failed one", () => {
    const measurements = [{ name: "t", value: 3, unit: "s" }];
    expect(test0({ id: "K1", name: "k", outcome: "skip", reason: "r", measurements }).number).toBeUndefined();
    expect(test0({ id: "K1", name: "k", outcome: "fail", measurements }).number).toEqual({ value: 3, unit: "s", prefix: "metric" });
  });

  it("reports DONE only for a pass with measurements and no checks", () => {
    const measurements = [{ name: "t", value: 3, unit: "s" }];
    const checks = [{ name: "c", ok: true }];
    expect(kcidbStatus(makeCase({ id: "D1", name: "d", outcome: "pass", measurements }))).toBe("DONE");
    expect(kcidbStatus(makeCase({ id: "D1", name: "d", outcome: "pass", measurements, checks }))).toBe("PASS");
    expect(kcidbStatus(makeCase({ id: "D1", name: "d", outcome: "pass" }))).toBe("PASS");
    expect(kcidbStatus(makeCase({ id: "D1", name: "d", outcome: "xpass", measurements, reason: "r" }))).toBe("PASS");
    expect(kcidbStatus(makeCase({ id: "D1", name: "d", outcome: "fail", measurements }))).toBe("FAIL");
  });

  it("makes any case id a valid test path", () => {
    expect(kcidbPath(makeCase({ id: "M4b", name: "x", outcome: "pass" }))).toBe("erofs.pcshare.M4b");
    expect(kcidbPath(makeCase({ id: "A b.c/d:é", name: "x", outcome: "pass" }))).toBe("erofs.pcshare.A_b_c_d__");
    expect(kcidbPath(makeCase({ id: "x-y_z", name: "x", outcome: "pass" }))).toBe("erofs.pcshare.x-y_z");
  });

  it("gives each repetition and each case its own test id, stable across exports", () => {
    const run = makeRun([0, 1].map((repeat) => makeCase({ id: "F1", name: "x", outcome: "pass", repeat })));
    const ids = (toKcidb(run).tests as Node[]).map((t) => t.id);
    expect(new Set(ids).size).toBe(2);
    expect((toKcidb(run).tests as Node[]).map((t) => t.id)).toEqual(ids);
    const other = makeRun([makeCase({ id: "F2", name: "x", outcome: "pass", repeat: 0 })]);
    expect((toKcidb(other).tests as Node[])[0].id).not.toBe(ids[0]);
  });

  it("changes the build id with the kernel's hashes and release, and the checkout id with its version", () => {
    const base = toKcidb(makeRun([]));
    const rehashed = makeRun([]);
    rehashed.kernel.hashes = { vmlinuz: "b".repeat(64) };
    const rebuilt = makeRun([]);
    rebuilt.kernel.release = "6.16.0-2-amd64";
    const newer = makeRun([]);
    newer.kernel.version = "6.16.4-1";
    const id = (d: Record<string, unknown>, k: "builds" | "checkouts") => (d[k] as Node[])[0].id;
    expect(id(toKcidb(rehashed), "builds")).not.toBe(id(base, "builds"));
    expect(id(toKcidb(rehashed), "checkouts")).toBe(id(base, "checkouts"));
    expect(id(toKcidb(rebuilt), "builds")).not.toBe(id(base, "builds"));
    expect(id(toKcidb(newer), "checkouts")).not.toBe(id(base, "checkouts"));
  });

  it("describes checkout, build and environment", () => {
    const d = toKcidb(makeRun([makeCase({ id: "F1", name: "x", outcome: "pass" })])) as Node;
    expect(d.checkouts[0]).toMatchObject({ comment: "debian:sid 6.16.3-1", start_time: "2025-01-02T03:04:05.000Z", valid: true, misc: { source: "debian:sid", version: "6.16.3-1" } });
    expect(d.builds[0]).toMatchObject({ comment: "6.16.0-1-amd64 (debian:sid)", architecture: "x86_64", status: "PASS" });
    expect(d.builds[0].misc).toEqual({
      release: "6.16.0-1-amd64",
      hashes: { vmlinuz: "a".repeat(64) },
      config: { CONFIG_EROFS_FS: "y", CONFIG_EROFS_FS_PAGE_CACHE_SHARE: "y" },
      tools: { "mkfs.erofs": "1.9.4", busybox: "1.35.0" },
    });
    expect(d.tests[0].environment.comment).toBe("builder: qemu 8.2.2, accel kvm, 2 cpus");
    expect(d.tests[0].environment.misc).toEqual({ hostname: "builder", accel: "kvm", cpus: 2, qemu: "8.2.2", node: "v20.20.2" });
  });

  it("fills a test's fields from the case", () => {
    const t = test0({
      id: "F2",
      name: "two",
      outcome: "fail",
      reason: "frames\nshared",
      durationMs: 2500,
      guestMs: 900,
      repeat: 3,
      tags: ["smoke"],
      checks: [{ name: "ok one", ok: true }, { name: "bad one", ok: false, expected: "x" }],
      crashes: [{ kind: "oops", title: "Oops: 0000", excerpt: "RIP: f" }],
      findings: ["note"],
      measurements: [{ name: "m", value: NaN, unit: "B", series: "s", x: 2 }],
    });
    expect(t.comment).toBe("F2 two: frames shared");
    expect(t.start_time).toBe("2025-01-02T03:04:05.000Z");
    expect(t.duration).toBe(2.5);
    expect(t.misc).toEqual({
      pcshare_outcome: "fail",
      name: "two",
      groups: ["F"],
      tags: ["smoke"],
      repeat: 3,
      guest_ms: 900,
      measurements: [{ name: "m", value: "NaN", unit: "B", series: "s", x: 2 }],
      failed_checks: [{ name: "bad one", ok: false, expected: "x" }],
      crashes: [{ kind: "oops", title: "Oops: 0000" }],
      findings: ["note"],
    });
    expect(t.log_excerpt).toBe("check failed: bad one: expected x, seen ?\nOops: 0000\nRIP: f");
    const plain = test0({ id: "F3", name: "three", outcome: "pass", durationMs: NaN });
    expect(plain.comment).toBe("F3 three");
    expect(plain.duration).toBe(0);
    expect(plain.misc).not.toHaveProperty("repeat");
    expect(plain.misc).not.toHaveProperty("guest_ms");
    expect(plain).not.toHaveProperty("log_excerpt");
    expect(plain).not.toHaveProperty("number");
  });

  it("cuts log_excerpt at the schema's 16384 characters and keeps a shorter one whole", () => {
    const long = test0({ id: "L1", name: "l", outcome: "error", consoleExcerpt: "x".repeat(20000) });
    expect(long.log_excerpt).toBe("x".repeat(16384));
    const exact = test0({ id: "L1", name: "l", outcome: "error", consoleExcerpt: "y".repeat(16384) });
    expect(exact.log_excerpt).toBe("y".repeat(16384));
    const withSeen = test0({ id: "L1", name: "l", outcome: "fail", checks: [{ name: "c", ok: false, seen: "z" }] });
    expect(withSeen.log_excerpt).toBe("check failed: c: expected ?, seen z");
  });

  it("ends the document with a newline and indents it", () => {
    const text = renderKcidb(makeRun([]));
    expect(text.endsWith("}\n")).toBe(true);
    expect(text).toContain('\n  "version": {\n    "major": 5,');
  });
});
