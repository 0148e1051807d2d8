// Ctrl-C during `pcshare run` on the real default kernel: the run stops, the case in progress and
// those after it are reported as missing, results.json is written, the exit status is 130 and no
// QEMU or work dir is left behind. The same for SIGTERM during a --jobs 2 run (exit 143): the cases
// in progress on either guest are missing, the finished ones keep their verdicts, in selected order.
// And SIGTERM while the run makes its guest snapshot: no QEMU, no half-made snapshot.
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
      const child = execa("node_modules/.bin/tsx", ["harness/cli.ts", "run", "--jobs", "1", "--only", "F1b,F2,F1", "--out", out], { reject: false, env: { TMPDIR: tmp } });
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

  it("with --jobs 2, SIGTERM kills both guests and marks every unfinished case missing", async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), "pcshare-int-"));
    try {
      const out = path.join(tmp, "out");
      const ids = ["F1", "F1b", "F2", "F3", "F4"]; // catalog order, as the selection runs and reports them
      const child = execa("node_modules/.bin/tsx", ["harness/cli.ts", "run", "--jobs", "2", "--only", ids.join(","), "--out", out], { reject: false, env: { TMPDIR: tmp } });
      let seen = "";
      let sent = false;
      child.stdout!.on("data", (d: Buffer) => {
        seen += d.toString();
        if (!sent && /\[1\/5\]/.test(seen)) sent = child.kill("SIGTERM"); // the other guest is busy with a case then
      });
      const r = await child;
      expect(r.exitCode, r.stderr).toBe(143);
      expect(r.stdout).not.toMatch(/guest\(s\) at once/); // --jobs given: no default to explain
      const results = JSON.parse(await readFile(path.join(out, "results.json"), "utf8"));
      const cases = results.cases as { id: string; outcome: string; reason?: string }[];
      expect(results.jobs).toBe(2);
      expect(cases.map((c) => c.id)).toEqual(ids);
      expect(cases.filter((c) => c.outcome === "pass").length).toBeGreaterThanOrEqual(1);
      const missing = cases.filter((c) => c.outcome !== "pass");
      expect(missing.length).toBeGreaterThanOrEqual(3);
      for (const c of missing) expect(`${c.id} ${c.outcome} ${c.reason}`).toBe(`${c.id} missing run interrupted (SIGTERM)`);
      expect((await execa("pgrep", ["-f", tmp], { reject: false })).stdout).toBe("");
      expect((await readdir(tmp)).filter((f) => f.startsWith("pcshare-vm-"))).toEqual([]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }, 400_000);

  it("SIGTERM while the guest snapshot is being made stops it: no QEMU, no half-made cache entry", async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), "pcshare-int-"));
    const snapshots = path.join(os.homedir(), ".cache", "pcshare", "snapshots");
    try {
      const out = path.join(tmp, "out");
      // A guest size of its own (part of the snapshot key): the snapshot is surely made in this run.
      const memory = String(320 + Math.floor(Math.random() * 200));
      // No forced kill after 5 s: on a loaded host writing the results may take longer.
      const child = execa("node_modules/.bin/tsx", ["harness/cli.ts", "run", "--restore", "auto", "--memory", memory, "--only", "F1", "--out", out], {
        reject: false,
        env: { TMPDIR: tmp },
        forceKillAfterDelay: false,
      });
      let seen = "";
      let sent = false;
      child.stderr!.on("data", (d: Buffer) => {
        seen += d.toString();
        // A moment after the message: the template boots for seconds, and tsx relays a signal only once its child runs the CLI's handlers.
        if (!sent && /making guest snapshot/.test(seen)) {
          sent = true;
          setTimeout(() => child.kill("SIGTERM"), 1_000);
        }
      });
      const r = await child;
      expect(sent, r.stdout + r.stderr).toBe(true);
      expect(r.exitCode, `${r.signal} ${r.stdout} ${r.stderr}`).toBe(143);
      expect(r.stderr).toMatch(/making guest snapshot guest-[0-9a-f]+: failed after/);
      const results = JSON.parse(await readFile(path.join(out, "results.json"), "utf8"));
      expect(results.cases.map((c: { outcome: string }) => c.outcome)).toEqual(["missing"]);
      expect((await execa("pgrep", ["-f", tmp], { reject: false })).stdout).toBe("");
      expect((await readdir(tmp)).filter((f) => f.startsWith("pcshare-vm-"))).toEqual([]);
      const key = /making guest snapshot (guest-[0-9a-f]+)/.exec(r.stderr)![1];
      expect((await readdir(snapshots)).filter((f) => f.startsWith(`.tmp-${key}-`) || f === key)).toEqual([]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }, 400_000);
});
