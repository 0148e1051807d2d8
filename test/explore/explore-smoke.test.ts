// A seed-fixed exploration on the default kernel (a real guest under QEMU): seed 945 draws, as its
// first program (5 operations, then 7 cgroup steps), a mount without domain_id, a remount with
// inode_share and a lookup through that mount, which on Debian's 7.2.13 oopses in strlen (erofs_xattr_fill_inode_fingerprint): the
// registered bug erofs-remount-inode-share-null-domain. The smoke checks that explore finds it, labels
// it with that bug instead of hiding it, writes results.json and saves the finding as a case that
// loads as an ordinary case. Two programs share a guest (--programs-per-guest 2): the oops of the first
// takes its guest down, and the second still runs, on a guest the runner starts in its place. No
// shrinking here (each candidate is a boot): shrinking is exercised by `pcshare explore` itself
// (docs/explore.md). About a minute on an idle 2-core host.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resolveKernel } from "../../harness/kernel/resolve.ts";
import { explore, type ExploreResult } from "../../harness/explore/explore.ts";
import { loadKnownBugs } from "../../harness/verdict/load-known-bugs.ts";
import { loadFoundCases } from "../../harness/explore/found.ts";
import { DEFAULT_SPECS } from "../../harness/images/commands.ts";

const SEED = 945;
const BUG = "erofs-remount-inode-share-null-domain";
let dir: string;
let res: ExploreResult;
const lines: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "pcshare-explore-smoke-"));
  const kernel = await resolveKernel();
  res = await explore({
    kernel, seed: SEED, budgetMs: 5 * 60_000, shrinkMs: 0, maxPrograms: 2, programsPerGuest: 2,
    outDir: path.join(dir, "out"), foundDir: path.join(dir, "found"), bugs: await loadKnownBugs(),
    onProgress: (l) => lines.push(l),
  });
}, 600_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("explore smoke (seed 945, default kernel)", () => {
  it("runs the program and finds the remount oops, labelled with its registered bug", () => {
    expect(res.programs).toBe(2);
    expect(res.run.cases.map((c) => c.id)).toEqual(["P1", "P2"]);
    const f = res.findings.find((x) => x.knownBugs.includes(BUG));
    expect(f, `findings: ${JSON.stringify(res.findings.map((x) => x.signature))}\n${lines.join("\n")}`).toBeDefined();
    expect(f!.signature).toMatch(/^(bug|oops) in /);
    expect(res.run.cases[0].outcome).toBe("fail");
    expect(res.run.cases[0].reason).toContain(`registered bug ${BUG}`);
  });

  it("checked the program's observations against the model before the oops", () => {
    const checks = res.run.cases[0].checks;
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.every((k) => / @ #\d+ /.test(k.name))).toBe(true);
  });

  it("ran the second program of the guest on a new guest after the first one's oops", () => {
    expect(res.run.boots?.length, lines.join("\n")).toBe(2);
    const p2 = res.run.cases[1];
    expect(p2.outcome, `${p2.reason}\n${lines.join("\n")}`).not.toMatch(/^(error|timeout|missing)$/);
    expect(p2.checks.filter((k) => / @ #\d+ /.test(k.name)).length).toBeGreaterThan(0);
    expect(p2.artifacts.console).toMatch(/^P1-P2\//);
  });

  it("writes results.json and saves the finding as a case the suite can load", async () => {
    const json = JSON.parse(await readFile(path.join(dir, "out", "results.json"), "utf8"));
    expect(json.cases[0].id).toBe("P1");
    const cases = loadFoundCases(path.join(dir, "found"), () => DEFAULT_SPECS);
    expect(cases.map((c) => c.id)).toEqual(["E1"]);
    expect(cases[0].expect).toContain(`seed ${SEED}`);
    expect(cases[0].images?.length).toBeGreaterThan(0);
  });
});

describe("a guest that printed a warning runs no further program (seed 42, default kernel)", () => {
  // Seed 42's third program reads the bs2048 fixture and prints the registered bs2048 bug's WARNING
  // (WARN_ON_ONCE): the fourth program of the guest must start on a new one, where the warning can
  // show again. About 20 s on an idle 2-core host.
  let out: string;
  let r42: ExploreResult;
  beforeAll(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), "pcshare-explore-warn-"));
    r42 = await explore({ kernel: await resolveKernel(), seed: 42, budgetMs: 5 * 60_000, shrinkMs: 0, maxPrograms: 4, programsPerGuest: 4, outDir: out, bugs: await loadKnownBugs() });
  }, 600_000);
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it("starts a new guest after the program with the warning", () => {
    const kinds = r42.run.cases.map((c) => c.crashes.map((k) => k.kind).join(",") || "-");
    expect(kinds).toEqual(["-", "-", "warning", "-"]);
    expect(r42.run.boots?.length).toBe(2);
  });
});
