// What a reproducer bundle is made of when the target is an entry of an explore run's results.json
// (no guest): the program's generated images join the specs, and the program (program.json) states
// what a correct kernel does, with its seed, kernel, signature and operations, as a found case does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fromResultsFile, keepOwnImages, parseTarget, ReproError } from "../../harness/repro/source.ts";
import { DEFAULT_SPECS } from "../../harness/images/commands.ts";
import type { CaseResult, RunResult } from "../../harness/report/model.ts";

let dir: string;
const results = () => path.join(dir, "results.json");

function entry(id: string, outcome: CaseResult["outcome"], findings: string[]): CaseResult {
  const steps = `${id}/cases/${id}-explore-program/steps.json`;
  return { id, name: "explore-program", groups: ["E"], tags: [], outcome, durationMs: 1, checks: [], measurements: [], crashes: [], findings, artifacts: { steps } } as CaseResult;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "pcshare-repro-source-"));
  const run = {
    schema: "pcshare-results/1",
    startedAt: "2026-12-05T00:00:00.000Z",
    finishedAt: "2026-12-05T00:10:00.000Z",
    host: { hostname: "h", accel: "tcg", cpus: 2, qemu: "q", node: "v20" },
    kernel: { source: "debian:sid", release: "7.2.13+deb14-amd64", version: "7.2.13-1", hashes: {}, config: {} },
    tools: {},
    cases: [entry("P1", "pass", []), entry("P2", "fail", ["signature: warning in iomap_readahead"]), entry("P3", "fail", ["signature: bug in strlen"])],
  } as unknown as RunResult;
  await writeFile(results(), JSON.stringify(run));
  const program = {
    seed: 2483,
    images: ["share-a", "ex-0123456789ab"],
    ops: [
      { op: "mount", image: 1, backing: "bdev", opts: { share: true, domain: "d2" }, api: "fsmount" },
      { op: "read", at: { slot: 0, file: 0 }, method: "read", offset: 0, length: 0 },
    ],
  };
  for (const id of ["P2", "P3"]) {
    await mkdir(path.join(dir, id, "cases", `${id}-explore-program`), { recursive: true });
    await writeFile(path.join(dir, id, "cases", `${id}-explore-program`, "steps.json"), JSON.stringify({ schema: "pcshare-steps/1", steps: [] }));
  }
  await writeFile(path.join(dir, "P2", "program.json"), JSON.stringify(program));
  await writeFile(path.join(dir, "P2", "images.yaml"), "images: {}\n");
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("an explore run's results.json entry as a repro target", () => {
  it("is a results target when named FILE#P2", () => {
    expect(parseTarget(`${results()}#P2`, undefined, [], dir)).toEqual({ kind: "results", file: results(), caseId: "P2" });
  });

  it("takes the program's images and states what the program expects, with its seed, kernel, signature and operations", async () => {
    const src = await fromResultsFile(results(), "P2", []);
    expect(src.result.id).toBe("P2");
    expect(src.specs).toEqual([...DEFAULT_SPECS, path.join(dir, "P2", "images.yaml")]);
    expect(src.def?.id).toBe("P2");
    expect(src.def?.name).toBe("explore-program");
    expect(src.def?.images).toEqual(["share-a", "ex-0123456789ab"]);
    expect(src.def?.expect).toMatch(/^the 2 operations of this program behave as the model of the documented rules predicts, with no kernel report/);
    expect(src.def?.expect).toContain("found with seed 2483 on 7.2.13+deb14-amd64 (debian:sid): warning in iomap_readahead");
    expect(src.def?.expect).toMatch(/steps: mount image#1 \(bdev, fsopen\/fsmount\) -o "inode_share,domain_id=d2"; read/);
  });

  it("has no program statement when the entry has no program.json (another run's entry, or a damaged one)", async () => {
    const src = await fromResultsFile(results(), "P3", []);
    expect(src.def).toBeUndefined();
    expect(src.specs).toEqual(DEFAULT_SPECS);
  });

  it("asks which entry when more than one did not pass", async () => {
    await expect(fromResultsFile(results(), undefined, [])).rejects.toThrow(ReproError);
    await expect(fromResultsFile(results(), undefined, [])).rejects.toThrow(/name the case with --case ID .*cases that did not pass: P2, P3/);
  });

  it("refuses a program.json that is not a program, naming the file", async () => {
    await writeFile(path.join(dir, "P3", "program.json"), JSON.stringify({ seed: 1 }));
    await expect(fromResultsFile(results(), "P3", [])).rejects.toThrow(`${path.join(dir, "P3", "program.json")}: not an explore program (no images or ops)`);
    await rm(path.join(dir, "P3", "program.json"));
  });
});

describe("a found case's run, bundled again from its results.json entry", () => {
  it("keeps the found case's images beside its result, so the entry finds them without the found case's directory", async () => {
    const found = path.join(dir, "elsewhere", "E1.yaml");
    await mkdir(path.dirname(found), { recursive: true });
    await writeFile(found, "images:\n  e1-x0:\n    files: []\n");
    const runDir = path.join(dir, "run");
    await mkdir(path.join(runDir, "E1", "cases", "E1-explore-program"), { recursive: true });
    await writeFile(path.join(runDir, "E1", "cases", "E1-explore-program", "steps.json"), JSON.stringify({ schema: "pcshare-steps/1", steps: [] }));
    const run = JSON.parse(await readFile(results(), "utf8")) as RunResult;
    await writeFile(path.join(runDir, "results.json"), JSON.stringify({ ...run, cases: [entry("E1", "fail", [])] }));

    await keepOwnImages(runDir, "E1", [...DEFAULT_SPECS, found]);
    expect(await readFile(path.join(runDir, "E1", "images.yaml"), "utf8")).toBe(await readFile(found, "utf8"));
    const src = await fromResultsFile(path.join(runDir, "results.json"), "E1", []);
    expect(src.specs).toEqual([...DEFAULT_SPECS, path.join(runDir, "E1", "images.yaml")]);
  });

  it("keeps nothing for a case whose images are all in the default specs", async () => {
    await keepOwnImages(path.join(dir, "run2"), "O3", DEFAULT_SPECS);
    await expect(readFile(path.join(dir, "run2", "O3", "images.yaml"), "utf8")).rejects.toThrow(/ENOENT/);
  });
});
