// Snapshot restore on the default kernel (real guests, no mocks): a restored guest answers like a
// booted one but with its own clock and random numbers; the smoke cases give the same verdicts
// booted and restored; a damaged snapshot is found and made anew; a snapshot that will not restore
// makes the guest boot instead, says why, and is discarded. The tests use small guests (256 MiB), so
// their snapshots are cheap to make and never a user's, with a marker of their own on the kernel
// command line where a fresh snapshot is needed; they remove the snapshots they made.
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile, truncate } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveKernel } from "../../harness/kernel/resolve.ts";
import type { Kernel } from "../../harness/kernel/kernel.ts";
import { bootGuest, type GuestOptions } from "../../harness/vm/launch.ts";
import { runSuite } from "../../harness/runner/run.ts";
import { ALL_CASES } from "../../cases/index.ts";
import { DEFAULT_SPECS } from "../../harness/images/commands.ts";
import { recordEntry } from "../../harness/util/cache.ts";
import type { Vm } from "../../harness/vm/vm.ts";

let kernel: Kernel;
let tmp: string;
const marker = `pcshare.snapshot-test=${randomBytes(6).toString("hex")}`;
const small: GuestOptions = { memoryMiB: 256, extraCmdline: [marker], restore: "auto" };
const snapshotDirs = new Set<string>();

beforeAll(async () => {
  kernel = await resolveKernel({});
  tmp = await mkdtemp(path.join(os.tmpdir(), "pcshare-snapshot-test-"));
}, 600_000);
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
  for (const d of snapshotDirs) await rm(d, { recursive: true, force: true });
});

async function guest(opts: GuestOptions = small): Promise<Vm> {
  const vm = await bootGuest(kernel, opts);
  const m = /mem-path=([^,]+)\/ram,/.exec(vm.argv.join(" "));
  if (m) snapshotDirs.add(m[1]);
  return vm;
}

/** The snapshot directory a restored guest's RAM comes from. */
function snapshotOf(vm: Vm): string {
  const m = /mem-path=([^,]+)\/ram,/.exec(vm.argv.join(" "));
  if (!m) throw new Error("the guest was not restored");
  return m[1];
}

async function qemuCommands(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return Promise.all(names.filter((n) => n.startsWith("boot-")).map((n) => readFile(path.join(dir, n, "qemu.cmd"), "utf8").catch(() => "")));
}

async function sh(vm: Vm, script: string): Promise<string> {
  const r = await vm.agent.exec(["/bin/sh", "-c", script], { timeoutMs: 20_000 });
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe("a restored guest", () => {
  it("starts from the snapshot made by the first guest, with the host's clock and its own random numbers", async () => {
    const first = await guest();
    expect(first.timing.start).toBe("restore");
    const a = { rand: await sh(first, "head -c 16 /dev/urandom | od -An -tx1"), date: Number(await sh(first, "date +%s")) };
    await first.shutdown();
    const second = await guest();
    try {
      expect(second.timing.start).toBe("restore");
      expect(second.timing.restoreProblem).toBeUndefined();
      const rand = await sh(second, "head -c 16 /dev/urandom | od -An -tx1");
      expect(rand).not.toBe(a.rand);
      expect(Math.abs(Number(await sh(second, "date +%s")) - Date.now() / 1000)).toBeLessThan(10);
      expect(Math.abs(a.date - Date.now() / 1000)).toBeLessThan(60);
      // The same kernel, its agent, and the page cache of a guest that has mounted nothing.
      expect((await second.agent.hello()).kernel_release).toBe(kernel.info.release);
      expect(await sh(second, "grep -c erofs /proc/mounts || true")).toBe("0");
      expect(second.console.all()).toMatch(/\[pcshare\] guest restored from snapshot guest-[0-9a-f]{32}/);
    } finally {
      await second.shutdown();
    }
  }, 300_000);

  it("runs the smoke cases with the verdicts of booted guests", async () => {
    const smoke = ALL_CASES.filter((c) => c.tags?.includes("smoke"));
    expect(smoke.length).toBeGreaterThan(0);
    const verdicts: Record<string, string[]> = {};
    const starts: Record<string, string[]> = {};
    for (const restore of ["off", "auto", "auto"] as const) {
      const out = path.join(tmp, `smoke-${restore}-${Object.keys(verdicts).length}`);
      const run = await runSuite({ kernel, cases: smoke, outDir: out, specs: DEFAULT_SPECS, restore, spareGuest: false, memoryMiB: 256 });
      verdicts[out] = run.cases.map((c) => `${c.id} ${c.outcome}`);
      for (const cmd of await qemuCommands(out)) {
        const m = /mem-path=([^,]+)\/ram,/.exec(cmd);
        if (m) snapshotDirs.add(m[1]);
      }
      starts[out] = (run.boots ?? []).map((b) => b.start ?? "boot");
    }
    const [booted, ...restored] = Object.keys(verdicts);
    expect(starts[booted].every((s) => s === "boot")).toBe(true);
    // The second auto run found the snapshot the first one made.
    expect(starts[restored[1]].every((s) => s === "restore"), JSON.stringify(starts)).toBe(true);
    for (const r of restored) expect(verdicts[r]).toEqual(verdicts[booted]);
    expect(verdicts[booted].every((v) => v.endsWith(" pass")), JSON.stringify(verdicts)).toBe(true);
  }, 600_000);
});

describe("a damaged snapshot", () => {
  const opts: GuestOptions = { ...small, extraCmdline: [`${marker}-damaged`] };

  it("is found before use and made anew (changed device state, truncated RAM)", async () => {
    const vm = await guest(opts);
    const dir = snapshotOf(vm);
    await vm.shutdown();
    const state = await readFile(path.join(dir, "state"));
    state[state.length >> 1] ^= 0xff;
    await writeFile(path.join(dir, "state"), state);
    const again = await guest(opts);
    try {
      expect(again.timing.start).toBe("restore");
      expect((await readFile(path.join(dir, "state"))).equals(state)).toBe(false);
    } finally {
      await again.shutdown();
    }
    await truncate(path.join(dir, "ram"), 4096);
    const third = await guest(opts);
    try {
      expect(third.timing.start).toBe("restore");
    } finally {
      await third.shutdown();
    }
  }, 300_000);

  it("that does not restore makes the guest boot instead, says why, and is discarded", async () => {
    const vm = await guest(opts);
    const dir = snapshotOf(vm);
    await vm.shutdown();
    // A state file that matches its record but is no migration stream: only restoring can tell.
    await writeFile(path.join(dir, "state"), Buffer.from("not a migration stream\n"));
    await recordEntry(dir, "hash");
    const booted = await guest(opts);
    try {
      expect(booted.timing.start).toBe("boot");
      expect(booted.timing.restoreProblem).toMatch(/^restoring the snapshot failed: /);
      expect(existsSync(dir)).toBe(false);
    } finally {
      await booted.shutdown();
    }
  }, 300_000);
});
