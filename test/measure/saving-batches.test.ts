// How the measurement hands paths to the guest: request-sized batches in order, and results matched
// by position (no name is parsed back out of text); how a path appears in a failure message.
import { describe, expect, it } from "vitest";
import { pathBatches, readAs, showPath } from "../../harness/measure/saving.ts";

describe("pathBatches", () => {
  it("keeps every path once, in order, within the file and byte limits", () => {
    const paths = Array.from({ length: 1000 }, (_, i) => `/mnt/m-0/dir ${i % 7}/file\n${i}-${"é".repeat(i % 300)}`);
    const batches = pathBatches(paths, 64, 16 * 1024);
    expect(batches.flat()).toEqual(paths);
    for (const b of batches) {
      expect(b.length).toBeLessThanOrEqual(64);
      expect(Buffer.byteLength(JSON.stringify(b))).toBeLessThanOrEqual(16 * 1024 + 1);
    }
  });

  it("counts a name's JSON escapes: 1000 control characters take 6000 bytes on the wire", () => {
    const odd = `/m/${"\u0001".repeat(1000)}`;
    expect(pathBatches([odd, odd, odd], 256, 12_100)).toEqual([[odd, odd], [odd]]);
  });

  it("gives a path longer than the byte limit a batch of its own", () => {
    const long = `/m/${"x".repeat(5000)}`;
    expect(pathBatches(["/a", long, "/b"], 256, 1000)).toEqual([["/a"], [long], ["/b"]]);
    expect(pathBatches([])).toEqual([]);
  });
});

describe("readAs and showPath", () => {
  it("a file reads as its XXH64, or as the call and errno that failed", () => {
    expect(readAs({ size: 3, xxh64: "ab" })).toBe("ab");
    expect(readAs({ error: "open", errno: 2, errname: "ENOENT" })).toBe("unreadable: open: ENOENT");
  });

  it("quotes a path as JSON and keeps the end of a long one", () => {
    expect(showPath("/a\nb c")).toBe('"/a\\nb c"');
    const long = `/${"d/".repeat(200)}name`;
    expect(showPath(long)).toBe(`"…${JSON.stringify(long).slice(-160)}`);
    expect(showPath(long).endsWith('name"')).toBe(true);
  });
});
