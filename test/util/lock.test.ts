// Build locks: a lock whose holder died is taken over (dead pid, or a live pid that now names another
// process, as in a container whose next run gets the same pid), a live holder's is not; and pcshare
// stopped by SIGTERM in the middle of a build (make under its leash, as kernel/build.ts runs it)
// exits 143 with make and its jobs gone and the lock released.
import { spawn, spawnSync } from "node:child_process";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { acquireLock, lockHolder } from "../../harness/util/lock.ts";
import { processStart, selfOwner } from "../../harness/util/owner.ts";
import { descendants, stillRunning, waitFor } from "../cli/proc-tree.ts";
import { tempDir } from "../kernel/temp-dirs.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

async function staleLock(owner: object): Promise<string> {
  const lock = path.join(await tempDir("/tmp/pcshare-lock-test-"), "lock");
  await mkdir(lock);
  await writeFile(path.join(lock, "owner.json"), JSON.stringify(owner));
  return lock;
}

function within<T>(ms: number, p: Promise<T>): Promise<T | "timeout"> {
  return Promise.race([p, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ms))]);
}

describe("acquireLock", () => {
  it("takes over the lock of a process that has exited", async () => {
    const dead = spawnSync("true").pid!;
    const lock = await staleLock({ ...selfOwner(), pid: dead });
    const release = await within(5_000, acquireLock(lock));
    expect(release).not.toBe("timeout");
    await (release as () => Promise<void>)();
  });

  it("takes over a lock whose pid runs again but is another process (same pid, other start time)", async () => {
    const lock = await staleLock({ ...selfOwner(), start: selfOwner().start - 1 });
    expect(await lockHolder(lock)).toMatchObject({ alive: false });
    const release = await within(5_000, acquireLock(lock));
    expect(release).not.toBe("timeout");
    await (release as () => Promise<void>)();
  });

  it("waits while the holder runs", async () => {
    const holder = spawn("sleep", ["30"]);
    try {
      const start = await waitFor("sleep to start", 5_000, () => processStart(holder.pid!));
      const lock = await staleLock({ ...selfOwner(), pid: holder.pid, start });
      expect(await within(3_000, acquireLock(lock))).toBe("timeout");
    } finally {
      holder.kill();
    }
  });
});

const BUILD_SCRIPT = `
import { acquireLock } from "${ROOT}/harness/util/lock.ts";
import { spawnLeashed } from "${ROOT}/harness/util/leash.ts";
import { installReaper, trackLeashed } from "${ROOT}/harness/vm/reaper.ts";
installReaper();
await acquireLock(process.argv[2]);
const make = spawnLeashed("make", ["-C", process.argv[3], "-j2"], { reject: false, graceMs: 30_000, group: true });
trackLeashed(make);
process.stdout.write("building\\n");
await make.proc;
`;

describe("a build stopped by SIGTERM", () => {
  it("exits 143 with make and its jobs gone and the lock released", async () => {
    const dir = await tempDir("/tmp/pcshare-lock-test-");
    await writeFile(path.join(dir, "Makefile"), "all: a b\na b:\n\tsleep 60 && touch $@\n");
    await writeFile(path.join(dir, "build.mts"), BUILD_SCRIPT);
    const lock = path.join(dir, "ws", "lock");
    const child = spawn(process.execPath, ["--import", "tsx", path.join(dir, "build.mts"), lock, dir], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    await waitFor("two sleeping make jobs", 60_000, () => (descendants(child.pid!).filter((p) => p.comm === "sleep").length === 2 ? true : undefined));
    const procs = descendants(child.pid!);
    expect(await readdir(lock)).toEqual(["owner.json"]);
    child.kill("SIGTERM");
    expect(await exit).toBe(143);
    expect(stillRunning(procs)).toEqual([]);
    expect(await readdir(path.dirname(lock))).toEqual([]);
    expect(await readdir(dir)).not.toContain("a"); // make deleted nothing it had not finished; nothing finished
  }, 120_000);
});
