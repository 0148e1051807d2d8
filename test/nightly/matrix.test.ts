// The kernel matrix (nightly/kernels.yaml): the project's own file is valid and turns into the
// `pcshare run` options each kernel needs; a bad entry is one "file:line: field: problem" line per
// problem; the nightly's plan (kernel x shard jobs, merge inputs) follows the file.
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMatrix, parseMatrix, runArgs, kernelEntry } from "../../harness/nightly/matrix.ts";
import { ciMatrix, mergeArgs, shardJobs, shardRunArgs } from "../../harness/nightly/plan.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "pcshare-matrix-"));
  file = path.join(dir, "kernels.yaml");
  await mkdir(path.join(dir, "bugs"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const parse = (text: string) => parseMatrix(file, text);
const problems = (text: string) => parse(text).then(() => [], (e: Error) => e.message.split("\n"));

describe("nightly/kernels.yaml", () => {
  it("is valid: prebuilt suites (one without the feature), a debug build and a tree at a ref", async () => {
    const m = await loadMatrix(path.join(ROOT, "nightly/kernels.yaml"));
    const args = Object.fromEntries(m.kernels.map((k) => [k.name, runArgs(m, k, "/src/tree").join(" ")]));
    expect(args.sid).toBe(`--kernel debian:sid --known-bugs ${path.join(ROOT, "known-bugs")}`);
    expect(args.trixie).toBe("--kernel debian:trixie --no-known-bugs");
    expect(args["sid-debug"]).toMatch(/^--fragment base share-on --debug --known-bugs /);
    expect(args["erofs-dev"]).toMatch(/^--tree \/src\/tree --fragment base share-on --no-known-bugs$/);
    expect(() => runArgs(m, kernelEntry(m, "erofs-dev"))).toThrow(/has not been checked out/);
  });
});

describe("matrix errors", () => {
  it.each([
    ["no kernels", "shards: 2\n", [/kernels\.yaml:1: kernels: /]],
    ["both debian and build", "kernels:\n  - name: a\n    debian: sid\n    build: {debug: true}\n    known-bugs: false\n", [/kernels\.yaml:2: kernels\[0\]: give exactly one of debian: .* or build:/]],
    ["neither", "kernels:\n  - name: a\n    known-bugs: false\n", [/kernels\.yaml:2: kernels\[0\]: give exactly one of/]],
    ["a bad name", "kernels:\n  - name: Sid!\n    debian: sid\n    known-bugs: false\n", [/kernels\.yaml:2: kernels\[0\]\.name: lower-case letters/]],
    ["an unknown field", "kernels:\n  - name: a\n    debian: sid\n    known-bugs: false\n    colour: red\n", [/kernels\.yaml:2: kernels\[0\]: Unrecognized key: "colour"/]],
    ["known-bugs left out", "kernels:\n  - name: a\n    debian: sid\n", [/kernels\.yaml:2: kernels\[0\]\.known-bugs: /]],
    ["a missing known-bugs dir", "kernels:\n  - name: a\n    debian: sid\n    known-bugs: nowhere\n", [/kernels\.yaml:4: kernels\[0\]\.known-bugs: nowhere: no such directory/]],
    ["an unknown fragment", "kernels:\n  - name: a\n    build:\n      fragments: [base, nosuch]\n    known-bugs: bugs\n", [/kernels\.yaml:4: kernels\[0\]\.build\.fragments\[1\]: .*nosuch/]],
    ["a tree without a ref", "kernels:\n  - name: a\n    build:\n      tree: {repo: https://example.org/linux.git}\n    known-bugs: bugs\n", [/kernels\.yaml:4: kernels\[0\]\.build\.tree\.ref: /]],
    ["zero repeats", "repeat: 0\nkernels:\n  - name: a\n    debian: sid\n    known-bugs: false\n", [/kernels\.yaml:1: repeat: /]],
    ["an unknown case id", "kernels:\n  - name: a\n    debian: sid\n    known-bugs: false\n    skip: [F1, NOPE]\n", [/kernels\.yaml:5: kernels\[0\]\.skip\[1\]: no case matches "NOPE"/]],
    ["zero shards", "shards: 0\nkernels:\n  - name: a\n    debian: sid\n    known-bugs: false\n", [/kernels\.yaml:1: shards: /]],
    ["a duplicate name", "kernels:\n  - name: a\n    debian: sid\n    known-bugs: false\n  - name: a\n    debian: trixie\n    known-bugs: false\n", [/kernels\.yaml:5: kernels\[1\]\.name: "a" is also kernels\[0\]/]],
  ])("%s: one line naming file, line and field", async (_what, text, want) => {
    const got = await problems(text);
    expect(got).toHaveLength(want.length);
    want.forEach((re, i) => expect(got[i]).toMatch(re));
  });

  it("YAML syntax: each error a line naming file and line", async () => {
    const got = await problems("kernels:\n  - name: a\n   debian: [sid\n");
    expect(got.length).toBeGreaterThan(0);
    for (const line of got) expect(line).toMatch(/kernels\.yaml:\d+: YAML syntax error: /);
  });
});

describe("the nightly's plan", () => {
  const text = "shards: 2\nselect: {skip: [M5]}\nkernels:\n  - name: a\n    debian: sid\n    known-bugs: bugs\n  - name: b\n    debian: trixie\n    known-bugs: false\n    shards: 1\n    only: [F1]\n";

  it("is kernel x shard, each shard with the kernel's options, its own --shard and directory", async () => {
    const m = await parse(text);
    expect(ciMatrix(m).include).toEqual([{ kernel: "a", shard: "1/2" }, { kernel: "a", shard: "2/2" }, { kernel: "b", shard: "1/1" }]);
    const jobs = shardJobs(m, "/out");
    expect(shardRunArgs(m, jobs[1], {})).toEqual(["run", "--kernel", "debian:sid", "--known-bugs", path.join(dir, "bugs"), "--skip", "M5", "--shard", "2/2", "--no-durations", "--out", "/out/a/shard-2"]);
    expect(shardRunArgs(m, jobs[2], { only: ["F1", "I1"] })).toContain("F1,I1");
    expect(shardRunArgs(m, jobs[2], {})).toEqual(expect.arrayContaining(["--only", "F1"]));
    expect(shardRunArgs(m, jobs[0], {})).not.toContain("--repeat");
  });

  it("repeats every case as the matrix, a kernel or the nightly's --repeat says", async () => {
    const m = await parse(text.replace("shards: 2\n", "shards: 2\nrepeat: 3\n").replace("    shards: 1\n", "    shards: 1\n    repeat: 5\n"));
    const jobs = shardJobs(m, "/out");
    const repeatOf = (args: string[]) => args[args.indexOf("--repeat") + 1];
    expect(repeatOf(shardRunArgs(m, jobs[0], {}))).toBe("3");
    expect(repeatOf(shardRunArgs(m, jobs[2], {}))).toBe("5");
    expect(repeatOf(shardRunArgs(m, jobs[2], { repeat: 7 }))).toBe("7");
  });

  it("merges the shards that reported, with the expected count", async () => {
    const m = await parse(text);
    const out = path.join(dir, "out");
    await mkdir(path.join(out, "a", "shard-2"), { recursive: true });
    await writeFile(path.join(out, "a", "shard-2", "results.json"), "{}");
    expect(await mergeArgs(m, "a", out)).toEqual(["merge", path.join(out, "a", "shard-2", "results.json"), "--shards", "2", "--out", path.join(out, "a", "merged"), "--label", "nightly"]);
  });
});
