// The known-bugs layer and `pcshare mutants`: on recorded results from Debian's 7.2.13, a mutant whose
// failure in a case differs by signature from the bug registered there is still killed; one whose
// failure is exactly the registered bug is not (the bug, not the mutant, explains it); a race that
// passed on the baseline does not keep a later failure on the mutant from counting.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { CaseResult, RunResult } from "../../harness/report/model.ts";
import { judge } from "../../harness/cli/mutants-command.ts";
import { applyKnownBugs } from "../../harness/verdict/known-bugs.ts";
import { loadKnownBugs } from "../../harness/verdict/load-known-bugs.ts";

const recorded = JSON.parse(readFileSync(new URL("../fixtures/runs/sid-7.2.13-f1-l2-d2-o3.json", import.meta.url), "utf8")) as RunResult;
const bugs = await loadKnownBugs();
const layered = (cases: CaseResult[]) => applyKnownBugs({ ...recorded, cases }, bugs);
const rec = (id: string) => structuredClone(recorded.cases.find((c) => c.id === id)!);
const kasan = { kind: "kasan", title: "BUG: KASAN: slab-use-after-free in igrab+0x1a/0x80", excerpt: "BUG: KASAN: slab-use-after-free in igrab+0x1a/0x80\nCall Trace:\n erofs_real_inode+0x2/0x3" };

describe("mutant kills with known bugs applied", () => {
  it("a different crash in a case with a registered bug kills (baseline xfail -> mutant fail)", () => {
    const base = layered([rec("O3")]);
    const o3 = rec("O3");
    o3.crashes.push(kasan);
    const mut = layered([o3]);
    expect(base.cases[0].outcome).toBe("xfail");
    expect(mut.cases[0].outcome).toBe("fail");
    expect(judge(["O3"], base, mut)).toMatchObject({ verdict: "killed", killer: "O3" });
  });

  it("the registered bug alone on the mutant does not kill", () => {
    expect(judge(["O3"], layered([rec("O3")]), layered([rec("O3")])).verdict).toBe("survived");
  });

  it("a race that did not fire on the baseline (xpass) and fires with another report on the mutant kills", () => {
    const l1pass = { ...rec("L2"), id: "L1", crashes: [], outcome: "pass" as const };
    const l1mut = { ...rec("L2"), id: "L1", crashes: [...rec("L2").crashes, kasan] };
    const base = layered([l1pass]);
    const mut = layered([l1mut]);
    expect(base.cases[0].outcome).toBe("xpass");
    expect(mut.cases[0].outcome).toBe("fail");
    expect(judge(["L1"], base, mut)).toMatchObject({ verdict: "killed", killer: "L1" });
  });

  it("the race alone on the mutant is the race, not a kill", () => {
    const base = layered([{ ...rec("L2"), id: "L1", crashes: [], outcome: "pass" }]);
    const mut = layered([{ ...rec("L2"), id: "L1" }]);
    expect(mut.cases[0].outcome).toBe("xfail");
    expect(judge(["L1"], base, mut).verdict).toBe("survived");
  });

  it("an xpass on the mutant is no failure", () => {
    const base = layered([rec("O3")]);
    const mut = layered([{ ...rec("O3"), outcome: "pass", crashes: [], checks: [] }]);
    expect(mut.cases[0].outcome).toBe("xpass");
    expect(judge(["O3"], base, mut).verdict).toBe("survived");
  });
});
