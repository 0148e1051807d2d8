// Positive and negative controls for the sharing measurement on the real default kernel: the same
// three-signal probe must say "shared" for one domain and "separate" for plain mounts and for two
// domains; and the runner must classify F1 and its control as passing with equal frames.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resolveKernel } from "../../harness/kernel/resolve.ts";
import type { Kernel } from "../../harness/kernel/kernel.ts";
import { bootGuest } from "../../harness/vm/launch.ts";
import type { Vm } from "../../harness/vm/vm.ts";
import { buildImages } from "../../harness/images/build.ts";
import { probeSharing } from "../../harness/measure/sharing.ts";
import { runSuite } from "../../harness/runner/run.ts";
import { F1, F1b } from "../../cases/functional.ts";
import { DEFAULT_SPECS } from "../../harness/images/commands.ts";

let kernel: Kernel;
let vm: Vm;
const A = "/data/big.bin";
const B = "/srv/mirror/copy-of-big.bin";

async function mountPair(name: string, dataA: string, dataB: string): Promise<[string, string]> {
  const fa = `/run/${name}-a.erofs`;
  const fb = `/run/${name}-b.erofs`;
  // File-backed mounts: each is its own superblock, so every pair below starts from fresh mounts.
  await vm.agent.exec(["sh", "-c", `mkdir -p /run && (grep -q '^ramfs /run/ram ' /proc/mounts || (mkdir -p /run/ram && mount -t ramfs ramfs /run/ram))`], { timeoutMs: 10_000 });
  const ram = (f: string) => f.replace("/run/", "/run/ram/");
  await vm.agent.exec(["sh", "-c", `cp /dev/disk/pcshare/share-a ${ram(fa)} && cp /dev/disk/pcshare/share-b ${ram(fb)}`], { timeoutMs: 30_000 });
  await vm.agent.mount({ source: ram(fa), target: `/mnt/${name}-a`, fstype: "erofs", flags: ["ro"], data: dataA });
  await vm.agent.mount({ source: ram(fb), target: `/mnt/${name}-b`, fstype: "erofs", flags: ["ro"], data: dataB });
  return [`/mnt/${name}-a${A}`, `/mnt/${name}-b${B}`];
}

beforeAll(async () => {
  kernel = await resolveKernel();
  const built = await buildImages(DEFAULT_SPECS, { names: ["share-a", "share-b"] });
  vm = await bootGuest(kernel, {
    drives: ["share-a", "share-b"].map((n) => ({ name: n, path: built.get(n)!.imagePath, readOnly: true })),
  });
}, 600_000);

afterAll(async () => {
  await vm?.shutdown();
});

describe("the three-signal sharing probe", () => {
  it("says shared for one domain, with equal frames and no second copy in Cached", async () => {
    const [a, b] = await mountPair("same", "inode_share,domain_id=d1", "inode_share,domain_id=d1");
    const p = await probeSharing(vm.agent, a, b);
    expect(p.verdict, p.summary).toBe("shared");
    expect(p.equalFrames).toBe(2048);
    expect(p.residentBAfterA).toBe(2048);
    expect(p.cachedGrowthB).toBeLessThan(2 << 20);
    expect(p.xxh64A).toBe(p.xxh64B);
  });

  it("says separate for plain mounts", async () => {
    const [a, b] = await mountPair("plain", "", "");
    const p = await probeSharing(vm.agent, a, b);
    expect(p.verdict, p.summary).toBe("separate");
    expect(p.equalFrames).toBe(0);
    expect(p.cachedGrowthB).toBeGreaterThan(6 << 20);
  });

  it("says separate for two domains", async () => {
    const [a, b] = await mountPair("twodom", "inode_share,domain_id=d1", "inode_share,domain_id=d2");
    const p = await probeSharing(vm.agent, a, b);
    expect(p.verdict, p.summary).toBe("separate");
    expect(p.residentBAfterA).toBe(0);
  });
});

describe("the runner on F1 and its negative control", () => {
  it("passes both, records equal frames for F1 and none for the control, and writes every format", async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), "pcshare-controls-"));
    try {
      const run = await runSuite({ kernel, cases: [F1, F1b], outDir: out, specs: DEFAULT_SPECS });
      const [f1, f1b] = run.cases;
      expect(f1.outcome, f1.reason).toBe("pass");
      expect(f1b.outcome, f1b.reason).toBe("pass");
      expect(f1.measurements.find((m) => m.name === "equal_frames")).toMatchObject({ value: 2048, unit: "pages" });
      expect(f1b.measurements.find((m) => m.name === "equal_frames")).toMatchObject({ value: 0, unit: "pages" });
      expect(run.kernel.release).toBe(kernel.info.release);
      const { writeReports } = await import("../../harness/report/index.ts");
      const files = await writeReports(run, out);
      expect(await readFile(files.ktap!, "utf8")).toMatch(/^KTAP version 1\n1\.\.2\n/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 300_000);
});
