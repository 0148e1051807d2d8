// `pcshare measure` end to end, as the user runs it, on the default Debian kernel: two real npm
// packages of ~31 MB of file data each (typescript 5.4.4 and 5.4.5, which share their unchanged
// files). Cached moves by about +-100 KiB on its own, so with ~62 MiB read the measured saving must
// come within 2 percentage points of the ideal the content hashes give, and every file read in both
// modes must have its package's bytes. On a kernel without the feature (Debian trixie's 6.12) the
// command says so and exits 77 with a skip in results.json, without building or booting anything.
// The packages are fetched from the npm registry once and cached, as the images are.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunResult } from "../../harness/report/model.ts";

let out: string;
beforeAll(async () => {
  out = await mkdtemp(path.join(os.tmpdir(), "pcshare-measure-test-"));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

const SOURCES = ["npm:typescript@5.4.4", "npm:typescript@5.4.5"];

async function measure(dir: string, extra: string[] = []) {
  const r = await execa("npx", ["tsx", "harness/cli.ts", "measure", ...SOURCES, "--out", dir, ...extra], { reject: false, stdin: "ignore", env: { PCSHARE_QUIET: "1" } });
  const run = JSON.parse(await readFile(path.join(dir, "results.json"), "utf8")) as RunResult;
  const value = (name: string, series?: string) => run.cases[0].measurements.find((m) => m.name === name && m.series === series)?.value;
  return { r, run, value };
}

describe("pcshare measure", () => {
  it("measures a saving within 2 points of the ideal on two real packages, every file's bytes correct", async () => {
    const { r, run, value } = await measure(path.join(out, "sid"));
    expect(r.exitCode, r.stderr).toBe(0);
    const c = run.cases[0];
    expect(c.outcome).toBe("pass");
    for (const label of ["typescript@5.4.4", "typescript@5.4.5"]) expect(value(`${label}.bytes`)).toBeGreaterThanOrEqual(20e6);
    const measured = value("saving_measured_pct")!;
    const ideal = value("saving_ideal_pct")!;
    expect(ideal).toBeGreaterThan(5);
    expect(Math.abs(measured - ideal), `measured ${measured} %, ideal ${ideal} %`).toBeLessThanOrEqual(2);
    const files = value("typescript@5.4.4.files")! + value("typescript@5.4.5.files")!;
    for (const mode of ["shared", "plain"]) {
      expect(value(`${mode}.files_read`)).toBeGreaterThanOrEqual(files);
      expect(value(`${mode}.files_wrong`)).toBe(0);
    }
    expect(value("shared.frames_checked")).toBeGreaterThan(0);
    expect(value("shared.frames_equal")).toBe(value("shared.frames_checked"));
    expect(value("plain.frames_equal")).toBe(0);
    expect(value("cached.total", "ideal")).toBeLessThan(value("cached.total", "plain")!);
    expect(r.stdout).toMatch(/^total\s+\d+/m);
    expect(await readFile(path.join(out, "sid", "report.html"), "utf8")).toContain("<svg");
  }, 600_000);

  it("skips clearly on a kernel without page cache sharing (exit 77, skip in results.json)", async () => {
    const { r, run } = await measure(path.join(out, "trixie"), ["--kernel", "debian:trixie"]);
    expect(r.exitCode).toBe(77);
    expect(r.stdout).toMatch(/skip: kernel lacks EROFS page cache sharing \(CONFIG_EROFS_FS_PAGE_CACHE_SHARE is not set\)/);
    expect(run.cases[0]).toMatchObject({ id: "MEASURE", outcome: "skip" });
    expect(run.kernel.release).toMatch(/^6\.12\./);
  }, 300_000);
});
