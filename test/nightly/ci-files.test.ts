// The CI files of the nightly. The GitHub workflow passes @action-validator/core (the schema check
// GitHub's own parser is not available offline) and has the job graph the nightly relies on. No
// offline validator exists for GitLab CI: its YAML is parsed and the keys and job graph it relies on
// are checked, including that its KERNEL x SHARD pairs are the matrix file's.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { validateWorkflow } from "@action-validator/core";
import { loadMatrix } from "../../harness/nightly/matrix.ts";
import { ciMatrix } from "../../harness/nightly/plan.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const read = (f: string) => readFile(path.join(ROOT, f), "utf8");

interface Step {
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  strategy?: { "fail-fast"?: boolean; matrix?: unknown };
  steps: Step[];
}

describe(".github/workflows/nightly.yml", () => {
  it("passes action-validator", async () => {
    expect(validateWorkflow(await read(".github/workflows/nightly.yml")).errors).toEqual([]);
  });

  it("action-validator rejects a broken workflow (the check can fail)", async () => {
    const broken = (await read(".github/workflows/nightly.yml")).replace("runs-on: ubuntu-24.04\n    # Debian", "runs_on: ubuntu-24.04\n    # Debian");
    expect(validateWorkflow(broken).errors.length).toBeGreaterThan(0);
  });

  it("runs on a schedule and by hand, kernel x shard, and merges even after a failed shard", async () => {
    const wf = parse(await read(".github/workflows/nightly.yml"));
    expect(Object.keys(wf.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    const jobs = wf.jobs as Record<string, Job>;
    expect(jobs.shard.needs).toBe("plan");
    expect(jobs.shard.strategy).toMatchObject({ "fail-fast": false, matrix: "${{ fromJSON(needs.plan.outputs.shards) }}" });
    const uses = (j: Job, a: string) => j.steps.filter((s) => s.uses?.startsWith(`${a}@`));
    expect(uses(jobs.shard, "actions/cache")[0].with?.path).toBe("~/.cache/pcshare");
    expect(String(uses(jobs.shard, "actions/cache")[0].with?.key)).toMatch(/hashFiles\('nightly\/kernels\.yaml'/);
    expect(uses(jobs.shard, "actions/upload-artifact")[0].if).toBe("always()");
    expect(jobs.shard.steps.some((s) => /nightly\.ts shard "\$\{\{ matrix\.kernel \}\}" "\$\{\{ matrix\.shard \}\}"/.test(s.run ?? ""))).toBe(true);
    expect(jobs.merge.needs).toEqual(["plan", "shard"]);
    expect(jobs.merge.if).toMatch(/^always\(\)/);
    expect(uses(jobs.merge, "actions/download-artifact")[0].with).toMatchObject({ "merge-multiple": true });
    expect(jobs.merge.steps.some((s) => /report\.md" >> "\$GITHUB_STEP_SUMMARY"/.test(s.run ?? ""))).toBe(true);
    expect(String(uses(jobs.merge, "mikepenz/action-junit-report")[0].with?.report_paths)).toMatch(/merged\/junit\.xml$/);
    // The kernel's history travels from night to night; the merge appends to it and regressions judges it.
    const history = "history/${{ matrix.kernel }}.sqlite";
    expect(uses(jobs.merge, "actions/cache/restore").map((u) => u.with?.path)).toContain(history);
    expect(uses(jobs.merge, "actions/cache/save").map((u) => u.with?.path)).toContain(history);
    const step = (re: RegExp) => jobs.merge.steps.find((s) => re.test(s.run ?? ""));
    expect(step(/nightly\.ts merge/)?.env?.PCSHARE_HISTORY).toBe(history);
    expect(step(/pcshare regressions --label nightly/)?.env?.PCSHARE_HISTORY).toBe(history);
    expect(step(/pcshare regressions --label nightly/)?.run).toMatch(/code=\$\?[\s\S]*exit \$code\s*$/); // a regression fails the job
    // The first night has no earlier durations: the directory exists anyway (--durations-from refuses a missing one).
    expect(jobs.shard.steps.some((s) => /mkdir -p durations && .*--durations-from durations/.test(s.run ?? ""))).toBe(true);
  });
});

describe(".gitlab-ci.yml", () => {
  it("has the shard and merge jobs the nightly relies on, with the matrix file's KERNEL x SHARD pairs", async () => {
    const ci = parse(await read(".gitlab-ci.yml"));
    expect(ci.stages).toEqual(["shard", "merge"]);
    expect(ci.workflow.rules.map((r: { if: string }) => r.if)).toContain('$CI_PIPELINE_SOURCE == "schedule"');
    const { shard, merge } = ci;
    const pairs = (shard.parallel.matrix as { KERNEL: string[]; SHARD: string[] }[]).flatMap((m) => m.KERNEL.flatMap((k) => m.SHARD.map((s) => `${k} ${s}`)));
    const m = await loadMatrix(path.join(ROOT, "nightly/kernels.yaml"));
    expect(pairs.sort()).toEqual(ciMatrix(m).include.map((j) => `${j.kernel} ${j.shard}`).sort());
    expect(shard.stage).toBe("shard");
    expect(shard.script.join("\n")).toMatch(/nightly\.ts shard "\$KERNEL" "\$SHARD" --out "\$OUT"/);
    expect(shard.artifacts).toMatchObject({ when: "always", paths: ["$OUT/"] });
    expect(shard.cache.paths).toEqual([".pcshare-cache/"]);
    expect(ci.variables.PCSHARE_CACHE).toBe("$CI_PROJECT_DIR/.pcshare-cache");
    expect(merge).toMatchObject({ stage: "merge", when: "always", needs: [{ job: "shard", artifacts: true }] });
    expect(merge.parallel.matrix[0].KERNEL.sort()).toEqual(m.kernels.map((k) => k.name).sort());
    expect(merge.script.join("\n")).toMatch(/nightly\.ts merge "\$KERNEL" --out "\$OUT"/);
    expect(merge.artifacts.reports.junit).toBe("$OUT/$KERNEL/merged/junit.xml");
    expect(merge.variables.PCSHARE_HISTORY).toBe("$CI_PROJECT_DIR/history/$KERNEL.sqlite");
    expect(merge.cache).toMatchObject({ paths: ["history/"], when: "always" });
    expect(merge.script.join("\n")).toMatch(/merge "\$KERNEL" --out "\$OUT" \|\| merged=\$\?\n.*pcshare regressions --label nightly.*\nexit "\$\{merged:-0\}"/);
  });
});
