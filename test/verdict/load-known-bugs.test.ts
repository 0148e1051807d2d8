// Tests of reading known-bugs/*.yaml: the repository's registrations are valid and name real cases;
// each kind of bad registration is refused with "file:line: field: problem", all problems at once.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ALL_CASES } from "../../cases/index.ts";
import { KnownBugsError, loadKnownBugs, parseKnownBug } from "../../harness/verdict/load-known-bugs.ts";

const GOOD = `id: good-bug
title: a bug
cases: [O3]
kernels:
  - versions: "7.2.13"
    config:
      CONFIG_EROFS_FS_PAGE_CACHE_SHARE: "y"
signature:
  crashes:
    - kind: bug
      function: strlen
  checks:
    - name: a check
      seen: "x \\\\d+"
reproducer: pcshare run --only O3
evidence:
  - run: r
    kernel: k
    date: "2026-12-05"
    excerpt: e
`;

function problems(text: string): string[] {
  try {
    parseKnownBug("bug.yaml", text);
    return [];
  } catch (e) {
    if (!(e instanceof KnownBugsError)) throw e;
    return e.problems;
  }
}

describe("known-bugs/ in the repository", () => {
  it("every file is valid and names cases of the catalog", async () => {
    const bugs = await loadKnownBugs(undefined, ALL_CASES.map((c) => c.id));
    expect(bugs.length).toBeGreaterThanOrEqual(3);
    for (const b of bugs) expect(b.file).toBe(`${b.id}.yaml`);
  });
});

describe("bad registrations", () => {
  it("accepts the good one, with defaults", () => {
    const b = parseKnownBug("bug.yaml", GOOD);
    expect(b).toMatchObject({ id: "good-bug", version: 1, race: false, file: "bug.yaml" });
    expect(b.signature.crashes[0].optional).toBe(false);
  });

  it.each([
    ["an unknown field", GOOD.replace("title: a bug", "title: a bug\ntitel: typo"), 'bug.yaml:1: Unrecognized key: "titel"'],
    ["a bad crash kind", GOOD.replace("kind: bug", "kind: boom"), "bug.yaml:10: signature.crashes[0].kind: Invalid option"],
    ["a crash with a kind only", GOOD.replace("      function: strlen\n", ""), "bug.yaml:10: signature.crashes[0]: a crash signature needs a function or a title pattern"],
    ["a pattern that does not compile", GOOD.replace('"x \\\\d+"', '"x ("'), "bug.yaml:14: signature.checks[0].seen: not a valid regular expression"],
    ["a version that is no semver range", GOOD.replace('"7.2.13"', '"seven"'), "bug.yaml:5: kernels[0].versions: not a semver range"],
    ["an option results do not record", GOOD.replace("CONFIG_EROFS_FS_PAGE_CACHE_SHARE", "CONFIG_FOO"), "bug.yaml:7: kernels[0].config.CONFIG_FOO: results record only"],
    ["a bad date", GOOD.replace('"2026-12-05"', '"05.12.2026"'), "bug.yaml:19: evidence[0].date: Invalid ISO date"],
    ["no evidence", GOOD.replace(/evidence:[\s\S]*$/, "evidence: []\n"), "bug.yaml:16: evidence: Too small"],
    ["neither link nor reproducer", GOOD.replace("reproducer: pcshare run --only O3\n", ""), "bug.yaml:1: give a link or a reproducer"],
    ["a bad id", GOOD.replace("id: good-bug", "id: Good Bug"), "bug.yaml:1: id: lower-case letters, digits and single dashes"],
    ["only optional parts", GOOD.replace("function: strlen", "function: strlen\n      optional: true").replace("seen: \"x \\\\d+\"", "seen: \"x\"\n      optional: true"), "bug.yaml:9: signature: at least one part of the signature must be required"],
    ["broken YAML", GOOD.replace("cases: [O3]", "cases: [O3"), "bug.yaml:4: YAML syntax error"],
  ])("%s", (_what, text, first) => {
    const p = problems(text);
    expect(p.length).toBeGreaterThan(0);
    expect(p[0].startsWith(first), `${p[0]}\n  should start with\n${first}`).toBe(true);
  });

  const dir = mkdtemp(path.join(tmpdir(), "pcshare-known-bugs-"));
  afterAll(async () => rm(await dir, { recursive: true, force: true }));

  it("across files: duplicate ids and unknown cases, every problem listed", async () => {
    const d = await dir;
    await writeFile(path.join(d, "a.yaml"), GOOD);
    await writeFile(path.join(d, "b.yaml"), GOOD.replace("cases: [O3]", "cases: [O3, Z9]"));
    await writeFile(path.join(d, "c.yaml"), GOOD.replace("id: good-bug", "id: third").replace("kind: bug", "kind: boom"));
    const err = await loadKnownBugs(d, ALL_CASES.map((c) => c.id)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KnownBugsError);
    const shown = path.relative(process.cwd(), d);
    expect((err as KnownBugsError).problems).toEqual([
      `${path.join(shown, "b.yaml")}:1: id: "good-bug" is already registered in a.yaml: ids must be unique`,
      `${path.join(shown, "b.yaml")}:3: cases[1]: no case "Z9" in the catalog (pcshare list)`,
      expect.stringMatching(new RegExp(`^${path.join(shown, "c.yaml").replace(/[.]/g, "\\.")}:10: signature\\.crashes\\[0\\]\\.kind: Invalid option`)),
    ]);
  });

  it("a missing directory is no bugs", async () => {
    expect(await loadKnownBugs(path.join(await dir, "nope"))).toEqual([]);
  });
});
