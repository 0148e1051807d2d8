// `pcshare concerns` text from recorded runs (no guest): each concern lists its cases with their
// verdicts, what a failing case saw, where the kernel report happened and a one-line reproducer;
// concerns without results say which cases to run. The CLI reads the same file and exits 0.
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { concernsText } from "../../harness/report/concerns.ts";
import { parseResults } from "../../harness/report/json.ts";
import { ALL_CASES } from "../../cases/index.ts";
import { CONCERNS } from "../../cases/concerns.ts";

const FIXTURE = "test/fixtures/runs/sid-7.2.13-f1-l2-d2-o3.json";
const REPEATS = "test/fixtures/runs/sid-7.2.13-noisy-repeat5-b.json";
const read = (f: string) => parseResults(readFileSync(fileURLToPath(new URL(`../../${f}`, import.meta.url)), "utf8"), f);

/** The block of one concern: from its "* title [tag]" line to the next blank line. */
function block(text: string, tag: string): string {
  const start = text.indexOf(`[${tag}]\n`);
  expect(start, `no block for ${tag}`).toBeGreaterThan(0);
  const end = text.indexOf("\n\n", start);
  return text.slice(text.lastIndexOf("\n", start) + 1, end < 0 ? undefined : end);
}

describe("concernsText", () => {
  const text = concernsText({ run: read(FIXTURE), defs: ALL_CASES, resultsPath: FIXTURE });

  it("heads the text with the kernel and lists every concern of cases/concerns.ts once", () => {
    expect(text.split("\n")[0]).toBe(`Review concerns on 7.2.13+deb14-amd64 (debian:sid 7.2.13-1), from ${FIXTURE}:`);
    for (const tag of Object.keys(CONCERNS)) expect(text.split(`[${tag}]\n`).length - 1, tag).toBe(1);
  });

  it("gives a failing case its verdict, what it saw, the RIP and reliable frames, and a reproducer", () => {
    const b = block(text, "remount");
    expect(b).toContain("  1 of 1 case failed");
    expect(b).toContain("  O3 remount-adds-inode-share-without-domain: fail");
    expect(b).toContain("    seen: kernel report (bug): BUG: kernel NULL pointer dereference, address: 0000000000000000");
    expect(b).toContain("    | RIP: 0010:strlen+0x4/0x30");
    expect(b).toContain("    |  erofs_xattr_fill_inode_fingerprint+0xc0/0x190 [erofs]");
    expect(b).not.toMatch(/\|\s+\? /); // unreliable frames left out
    expect(b).toContain(`    reproduce: pcshare repro ${FIXTURE}#O3 --out repro-O3   (or: pcshare run --only O3 --kernel debian:sid)`);
  });

  it("files cases of results without a concern tag under the catalogue's tag (L2: lifetime)", () => {
    expect(read(FIXTURE).cases.find((c) => c.id === "L2")?.concernTag).toBeUndefined();
    expect(block(text, "lifetime")).toContain("  L2 unmounting-the-io-serving-mount-under-a-reader-lz4hc: fail");
  });

  it("says which cases to run for a concern the results do not cover", () => {
    expect(block(text, "trust-boundary")).toContain("  not run in these results (cases: I1, I2, I4); run them: pcshare run --only I1,I2,I4 --kernel debian:sid");
  });

  it("counts repeats per case and says what a passing case does", () => {
    const t = concernsText({ run: read(REPEATS), defs: ALL_CASES, resultsPath: REPEATS });
    const b = block(t, "memory-accounting");
    expect(b).toMatch(/  M3 tenant-limit-or-removal-refaults-without-leak: pass 4\/5, fail 1\/5\n    seen: /);
  });
});

describe("pcshare concerns RESULTS", () => {
  it("prints the text for a recorded results.json without a guest and exits 0", async () => {
    const r = await execa("bin/pcshare", ["concerns", FIXTURE], { reject: false, env: { PCSHARE_QUIET: "1" } });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(concernsText({ run: read(FIXTURE), defs: ALL_CASES, resultsPath: FIXTURE }).trimEnd());
  }, 60_000);
});
