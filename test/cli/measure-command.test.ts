// `pcshare measure` end to end, as the user runs it, on the default Debian kernel: two real npm
// packages of ~31 MB of file data each (typescript 5.4.4 and 5.4.5, which share their unchanged
// files). Cached moves by about +-100 KiB on its own, so with ~62 MiB read the measured saving must
// come within 2 percentage points of the ideal the content hashes give, and every file read in both
// modes must have its package's bytes. On a kernel without the feature (Debian trixie's 6.12) the
// command says so and exits 77 with a skip in results.json, without building or booting anything.
// The packages are fetched from the npm registry once and cached, as the images are. Two directory
// sources with the names that text tools mangle (a newline, a backslash, quotes, spaces, a leading
// dash, non-ASCII, a 255-byte name, 1.7 KB paths, 3000 files) must read right file by file too.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
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

async function measure(dir: string, extra: string[] = [], sources = SOURCES) {
  const r = await execa("npx", ["tsx", "harness/cli.ts", "measure", ...sources, "--out", dir, ...extra], { reject: false, stdin: "ignore", env: { PCSHARE_QUIET: "1" } });
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
    // recorded in the history like any run (the tests' own temporary database)
    expect(r.stdout).toContain(`history: ${process.env.PCSHARE_HISTORY}`);
    const listed = await execa("npx", ["tsx", "harness/cli.ts", "history", "--kernel", run.kernel.release], { reject: false });
    expect(listed.stdout).toContain(path.join(out, "trixie"));
  }, 300_000);

  it("reads every file of trees with awkward names, matched file by file (a newline in a name once failed both modes)", async () => {
    const [a, b] = await awkwardTrees(path.join(out, "trees"));
    const { r, run, value } = await measure(path.join(out, "names"), [], [a, b]);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(run.cases[0].outcome).toBe("pass");
    for (const mode of ["shared", "plain"]) {
      expect(value(`${mode}.files_read`)).toBe(2 * AWKWARD_FILES);
      expect(value(`${mode}.files_wrong`)).toBe(0);
    }
    expect(value("saving_ideal_pct")).toBeGreaterThan(15);
  }, 600_000);
});

const AWKWARD_NAMES = ["line\nbreak", "back\\slash", "q\"uote's", " lead and trail ", "-n", "--", "café 日本語", "emoji-😀", "x".repeat(255)];
const AWKWARD_FILES = 2 * AWKWARD_NAMES.length + 3000 + 1;

/** Deterministic bytes: a sha256 chain from `seed`. */
function bytes(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  let h = createHash("sha256").update(seed).digest();
  for (let o = 0; o < n; o += 32) {
    h.copy(out, o);
    h = createHash("sha256").update(h).digest();
  }
  return out;
}

/** Two trees: the awkward names hold the same 1 MiB / 300 KB on both sides (they should share), 3000 small files and one 8 MiB file differ. */
async function awkwardTrees(root: string): Promise<string[]> {
  const deep = Array.from({ length: 14 }, (_, i) => `d${i}-${"é".repeat(60)}`).join("/");
  const dirs = [];
  for (const side of ["a", "b"]) {
    const base = path.join(root, side);
    await mkdir(path.join(base, deep), { recursive: true });
    await mkdir(path.join(base, "many"));
    for (const [i, n] of AWKWARD_NAMES.entries()) {
      await writeFile(path.join(base, n), bytes(`top-${i}`, 1 << 20));
      await writeFile(path.join(base, deep, n), bytes(`deep-${i}`, 300_000));
    }
    for (let i = 0; i < 3000; i++) await writeFile(path.join(base, "many", `f ${i} é.txt`), `${side}-${i}\n`.repeat(1 + (i % 50)));
    await writeFile(path.join(base, `own-${side}.bin`), bytes(`own-${side}`, 8 << 20));
    dirs.push(base);
  }
  return dirs;
}
