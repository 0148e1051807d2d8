// The verdict of a saving measurement from its figures (no guest): content, frames, 80 % of the ideal,
// and the plain precondition; and the reasons --per-file gives for a duplicate that did not share.
import { describe, expect, it } from "vitest";
import { assessSaving, frameSample } from "../../harness/measure/saving-verdict.ts";
import { idealSharing, type Duplicate } from "../../harness/measure/ideal.ts";
import type { ModeResult } from "../../harness/measure/saving.ts";
import { notSharedReason } from "../../harness/measure/table.ts";
import type { FileRecord } from "../../harness/images/manifest.ts";

const f = (path: string, size: number, sha256: string, extra: Partial<FileRecord> = {}): FileRecord => ({
  path, type: "file", size, mode: 0o644, sha256, xxh64: sha256.slice(0, 16), fingerprint: `sha256:${sha256}`, nid: null, layout: "plain", ...extra,
});
// A: 40 KiB unique + 40 KiB common; B: the common file + 20 KiB unique. Ideal: 140 KiB plain -> 100 KiB shared.
const ideal = idealSharing([
  { label: "A", files: [f("/u", 40960, "a1"), f("/c", 40960, "cc")] },
  { label: "B", files: [f("/c", 40960, "cc"), f("/v", 20480, "b1")] },
]);
const dup = ideal.duplicates[0];
const mode = (growth: number[], equal: number, extra: Partial<ModeResult> = {}): ModeResult => ({
  growth, total: growth.reduce((a, b) => a + b, 0), read: 4, wrong: [], frames: [{ duplicate: dup, pages: 10, equal }], ms: 1, ...extra,
});

describe("assessSaving", () => {
  it("passes a kernel that saves what the hashes allow, with shared frames and right bytes", () => {
    const v = assessSaving(ideal, { shared: mode([81920, 20480], 10), plain: mode([81920, 61440], 0) });
    expect(v.idealPct).toBeCloseTo((100 * 40960) / 143360, 6);
    expect(v.measuredPct).toBeCloseTo((100 * (143360 - 102400)) / 143360, 6);
    expect(v.outcome).toBe("pass");
    expect(v.measurements.find((m) => m.name === "cached.total" && m.series === "ideal")).toMatchObject({ value: 102400, kind: "exact" });
  });
  it("fails a saving below 80 % of the ideal, a wrong file, unshared frames, or frames shared on plain mounts", () => {
    expect(assessSaving(ideal, { shared: mode([81920, 50000], 10), plain: mode([81920, 61440], 0) }).reason).toMatch(/at least 80 %/);
    const wrong = [{ label: "B", path: "/v", expected: "b1", seen: "00" }];
    expect(assessSaving(ideal, { shared: mode([81920, 20480], 10, { wrong }), plain: mode([81920, 61440], 0) }).reason).toMatch(/shared: every file read.*B:"\/v" read as 00/);
    expect(assessSaving(ideal, { shared: mode([81920, 20480], 3), plain: mode([81920, 61440], 0) }).outcome).toBe("fail");
    expect(assessSaving(ideal, { shared: mode([81920, 20480], 10), plain: mode([81920, 61440], 10) }).outcome).toBe("fail");
  });
  it("is an error, not a verdict, when plain mounts cached far less than was read", () => {
    expect(assessSaving(ideal, { shared: mode([0, 0], 10), plain: mode([10000, 0], 0) }).outcome).toBe("error");
  });
});

describe("frameSample and notSharedReason", () => {
  it("checks duplicates across sources first, largest first", () => {
    const d = (label: string, firstLabel: string, size: number): Duplicate => ({ label, firstLabel, size, path: `/${size}`, firstPath: "/x", sha256: String(size) });
    expect(frameSample([d("A", "A", 900), d("B", "A", 10), d("B", "A", 50)], 2).map((x) => x.size)).toEqual([50, 10]);
  });
  it("names why a duplicate did not share", () => {
    expect(notSharedReason(f("/a", 5, "x"), f("/b", 5, "x"), "plain")).toBe("sharing off");
    expect(notSharedReason(f("/a", 5, "x"), f("/b", 6, "x"), "shared")).toBe("different size");
    expect(notSharedReason(f("/a", 5, "x"), f("/b", 5, "x", { fingerprint: null }), "shared")).toBe("different fingerprint");
    expect(notSharedReason(f("/a", 5, "x"), f("/b", 5, "x", { layout: "compressed_full" }), "shared")).toBe("different address-space operations");
  });
});
