// The two orders of a two-sided check (cases/fixtures.ts): A first keeps the names a one-order case
// had, B first carries "B first" in check names and "_b_first" in figure names; inOrder swaps the sides.
import { describe, expect, it } from "vitest";
import { inOrder, ORDERS } from "../../cases/fixtures.ts";

describe("ORDERS", () => {
  it("runs A first under the old names, then B first under marked ones", () => {
    expect(ORDERS.map((o) => [o.first, o.second])).toEqual([["A", "B"], ["B", "A"]]);
    expect(ORDERS[0]).toMatchObject({ check: "", figure: "" });
    expect(ORDERS[1]).toMatchObject({ check: "B first: ", figure: "_b_first" });
  });

  it("inOrder gives the side read first, then the other", () => {
    expect(ORDERS.map((o) => inOrder(o, "share-a", "share-b"))).toEqual([["share-a", "share-b"], ["share-b", "share-a"]]);
  });

  it("every check name an order makes is distinct from the other order's", () => {
    const names = ORDERS.map((o) => `${o.check}cgroup ${o.first} reads the source's bytes`);
    expect(new Set(names).size).toBe(2);
    expect(names[0]).toBe("cgroup A reads the source's bytes");
  });
});
