// The host replay that picks explore seeds (no guest): it draws the programs explore runs for a seed,
// in order, and finds the reads that go through a shared inode with an empty page cache while an
// evicted inode heads its list (the list-entry-kept-on-evict mutant's use-after-free).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { drawPrograms, staleHeadReads } from "../../harness/explore/host-replay.ts";
import { programArb, weaveLifetime } from "../../harness/explore/generate.ts";
import type { ModelImage } from "../../harness/explore/model.ts";
import type { Op } from "../../harness/explore/program.ts";

const file = { path: "/a.bin", size: 8192, sha256: "aa", xxh64: "aa", fingerprint: "sha256:aa", layout: "plain" };
const images: ModelImage[] = [
  { name: "x", files: [file], fingerprinted: true },
  { name: "y", files: [file], fingerprinted: true },
];
const share = { share: true, domain: "d1" };
const at = (slot: number) => ({ slot, file: 0 });
/** Mount x then y (one key), look x up then y (y heads the list), then `rest`. */
const program = (...rest: Op[]) => ({
  images: ["x", "y"],
  ops: [
    { op: "mount", image: 0, backing: "bdev", opts: share },
    { op: "mount", image: 1, backing: "bdev", opts: share },
    { op: "frames", a: at(0), b: at(1), like: true },
    ...rest,
  ] as Op[],
});

describe("staleHeadReads", () => {
  it.each([
    ["y unmounted, x's cache dropped, x read: y (freed) heads the list", [{ op: "umount", slot: 1, lazy: false }, { op: "fadvise", at: at(0) }, { op: "read", at: at(0), method: "read", offset: 0, length: 0 }], [6]],
    ["the same read through pread", [{ op: "umount", slot: 1, lazy: false }, { op: "fadvise", at: at(0) }, { op: "read", at: at(0), method: "pread", offset: 4096, length: 1 }], [6]],
    ["x unmounted instead: the head (y) lives", [{ op: "umount", slot: 0, lazy: false }, { op: "fadvise", at: at(0) }, { op: "read", at: at(0), method: "read", offset: 0, length: 0 }], []],
    ["no DONTNEED: the read hits the page cache", [{ op: "umount", slot: 1, lazy: false }, { op: "read", at: at(0), method: "read", offset: 0, length: 0 }], []],
    ["a held mapping keeps the cache", [{ op: "hold", at: at(0) }, { op: "umount", slot: 1, lazy: false }, { op: "fadvise", at: at(0) }, { op: "read", at: at(0), method: "read", offset: 0, length: 0 }], []],
    ["drop_caches evicts x too: the read looks x up again, a new head", [{ op: "umount", slot: 1, lazy: false }, { op: "drop_caches" }, { op: "read", at: at(0), method: "read", offset: 0, length: 0 }], []],
  ] as [string, Op[], number[]][])("%s", (_, rest, steps) => {
    expect(staleHeadReads(program(...rest), images).map((h) => h.step)).toEqual(steps);
  });

  it("names the evicted head", () => {
    const [hit] = staleHeadReads(program({ op: "umount", slot: 1, lazy: false }, { op: "fadvise", at: at(0) }, { op: "copy", at: at(0), method: "splice", offset: 0, length: 100 }), images);
    expect(hit).toMatchObject({ step: 6, evicted: expect.stringMatching(/:\/a\.bin$/), op: expect.stringContaining("splice") });
  });

  it("never shares across domains", () => {
    const p = program({ op: "umount", slot: 1, lazy: false }, { op: "fadvise", at: at(0) }, { op: "read", at: at(0), method: "read", offset: 0, length: 0 });
    (p.ops[1] as Extract<Op, { op: "mount" }>).opts = { share: true, domain: "d2" };
    expect(staleHeadReads(p, images)).toEqual([]);
  });
});

describe("staleHeadReads: ranges", () => {
  const big = { ...file, size: 2 * 1024 * 1024 };
  const bigImages: ModelImage[] = images.map((i) => ({ ...i, files: [big] }));
  const pread = (offset: number): Op => ({ op: "read", at: at(0), method: "pread", offset, length: 100 });
  /** Look x, then y up without reading (O_DIRECT opens are refused), then `rest`. */
  const lookups = (...rest: Op[]) => ({
    images: ["x", "y"],
    ops: [
      { op: "mount", image: 0, backing: "bdev", opts: share },
      { op: "mount", image: 1, backing: "bdev", opts: share },
      { op: "odirect", at: at(0) },
      { op: "odirect", at: at(1) },
      ...rest,
    ] as Op[],
  });
  it.each([
    ["nothing read yet: the first read misses", [{ op: "umount", slot: 1, lazy: false }, pread(0)], [6]],
    ["read near an earlier read: readahead may have it", [pread(0), { op: "umount", slot: 1, lazy: false }, pread(4096)], []],
    ["read far from an earlier read: a miss", [pread(0), { op: "umount", slot: 1, lazy: false }, pread(1536 * 1024)], [7]],
    ["read past the end: nothing is read", [{ op: "umount", slot: 1, lazy: false }, pread(3 * 1024 * 1024)], []],
  ] as [string, Op[], number[]][])("%s", (_, rest, steps) => {
    expect(staleHeadReads(lookups(...rest), bigImages).map((h) => h.step)).toEqual(steps);
  });
});

describe("staleHeadReads: the generator's lifetime steps", () => {
  const steps = { at: 0, image: 0, opts: share, file: 0, unmountSecond: true, lazy: true, method: "mmap" as const };
  it.each([
    ["the mount looked up last unmounted: its evicted inode heads the list at the cold read", steps, [6]],
    ["the first one unmounted instead: the head lives", { ...steps, unmountSecond: false }, []],
    ["no sharing: no shared inode", { ...steps, opts: { share: false } }, []],
  ])("%s", (_, l, hits) => {
    expect(staleHeadReads({ images: ["x"], ops: weaveLifetime([], l) }, images).map((h) => h.step)).toEqual(hits);
  });
});

describe("drawPrograms", () => {
  it("draws, in order, the programs explore runs for the seed (P7 is the run at path 6)", () => {
    const drawn = drawPrograms(7, 10);
    let atPath: unknown;
    fc.check(fc.property(programArb, (p) => ((atPath ??= p), true)), { seed: 7, path: "6", numRuns: 1 });
    expect(drawn).toHaveLength(10);
    expect(drawn[6]).toEqual(atPath);
    expect(drawPrograms(8, 10)[6]).not.toEqual(atPath);
  });
});
