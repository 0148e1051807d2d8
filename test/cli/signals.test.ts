// Signals through npm and npx, on real guests (the default kernel; each is stopped while it boots):
// SIGTERM/SIGINT to the npx or npm process and SIGKILL of pcshare's node process leave no QEMU, no
// other process of the tree and no temporary directory behind (the last one via the next run's sweep).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { descendants, stillRunning, waitFor, type Proc } from "./proc-tree.ts";
import { sweepStaleTempDirs } from "../../harness/util/temp.ts";
import { ownerTag } from "../../harness/util/owner.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const BOOT_WAIT_MS = 240_000;
let tmp: string;

afterEach(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Starts `argv` in ROOT with a private TMPDIR; resolves once a QEMU runs a guest below it. */
async function startUntilQemu(command: (tmp: string) => string[]): Promise<{ child: ChildProcess; exit: Promise<{ code: number | null; signal: string | null }>; tree: () => Proc[] }> {
  tmp = await mkdtemp(path.join(os.tmpdir(), "pcshare-signals-test-"));
  const argv = command(tmp);
  const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, env: { ...process.env, TMPDIR: tmp }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (c) => (output += c));
  child.stderr!.on("data", (c) => (output += c));
  const exit = new Promise<{ code: number | null; signal: string | null }>((r) => child.on("exit", (code, signal) => r({ code, signal })));
  const tree = () => descendants(child.pid!);
  await waitFor(`QEMU below ${argv.join(" ")} (output so far: ${output.slice(-300)})`, BOOT_WAIT_MS, () =>
    tree().some((p) => p.comm.startsWith("qemu-system") && p.cmdline.includes("-kernel")) ? true : undefined,
  );
  return { child, exit, tree };
}

async function vmDirs(): Promise<string[]> {
  return (await readdir(tmp)).filter((n) => n.startsWith("pcshare-vm-"));
}

async function expectAllGone(procs: Proc[]): Promise<void> {
  await waitFor(`the process tree to go (left: ${JSON.stringify(stillRunning(procs))})`, 20_000, () => (stillRunning(procs).length === 0 ? true : undefined));
}

describe("stopping pcshare through npm", () => {
  it("SIGTERM to `npx pcshare exec` takes pcshare and QEMU down and removes the run dir", async () => {
    const { child, exit, tree } = await startUntilQemu(() => ["npx", "pcshare", "exec", "--", "sleep", "120"]);
    const procs = tree();
    expect(await vmDirs()).toHaveLength(1);
    child.kill("SIGTERM");
    const e = await exit;
    expect(e.signal).toBe("SIGTERM"); // npm re-raises the signal its shell died of
    await expectAllGone(procs);
    expect(await vmDirs()).toEqual([]);
  }, 300_000);

  it("SIGINT to `npm run suite` takes pcshare and QEMU down, exit 130, and removes the run dir", async () => {
    const { child, exit, tree } = await startUntilQemu((t) => ["npm", "run", "--silent", "suite", "--", "--only", "F1b", "--out", path.join(t, "results")]);
    const procs = tree();
    child.kill("SIGINT");
    const e = await exit;
    expect(e.code).toBe(130); // pcshare's own exit code, passed on by npm
    await expectAllGone(procs);
    expect(await vmDirs()).toEqual([]);
  }, 300_000);

  it("SIGKILL of pcshare's node process takes QEMU down; the next run removes the dead run dir", async () => {
    const { child, exit, tree } = await startUntilQemu(() => ["bin/pcshare", "exec", "--", "sleep", "120"]);
    const procs = tree();
    child.kill("SIGKILL"); // bin/pcshare execs node: this is pcshare's node process
    expect((await exit).signal).toBe("SIGKILL");
    await expectAllGone(procs);
    const dirs = await vmDirs();
    expect(dirs).toHaveLength(1); // nothing could remove it: its owner died at once
    const before = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const reused = await mkdtemp(path.join(tmp, `pcshare-vm-${process.pid}.1.${ownerTag().slice(-8)}-`)); // a live pid, another start: a dead owner
      const mine = await mkdtemp(path.join(tmp, `pcshare-vm-${ownerTag()}-`));
      const removed = await sweepStaleTempDirs("pcshare-vm-");
      expect(removed.map((d) => path.basename(d)).sort()).toEqual([path.basename(reused), dirs[0]].sort());
      expect(await vmDirs()).toEqual([path.basename(mine)]);
      await rm(mine, { recursive: true });
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    }
    expect(await vmDirs()).toEqual([]);
  }, 300_000);
});
