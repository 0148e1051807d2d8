// Which variants a run executes: all with --all-variants or for a case without a window; otherwise a
// window moved on by the seed, complementary for cases with offsets, covering all over enough seeds.
import { describe, expect, it } from "vitest";
import { chosenVariants, defaultVariantSeed, seedsToCover } from "../../harness/runner/variants.ts";
import { defineCase } from "../../harness/runner/case.ts";

const ids = ["a", "b", "c", "d", "e"];
const rotating = { id: "D9", variants: ids, variantsPerRun: 2 };

describe("chosenVariants", () => {
  it("gives undefined for a case without variants and all of them without a window or with --all-variants", () => {
    expect(chosenVariants({ id: "F1" }, { seed: 3, all: false })).toBeUndefined();
    expect(chosenVariants({ id: "D9", variants: ids }, { seed: 3, all: false })).toEqual(ids);
    expect(chosenVariants(rotating, { seed: 3, all: true })).toEqual(ids);
  });

  it("takes a window per seed, in declaration order, and is the same for the same seed", () => {
    expect(chosenVariants(rotating, { seed: 0, all: false })).toEqual(["a", "b"]);
    expect(chosenVariants(rotating, { seed: 1, all: false })).toEqual(["c", "d"]);
    expect(chosenVariants(rotating, { seed: 2, all: false })).toEqual(["a", "e"]); // wraps: e, a
    expect(chosenVariants(rotating, { seed: 7, all: false })).toEqual(chosenVariants(rotating, { seed: 7, all: false }));
  });

  it("covers every variant over seedsToCover consecutive seeds, from any seed", () => {
    for (const start of [0, 4, 20792]) {
      const seen = new Set<string>();
      for (let s = start; s < start + seedsToCover(rotating); s++) for (const v of chosenVariants(rotating, { seed: s, all: false })!) seen.add(v);
      expect([...seen].sort()).toEqual(ids);
    }
  });

  it("gives two cases with half windows and offsets 0 and half every variant in every run, each once", () => {
    const even = [...ids, "f"];
    const first = { id: "D2", variants: even, variantsPerRun: 3 };
    const second = { ...first, id: "D5", variantOffset: 3 };
    for (const seed of [0, 1, 2, 20792, 20793]) {
      const a = chosenVariants(first, { seed, all: false })!;
      const b = chosenVariants(second, { seed, all: false })!;
      expect([...a, ...b].sort()).toEqual(even);
    }
  });

  it("defaults the seed to the UTC day", () => {
    expect(defaultVariantSeed(new Date("1970-01-02T23:59:59Z"))).toBe(1);
    expect(defaultVariantSeed(new Date("2026-12-05T08:00:00Z"))).toBe(20792);
  });

  it("refuses duplicate variant ids and a window without variants", () => {
    const base = { id: "D9", name: "x", groups: ["D"], expect: "x", run: async () => {} };
    expect(() => defineCase({ ...base, variants: ["a", "a"] })).toThrow(/unique/);
    expect(() => defineCase({ ...base, variantsPerRun: 2 })).toThrow(/needs variants/);
    expect(() => defineCase({ ...base, variants: ["a"], variantsPerRun: 0 })).toThrow(/positive/);
  });
});
