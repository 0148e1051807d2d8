// The KTAP export read by the kernel's own parser (tools/testing/kunit/kunit.py parse) from Debian's
// linux-source in the cache: a recorded run on 7.2.13 with the known bugs applied (xfail, xpass lines)
// parses without errors, every case is seen, and ok/not ok land where KTAP_STATUS says. Skipped when
// no linux-source has been unpacked in the cache yet (the first minimal-kernel build does that).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RunResult } from "../../harness/report/model.ts";
import { KTAP_STATUS, renderKtap } from "../../harness/report/ktap.ts";
import { applyKnownBugs } from "../../harness/verdict/known-bugs.ts";
import { loadKnownBugs } from "../../harness/verdict/load-known-bugs.ts";
import { cachePath } from "../../harness/util/cache.ts";

function kunitPy(): string | undefined {
  const dir = cachePath("sources", "");
  const trees = existsSync(dir) ? readdirSync(dir).filter((d) => d.startsWith("debian-linux-source-")) : [];
  return trees.map((d) => path.join(dir, d, "tree/tools/testing/kunit/kunit.py")).find(existsSync);
}

const KUNIT = kunitPy();
const recorded = JSON.parse(readFileSync(new URL("../fixtures/runs/sid-7.2.13-f1-l2-d2-o3.json", import.meta.url), "utf8")) as RunResult;
const tmp = mkdtempSync(path.join(tmpdir(), "pcshare-ktap-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function parse(ktap: string): string {
  const file = path.join(tmp, "results.ktap");
  writeFileSync(file, ktap);
  // kunit.py prints its verdict on stdout and exits non-zero when a test failed or the input is broken.
  try {
    return execFileSync("python3", [KUNIT!, "parse", file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? "") + "\n[exit non-zero]";
  }
}

describe.skipIf(!KUNIT)("KTAP through the kernel's kunit.py parser", async () => {
  const run = applyKnownBugs(recorded, await loadKnownBugs());
  // the recorded cases plus one of each other outcome, so every KTAP_STATUS row is parsed
  const extra = (["skip", "xpass", "error", "timeout"] as const).map((o, i) => ({ ...recorded.cases[0], id: `Z${i + 1}`, name: o, outcome: o, reason: `${o} here` }));
  const all: RunResult = { ...run, cases: [...run.cases, ...extra] };

  it("parses the layered recorded run (xfail lines) cleanly, each xfail counted as the ok it prints", () => {
    const out = parse(renderKtap(run));
    expect(out).not.toContain("[ERROR]");
    expect(out).not.toContain("[exit non-zero]");
    expect(out).toMatch(/Ran 4 tests: passed: 4/);
    for (const c of run.cases) expect(out).toContain(`[PASSED] ${c.id}_${c.name}`);
  });

  it("puts every outcome where KTAP_STATUS says (ok / not ok / SKIP)", () => {
    const out = parse(renderKtap(all));
    const want = { passed: 0, failed: 0, skipped: 0 };
    for (const c of all.cases) {
      const st = KTAP_STATUS[c.outcome];
      if (st.directive === "SKIP") want.skipped++;
      else if (st.ok) want.passed++;
      else want.failed++;
    }
    expect(want).toEqual({ passed: 5, failed: 2, skipped: 1 });
    expect(out).toMatch(new RegExp(`Ran ${all.cases.length} tests: passed: ${want.passed}, failed: ${want.failed}, skipped: ${want.skipped}`));
    expect(out).not.toContain("[ERROR]");
  });

  it("fails when the KTAP is broken (the parser is really reading it)", () => {
    const broken = renderKtap(run).replace(/^ok 2 /m, "ok 7 ");
    expect(parse(broken)).toMatch(/Expected test number 2 but found 7|\[ERROR\]/);
  });
});
