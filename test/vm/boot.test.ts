// The spine, end to end on the real default kernel (Debian sid's prebuilt kernel under QEMU):
// boot, agent round trips, a panic and a timeout turned into results, and nothing left behind.
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveKernel } from "../../harness/kernel/resolve.ts";
import type { Kernel } from "../../harness/kernel/kernel.ts";
import { bootGuest } from "../../harness/vm/launch.ts";
import { GuestExited, StepTimeout } from "../../harness/vm/errors.ts";
import { liveProcesses } from "../../harness/vm/reaper.ts";
import { buildImages } from "../../harness/images/build.ts";
import type { Vm } from "../../harness/vm/vm.ts";

let kernel: Kernel;
let vm: Vm;
let imagePath: string;

function qemuChildren(): string[] {
  try {
    return execFileSync("pgrep", ["-P", String(process.pid), "-f", "qemu-system"], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

beforeAll(async () => {
  kernel = await resolveKernel();
  const built = await buildImages(["images/basic.yaml"], { names: ["share-a"] });
  imagePath = built.get("share-a")!.imagePath;
  vm = await bootGuest(kernel, { drives: [{ name: "share-a", path: imagePath, readOnly: true }] });
}, 600_000);

afterAll(async () => {
  await vm?.shutdown();
});

describe("a guest on the default kernel", () => {
  it("runs the recorded kernel release", async () => {
    const r = await vm.agent.exec(["uname", "-r"], { timeoutMs: 10_000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(kernel.info.release);
    expect(kernel.info.hashes.vmlinuz).toMatch(/^[0-9a-f]{64}$/);
  });

  it("has erofs loaded and mounts an image by its drive name", async () => {
    const fs = await vm.agent.readFile("/proc/filesystems");
    expect(fs.data.toString()).toMatch(/\berofs\b/);
    await vm.agent.mount({ source: "/dev/disk/pcshare/share-a", target: "/mnt/a", fstype: "erofs", flags: ["ro"] });
    const motd = await vm.agent.exec(["ls", "/mnt/a/data"], { timeoutMs: 10_000 });
    expect(motd.stdout.split("\n")).toContain("big.bin");
  });

  it("round-trips the native probes", async () => {
    const h = await vm.agent.readHash("/mnt/a/data/big.bin");
    expect(h.size).toBe(8 << 20);
    const [f1, f2] = await vm.agent.pageFrames(["/mnt/a/data/big.bin", "/mnt/a/big-link"]);
    expect(f1.pages).toBe(2048);
    expect(f1.present).toBe(2048);
    expect(f2.pfns).toEqual(f1.pfns); // a hardlink is the same inode: same frames
    const res = await vm.agent.mincore("/mnt/a/data/big.bin");
    expect(res.resident).toBe(2048);
    await vm.agent.fadvise("/mnt/a/data/big.bin", "dontneed");
    expect((await vm.agent.mincore("/mnt/a/data/big.bin")).resident).toBeLessThan(2048);
    const mem = await vm.agent.meminfo();
    expect(mem.MemTotal).toBeGreaterThan(500_000);
  });

  it("reports a command that outlives its timeout as timed out", async () => {
    const r = await vm.step("sleep", 20_000, (a) => a.exec(["sleep", "30"], { timeoutMs: 1_000 }));
    expect(r.timedOut).toBe(true);
    expect(r.durationMs).toBeLessThan(10_000);
    // The agent is still usable.
    expect((await vm.agent.exec(["true"], { timeoutMs: 5_000 })).exitCode).toBe(0);
  });

  it("turns a step that hangs the channel into StepTimeout with the console tail", async () => {
    const err = await vm
      .step("stall", 1_500, (a) => a.exec(["sleep", "5"], { timeoutMs: 10_000 }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepTimeout);
    expect((err as StepTimeout).message).toContain('step "stall" did not finish within 1.5 s');
  });
});

describe("a guest that panics", () => {
  it("is reported as a panic with its excerpt, and the harness goes on with a fresh guest", async () => {
    const crashing = await bootGuest(kernel);
    const err = await crashing
      .step("sysrq-crash", 60_000, (a) => a.exec(["sh", "-c", "echo c > /proc/sysrq-trigger"], { timeoutMs: 30_000 }))
      .catch((e: unknown) => e);
    await crashing.kill();
    expect(err).toBeInstanceOf(GuestExited);
    const crashes = (err as GuestExited).crashes;
    expect(crashes[0]?.kind).toBe("panic");
    expect(crashes[0]?.title).toBe("Kernel panic - not syncing: sysrq triggered crash");
    expect(crashes[0]?.excerpt).toContain("sysrq");
    const next = await bootGuest(kernel);
    expect((await next.agent.exec(["true"], { timeoutMs: 5_000 })).exitCode).toBe(0);
    await next.shutdown();
  }, 300_000);
});

describe("teardown", () => {
  it("leaves no QEMU process behind", async () => {
    await vm.shutdown();
    expect(liveProcesses()).toBe(0);
    expect(qemuChildren()).toEqual([]);
  });
});
