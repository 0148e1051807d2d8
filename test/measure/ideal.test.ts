// The ideal saving from content hashes: whole pages per file, one copy per distinct content across
// and within sources, hardlinks and empty files free, sources counted in read order.
import { describe, expect, it } from "vitest";
import { idealSharing, pageBytes, savingPct } from "../../harness/measure/ideal.ts";
import type { FileRecord } from "../../harness/images/manifest.ts";

const file = (path: string, size: number, sha256: string, extra: Partial<FileRecord> = {}): FileRecord => ({
  path, type: "file", size, mode: 0o644, sha256, xxh64: sha256.slice(0, 16), fingerprint: `sha256:${sha256}`, nid: null, layout: null, ...extra,
});

describe("idealSharing", () => {
  it("counts whole pages per file", () => {
    expect(pageBytes(1)).toBe(4096);
    expect(pageBytes(4096)).toBe(4096);
    expect(pageBytes(4097)).toBe(8192);
    expect(pageBytes(0)).toBe(0);
  });

  it("keeps one copy per distinct content, attributed to the source read first", () => {
    const a = [file("/x", 10_000, "aa"), file("/y", 5000, "bb")];
    const b = [file("/x", 10_000, "aa"), file("/z", 100, "cc")];
    const r = idealSharing([{ label: "A", files: a }, { label: "B", files: b }]);
    expect(r.sources[0]).toEqual({ label: "A", files: 2, bytes: 15_000, plain: 12288 + 8192, shared: 12288 + 8192 });
    expect(r.sources[1]).toEqual({ label: "B", files: 2, bytes: 10_100, plain: 12288 + 4096, shared: 4096 });
    expect(r.total).toEqual({ files: 4, bytes: 25_100, plain: 36864, shared: 24576 });
    expect(r.savingPct).toBeCloseTo((100 * 12288) / 36864, 10);
    expect(r.duplicates).toEqual([{ label: "B", path: "/x", size: 10_000, sha256: "aa", firstLabel: "A", firstPath: "/x" }]);
  });

  it("shares identical files within one source, under any path", () => {
    const r = idealSharing([{ label: "A", files: [file("/a", 8192, "dd"), file("/deep/b", 8192, "dd")] }, { label: "B", files: [] }]);
    expect(r.total).toMatchObject({ plain: 16384, shared: 8192 });
    expect(r.duplicates[0]).toMatchObject({ label: "A", path: "/deep/b", firstPath: "/a" });
  });

  it("leaves out hardlinks' second names, empty files, directories and symlinks", () => {
    const files: FileRecord[] = [
      file("/f", 4096, "ee"),
      file("/link", 4096, "ee", { linkOf: "/f" }),
      file("/empty", 0, "e3b0"),
      { path: "/d", type: "dir", size: 0, mode: 0o755, sha256: null, xxh64: null, fingerprint: null, nid: null, layout: null },
      { path: "/s", type: "symlink", size: 2, mode: 0o777, sha256: null, xxh64: null, target: "/f", fingerprint: null, nid: null, layout: null },
    ];
    const r = idealSharing([{ label: "A", files }]);
    expect(r.total).toEqual({ files: 1, bytes: 4096, plain: 4096, shared: 4096 });
    expect(r.duplicates).toEqual([]);
  });

  it("saving of nothing read is 0, not NaN", () => {
    expect(savingPct(0, 0)).toBe(0);
    expect(idealSharing([{ label: "A", files: [] }, { label: "B", files: [] }]).savingPct).toBe(0);
  });
});
