// Ctrl-C during `pcshare run` on the real default kernel: the run stops, the case in progress and
// those after it are reported as missing, results.json is written, the exit status is 130 and no
// QEMU or work dir is left behind.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

describe("pcshare run interrupted", () => {
  it("reports the unfinished cases as missing and still writes its results", async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), "pcshare-int-"));
    try {
      const out = path.join(tmp, "out");
      // tsx itself, not npx: tsx relays the signal to the node process running the CLI.
      const child = execa("node_modules/.bin/tsx", ["harness/cli.ts", "run", "--only", "F1b,F2,F1", "--out", out], { reject: false, env: { TMPDIR: tmp } });
      let seen = "";
      let sent = false;
      child.stdout!.on("data", (d: Buffer) => {
        seen += d.toString();
        if (!sent && /\[1\/3\]/.test(seen)) sent = child.kill("SIGINT"); // once (a second one quits at once), during the second case
      });
      const r = await child;
      expect(r.exitCode, r.stderr).toBe(130);
      expect(r.stderr).toContain("SIGINT: stopping the run");
      const results = JSON.parse(await readFile(path.join(out, "results.json"), "utf8"));
      const outcomes = results.cases.map((c: { outcome: string }) => c.outcome);
      expect(outcomes[0]).toBe("pass");
      expect(outcomes.slice(1)).toEqual(["missing", "missing"]);
      expect(results.cases[1].reason).toBe("run interrupted (SIGINT)");
      expect((await execa("pgrep", ["-f", tmp], { reject: false })).stdout).toBe("");
      expect((await readdir(tmp)).filter((f) => f.startsWith("pcshare-vm-"))).toEqual([]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }, 400_000);
});
