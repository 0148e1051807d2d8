// The leash (harness/util/leash.ts): a child killed right after it was spawned dies, even though
// the leash had not installed its signal handlers yet (Node's default for SIGUSR1 is to start its
// inspector, which left the child running); file descriptors passed on reach the child.
import { openSync, closeSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { spawnLeashed } from "../../harness/util/leash.ts";

describe("spawnLeashed", () => {
  it("kill() at once after spawning still kills the child", async () => {
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const l = spawnLeashed("sleep", ["30"], { stdout: "ignore", stderr: "ignore" });
      l.kill();
      const exit = await l.childExit;
      expect(exit.signal ?? exit.code).toBe("SIGKILL");
      expect(Date.now() - t0).toBeLessThan(10_000);
    }
  });

  it("stop() at once after spawning stops the child", async () => {
    const l = spawnLeashed("sleep", ["30"], { stdout: "ignore", stderr: "ignore" });
    l.stop();
    const exit = await l.childExit;
    expect(exit.signal).toBe("SIGTERM");
  });

  it("passes open files to the child as fds 4, 5, ...", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "pcshare-leash-"));
    try {
      writeFileSync(path.join(dir, "a"), "first\n");
      writeFileSync(path.join(dir, "b"), "second\n");
      const fds = [openSync(path.join(dir, "a"), "r"), openSync(path.join(dir, "b"), "r")];
      const l = spawnLeashed("sh", ["-c", "cat <&4; cat <&5"], { passFds: fds, buffer: true });
      fds.forEach((fd) => closeSync(fd));
      const r = await l.proc;
      expect(String(r.stdout)).toBe("first\nsecond");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
