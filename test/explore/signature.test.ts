// Which registered bugs label an explore finding (no guest): a kernel report matching a bug's crash
// signature, or a failed check whose name without its step matches one of the bug's check signatures
// (the O3 remount bug, seen through the options mountinfo lists before any lookup oopses); and none
// when a report no bug names follows a registered one (a real console: the registered bs2048 readahead
// warning, then a NULL dereference in iomap_read_folio_iter, on a chunked 1 KiB-block image).
import { describe, expect, it } from "vitest";
import { knownBugsOf, signatureOf } from "../../harness/explore/signature.ts";
import { loadKnownBugs } from "../../harness/verdict/load-known-bugs.ts";
import type { CaseResult, KernelInfo } from "../../harness/report/model.ts";
import { readFileSync } from "node:fs";
import { classifyConsole } from "../../harness/vm/crash.ts";

const BUG = "erofs-remount-inode-share-null-domain";
const O3_LISTED =
  "mountinfo lists inode_share: expected not listed, seen listed (a remount of a mount without domain_id is refused or ignored: it must not leave inode_share on (O3))";

function program(checkName: string, seen: string): CaseResult {
  return {
    id: "P1", name: "explore-program", groups: ["E"], tags: [], outcome: "fail", durationMs: 1,
    checks: [{ name: `${checkName} @ #3 remount mount#0 -o "inode_share"`, ok: false, expected: "not listed", seen }],
    measurements: [], crashes: [], findings: [], artifacts: {},
  } as unknown as CaseResult;
}

describe("registered bugs of an explore finding", async () => {
  const bugs = await loadKnownBugs();
  // Debian's 7.2.13, as results record it (only the fields affects() reads)
  const k = { release: "7.2.13+deb14-amd64", config: { CONFIG_EROFS_FS_PAGE_CACHE_SHARE: "y" } } as unknown as KernelInfo;

  it("a failed check named by a bug's check signature (without its step) labels the finding", () => {
    const r = program(O3_LISTED, "listed");
    expect(signatureOf(r)).toBe(`disagrees: ${O3_LISTED}`);
    expect(knownBugsOf(r, k, bugs)).toContain(BUG);
  });

  it("another check, or another seen value, does not", () => {
    expect(knownBugsOf(program(O3_LISTED.replace("(O3)", "(O2)"), "listed"), k, bugs)).not.toContain(BUG);
    expect(knownBugsOf(program(O3_LISTED, "not listed"), k, bugs)).not.toContain(BUG);
  });

  it("a registered warning followed by a report no bug names labels nothing: the finding is new", () => {
    const crashes = classifyConsole(readFileSync("test/fixtures/console/deb-explore-chunked-bs1024-warning-then-null-deref.log", "utf8"));
    expect(crashes.map((c) => c.kind)).toEqual(["warning", "bug"]);
    const r = { ...program(O3_LISTED, "not listed"), checks: [], crashes } as CaseResult;
    // Without the bug registered for the NULL dereference (E1's), the warning alone is named.
    const others = bugs.filter((b) => b.id !== "erofs-ishare-chunked-subpage-read-null-deref");
    expect(knownBugsOf({ ...r, crashes: crashes.slice(0, 1) }, k, others)).toContain("erofs-ishare-inline-tail-zeros-bs2048");
    expect(knownBugsOf(r, k, others)).toEqual([]);
    expect(knownBugsOf(r, k, bugs)).toContain("erofs-ishare-chunked-subpage-read-null-deref");
    // The warning alone: E1's bug lists it as optional beside its required NULL dereference, so it does not name it.
    expect(knownBugsOf({ ...r, crashes: crashes.slice(0, 1) }, k, bugs)).not.toContain("erofs-ishare-chunked-subpage-read-null-deref");
  });
});
