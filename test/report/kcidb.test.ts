// Tests of the KCIDB reporter: schema version, ids and links, status per outcome, numeric
// measurements in "number" and "misc", and fields the v4.4 schema allows.
import { describe, expect, it } from "vitest";
import { OUTCOMES } from "../../harness/report/model.ts";
import { KCIDB_STATUS, renderKcidb, toKcidb } from "../../harness/report/kcidb.ts";
import { fullRun, makeCase, makeRun } from "./fixtures.ts";

type Node = Record<string, any>;

const TEST_FIELDS = new Set([
  "build_id", "id", "origin", "environment", "path", "comment", "log_url", "log_excerpt", "status",
  "number", "waived", "start_time", "duration", "output_files", "misc",
]);

describe("kcidb", () => {
  const run = fullRun();
  const data = JSON.parse(renderKcidb(run)) as Node;

  it("is KCIDB v4 with one checkout, one build and a test per case, linked by id", () => {
    expect(data.version).toEqual({ major: 4, minor: 4 });
    expect(data.checkouts).toHaveLength(1);
    expect(data.builds).toHaveLength(1);
    expect(data.tests).toHaveLength(run.cases.length);
    expect(data.builds[0].checkout_id).toBe(data.checkouts[0].id);
    const ids = new Set<string>();
    for (const obj of [...data.checkouts, ...data.builds, ...data.tests]) {
      expect(obj.origin).toBe("pcshare");
      expect(obj.id).toMatch(/^pcshare:[0-9a-f]{32}$/);
      ids.add(obj.id);
    }
    expect(ids.size).toBe(2 + run.cases.length);
    for (const t of data.tests) {
      expect(t.build_id).toBe(data.builds[0].id);
      expect(t.path).toMatch(/^erofs\.pcshare\.[a-zA-Z0-9_-]+$/);
      for (const k of Object.keys(t)) expect(TEST_FIELDS.has(k), k).toBe(true);
    }
    expect(data.tests.map((t: Node) => t.path)).toContain("erofs.pcshare.F1");
  });

  it("gives the same ids for the same results (re-export is idempotent)", () => {
    expect(renderKcidb(fullRun())).toBe(renderKcidb(run));
  });

  it("maps statuses through one table", () => {
    const status = Object.fromEntries(data.tests.map((t: Node) => [t.misc.pcshare_outcome, [t.status, t.waived]]));
    expect(status).toEqual({
      pass: ["PASS", false],
      fail: ["FAIL", false],
      skip: ["SKIP", false],
      xfail: ["FAIL", true],
      xpass: ["PASS", false],
      error: ["ERROR", false],
      timeout: ["ERROR", false],
    });
    for (const o of OUTCOMES) expect(["FAIL", "ERROR", "MISS", "PASS", "DONE", "SKIP"]).toContain(KCIDB_STATUS[o].status);
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
