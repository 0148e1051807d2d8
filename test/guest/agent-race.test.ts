// remount_race on the real default kernel: with plain mounts (no sharing, no kernel bug in play) the
// loop cycles, reads right bytes and restores the mount state; a reader that gets other bytes, a
// kernel report and a wrong reference each stop it and say so. These are the checks L1-L3 and V2
// rely on, so each is shown able to fire.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveKernel } from "../../harness/kernel/resolve.ts";
import { bootGuest } from "../../harness/vm/launch.ts";
import type { Vm } from "../../harness/vm/vm.ts";
import { buildImages } from "../../harness/images/build.ts";
import { DEFAULT_SPECS } from "../../harness/images/commands.ts";
import type { RemountRaceArgs } from "../../harness/guest/protocol.ts";

let vm: Vm;
let args: RemountRaceArgs;
let otherB: string;

beforeAll(async () => {
  const kernel = await resolveKernel();
  const built = await buildImages(DEFAULT_SPECS, { names: ["corpus-a", "corpus-b"] });
  vm = await bootGuest(kernel, {
    drives: ["corpus-a", "corpus-b"].map((n) => ({ name: n, path: built.get(n)!.imagePath, readOnly: true })),
  });
  const filesB = built.get("corpus-b")!.manifest.files;
  // The largest file of A with a twin in B (1 MiB), as the cases pick it.
  const large = built
    .get("corpus-a")!
    .manifest.files.filter((f) => f.type === "file" && f.size > 0 && filesB.some((g) => g.sha256 === f.sha256))
    .sort((x, y) => y.size - x.size)[0];
  const twin = filesB.find((f) => f.sha256 === large.sha256)!;
  otherB = `/mnt/race-b${filesB.find((f) => f.type === "file" && f.size > 0 && f.sha256 !== large.sha256)!.path}`;
  await vm.agent.mount({ source: "/dev/disk/pcshare/corpus-b", target: "/mnt/race-b", fstype: "erofs", flags: ["ro"] });
  await vm.agent.exec(["mkdir", "-p", "/mnt/race-a"], { timeoutMs: 10_000 }); // remount_race mounts on existing directories
  args = {
    mounts: [{ source: "/dev/disk/pcshare/corpus-a", target: "/mnt/race-a" }],
    mounted: false,
    read_paths: [`/mnt/race-b${twin.path}`],
    xxh64: large.xxh64!,
    lookup: large.path,
    readers: 2,
    budget_ms: 2_000,
  };
}, 600_000);

afterAll(async () => {
  await vm?.shutdown();
});

const mounted = async (dir: string) => (await vm.agent.readFile("/proc/mounts")).data.toString().includes(` ${dir} `);

describe("remount_race", () => {
  it("cycles plain mounts under readers for its budget, with right bytes, and leaves A unmounted", async () => {
    const r = await vm.agent.remountRace(args);
    expect(r).toMatchObject({ wrong: 0, wrong_at: null, error: null, report: null, worker: "exited" });
    expect(r.cycles).toBeGreaterThan(2);
    expect(r.reads).toBeGreaterThan(2);
    expect(r.elapsed_ms).toBeGreaterThanOrEqual(2_000);
    expect(await mounted("/mnt/race-a")).toBe(false);
  });

  it("stops at the first read whose bytes differ from the reference and names it", async () => {
    const r = await vm.agent.remountRace({ ...args, read_paths: [...args.read_paths, otherB], budget_ms: 20_000 });
    expect(r.wrong).toBeGreaterThan(0);
    expect(r.wrong_at).toContain(otherB);
    expect(r.elapsed_ms).toBeLessThan(10_000);
    expect(await mounted("/mnt/race-a")).toBe(false);
  });

  it("stops at the first kernel report and returns its line", async () => {
    await vm.agent.spawn(["/bin/sh", "-c", "sleep 1; echo '<4>WARNING: remount_race self-test' > /dev/kmsg"], { maxMs: 10_000 });
    const r = await vm.agent.remountRace({ ...args, budget_ms: 20_000 });
    expect(r.report).toBe("WARNING: remount_race self-test");
    expect(r.worker).toBe("exited");
    expect(r.elapsed_ms).toBeLessThan(10_000);
  });

  it("refuses to race when the reference does not read as the expected XXH64", async () => {
    await expect(vm.agent.remountRace({ ...args, xxh64: "0".repeat(16) })).rejects.toThrow(/before the race, not 0{16}/);
  });
});
