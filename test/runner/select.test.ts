// Case selection (--only, --skip, --tag) on a small hand-made catalogue: ids, names, id-name, wildcards,
// comma lists, case-insensitivity, regex characters taken literally, and the error for an unknown selector.
import { describe, expect, it } from "vitest";
import type { CaseDef } from "../../harness/runner/case.ts";
import { selectCases, type Selection } from "../../harness/runner/select.ts";

const def = (id: string, name: string, groups: string[], tags?: string[]): CaseDef => ({
  id,
  name,
  groups,
  tags,
  expect: "test case",
  run: async () => {},
});

const ALL: CaseDef[] = [
  def("F1", "same-domain-shares-frames", ["F"], ["smoke"]),
  def("F1b", "plain-mounts-do-not-share", ["F"]),
  def("F12", "many-files", ["F"]),
  def("I1", "other-domain-is-separate", ["I"], ["security", "smoke"]),
  def("L1", "umount-while-reading", ["L"], ["race"]),
  def("M4", "scale-with-mounts", ["M", "V"]),
];

const ids = (sel: Selection) => selectCases(ALL, sel).map((c) => c.id);

describe("selectCases", () => {
  const cases: [string, Selection, string[]][] = [
    ["nothing selected: every case, in catalogue order", {}, ["F1", "F1b", "F12", "I1", "L1", "M4"]],
    ["empty lists select everything", { only: [], skip: [], tag: [] }, ["F1", "F1b", "F12", "I1", "L1", "M4"]],
    ["--only by id: exact, not a prefix", { only: ["F1"] }, ["F1"]],
    ["--only ids are case-insensitive", { only: ["f1B"] }, ["F1b"]],
    ["--only by name", { only: ["umount-while-reading"] }, ["L1"]],
    ["--only by id-name", { only: ["I1-other-domain-is-separate"] }, ["I1"]],
    ["--only with a wildcard", { only: ["F1*"] }, ["F1", "F1b", "F12"]],
    ["--only with a wildcard inside a name", { only: ["*-domain-*"] }, ["F1", "I1"]],
    ["--only comma-separated, blanks ignored", { only: [" F1 , ,L1 "] }, ["F1", "L1"]],
    ["--only repeated options add up", { only: ["F1", "M4"] }, ["F1", "M4"]],
    ["--only keeps catalogue order, not the order given", { only: ["M4,F1"] }, ["F1", "M4"]],
    ["--skip removes", { skip: ["F1b,F12"] }, ["F1", "I1", "L1", "M4"]],
    ["--skip with a wildcard", { skip: ["F*"] }, ["I1", "L1", "M4"]],
    ["--skip wins over --only", { only: ["F*"], skip: ["F12"] }, ["F1", "F1b"]],
    ["--tag matches tags", { tag: ["smoke"] }, ["F1", "I1"]],
    ["--tag matches groups", { tag: ["V"] }, ["M4"]],
    ["--tag is case-insensitive both ways", { tag: ["RACE", "l"] }, ["L1"]],
    ["--tag comma-separated: any of them", { tag: ["security,race"] }, ["I1", "L1"]],
    ["--tag and --only must both hold", { only: ["F*"], tag: ["smoke"] }, ["F1"]],
    ["--tag and --skip", { tag: ["smoke"], skip: ["I1"] }, ["F1"]],
    ["--tag that no case has selects nothing (tags are not checked)", { tag: ["nope"] }, []],
  ];
  it.each(cases)("%s", (_what, sel, expected) => {
    expect(ids(sel)).toEqual(expected);
  });

  it("takes regex characters in a selector literally", () => {
    const odd = [def("X1", "a.b", ["X"]), def("X2", "axb", ["X"]), def("X3", "a+b", ["X"]), def("X4", "aab", ["X"])];
    expect(selectCases(odd, { only: ["a.b"] }).map((c) => c.id)).toEqual(["X1"]);
    expect(selectCases(odd, { only: ["a+b"] }).map((c) => c.id)).toEqual(["X3"]);
  });

  it("matches the whole id or name, not a part of it", () => {
    expect(() => ids({ only: ["domain"] })).toThrow('no case matches "domain"');
    expect(() => ids({ only: ["1"] })).toThrow('no case matches "1"');
  });

  it("rejects an unknown --only or --skip selector, naming it and where to look", () => {
    expect(() => ids({ only: ["F1", "Z9"] })).toThrow('no case matches "Z9" (see `pcshare list` for ids and names)');
    expect(() => ids({ skip: ["nosuch-*"] })).toThrow('no case matches "nosuch-*"');
  });
});
