// A guest command that did not do its job never exits 0. Each command here runs as the user runs it
// (`npx tsx harness/cli.ts ...`) against a QEMU that cannot start a guest: /bin/false in place of
// QEMU, an image file that does not exist, more memory than the host can give. The real default
// kernel and the real QEMU are used wherever QEMU is meant to run. Each child gets its own TMPDIR
// so that what it leaves behind (QEMU work dirs, sockets) can be checked.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

let tmp: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "pcshare-exit-"));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function pcshare(args: string[], env: Record<string, string> = {}) {
  const r = await execa("npx", ["tsx", "harness/cli.ts", ...args], { reject: false, env: { ...env, TMPDIR: tmp }, stdin: "ignore" });
  // Nothing left behind: no QEMU still running with this child's work dir, no work dir.
  const qemu = await execa("pgrep", ["-f", tmp], { reject: false });
  expect(qemu.stdout, "a QEMU outlived its command").toBe("");
  expect((await readdir(tmp)).filter((f) => f.startsWith("pcshare-vm-"))).toEqual([]);
  return r;
}

describe("guest commands whose guest never comes up", () => {
  it("run: exits non-zero, prints the case line and writes results.json", async () => {
    const out = path.join(tmp, "out");
    const r = await pcshare(["run", "--only", "F1", "--out", out], { PCSHARE_QEMU: "/bin/false" });
    expect(r.exitCode, r.stderr).not.toBe(0);
    expect(r.stdout).toMatch(/\[1\/1\] \S+ +F1 /);
    expect(r.stdout).toMatch(/guest did not boot: (QEMU exited during boot \(exit code 1\)|\/bin\/false has no seccomp sandbox)/);
    const results = JSON.parse(await readFile(path.join(out, "results.json"), "utf8"));
    expect(results.cases.map((c: { id: string }) => c.id)).toEqual(["F1"]);
    expect(results.cases[0].outcome).not.toBe("pass");
  }, 120_000);

  it("exec: a missing image file is an error carrying QEMU's own message, every time", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await pcshare(["exec", "--image", "a=/nonexistent/pcshare.erofs", "--", "sh", "-c", "exit 7"]);
      expect(r.exitCode, `try ${i}: ${r.stderr}`).not.toBe(0);
      expect(r.exitCode).not.toBe(7);
      // Refused before QEMU starts (input validation) or by QEMU itself: either way named, never 0.
      expect(r.stderr).toMatch(/Could not open '\/nonexistent\/pcshare.erofs'|--image a=\/nonexistent\/pcshare.erofs: no such file/);
    }
  }, 120_000);

  it("exec: memory QEMU cannot allocate is an error carrying QEMU's own message", async () => {
    const r = await pcshare(["exec", "--memory", "99999999", "--", "true"]);
    expect(r.exitCode, r.stderr).not.toBe(0);
    expect(r.stderr).toMatch(/cannot set up guest memory|--memory 99999999: out of range/);
  }, 120_000);

  it("shell: QEMU's failure is the command's failure", async () => {
    const r = await pcshare(["shell", "--image", "a=/nonexistent/pcshare.erofs"]);
    expect(r.exitCode, r.stderr).not.toBe(0);
    expect(r.stderr).toMatch(/Could not open '\/nonexistent\/pcshare.erofs'|--image a=\/nonexistent\/pcshare.erofs: no such file/);
  }, 120_000);
});

describe("cases a run never executed", () => {
  it("are missing when the images cannot be built; results.json is still written and the run fails", async () => {
    // A broken spec is bad input (exit 2 before any work); to fail the build itself the run gets
    // erofs-utils that fail every call (a stand-in: shell scripts that print an error and exit 1).
    const out = path.join(tmp, "out");
    const tools = path.join(tmp, "failing-erofs-utils");
    await mkdir(tools, { recursive: true });
    for (const tool of ["mkfs.erofs", "dump.erofs", "fsck.erofs"]) {
      await writeFile(path.join(tools, tool), "#!/bin/sh\necho \"$0: fails for this test\" >&2\nexit 1\n", { mode: 0o755 });
    }
    const r = await pcshare(["run", "--only", "F1,F1b", "--out", out, "--jobs", "1", "--no-history"], { PCSHARE_EROFS_UTILS_DIR: tools });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/MISS F1 /);
    expect(r.stdout).toContain("2 missing");
    const results = JSON.parse(await readFile(path.join(out, "results.json"), "utf8"));
    expect(results.cases.map((c: { outcome: string }) => c.outcome)).toEqual(["missing", "missing"]);
    expect(results.cases[0].reason).toMatch(/^run aborted: .*failing-erofs-utils/);
    expect(await readFile(path.join(out, "results.ktap"), "utf8")).toMatch(/^not ok 1 F1_\S+ # ERROR MISSING: run aborted/m);
  }, 120_000);

  it("a broken image spec is refused before any work, naming its file and line", async () => {
    const out = path.join(tmp, "out-spec");
    const spec = path.join(tmp, "broken-spec.yaml");
    await writeFile(spec, "images:\n  - name: share-a\n    files: 42\n");
    const r = await pcshare(["run", "--only", "F1,F1b", "--out", out, "--spec", spec]);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/broken-spec\.yaml:2: images: must be a mapping/);
  }, 120_000);

  it("are missing after no usable guest three times in a row; the boot failures before are errors", async () => {
    const out = path.join(tmp, "out");
    const r = await pcshare(["run", "--only", "F1,F1b,F2,F3", "--out", out], { PCSHARE_QEMU: "/bin/false" });
    expect(r.exitCode, r.stderr).toBe(1);
    const results = JSON.parse(await readFile(path.join(out, "results.json"), "utf8"));
    expect(results.cases.map((c: { outcome: string }) => c.outcome)).toEqual(["error", "error", "missing", "missing"]);
    expect(results.cases[2].reason).toContain("no usable guest 3 times in a row (guest did not boot: ");
  }, 120_000);
});
