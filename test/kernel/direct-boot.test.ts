// Direct boot on real kernels: the default kernel (Debian's 7.2.13, CONFIG_PVH=y) runs a case booted
// through its PVH entry and booted from its bzImage; a kernel given as a bzImage alone falls back to
// the bzImage and still boots; a kernel pcshare builds boots through its build's vmlinux; an ELF
// without the PVH note is refused; a damaged cached vmlinux is found and extracted again.
import { mkdtemp, readdir, readFile, rm, stat, truncate, open } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { resolveKernel } from "../../harness/kernel/resolve.ts";
import { givenKernel } from "../../harness/kernel/given.ts";
import { chooseBoot } from "../../harness/kernel/boot.ts";
import { extractedPvhVmlinux, pvhEntry, XEN_ELFNOTE_PHYS32_ENTRY } from "../../harness/kernel/pvh.ts";
import { bootImage, type Kernel } from "../../harness/kernel/kernel.ts";
import { bootGuest } from "../../harness/vm/launch.ts";

let tmp: string;
let kernel: Kernel;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "pcshare-directboot-"));
  kernel = await resolveKernel({ boot: "auto" });
}, 600_000);
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Every qemu.cmd a run wrote (one per guest it booted). */
async function qemuCommands(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name === "qemu.cmd") out.push(await readFile(path.join(e.parentPath, e.name), "utf8"));
  }
  return out;
}

describe("the default kernel", () => {
  it("has a PVH entry: its vmlinux is extracted and checked for the Xen PHYS32_ENTRY note", async () => {
    expect(kernel.info.boot).toBe("pvh");
    expect(kernel.info.bootReason).toBeUndefined();
    expect(bootImage(kernel)).not.toBe(kernel.image);
    const note = await pvhEntry(bootImage(kernel));
    expect(note).toEqual({ entry: expect.any(Number) });
    expect(XEN_ELFNOTE_PHYS32_ENTRY).toBe(18);
    // The bzImage itself is no ELF: it cannot be booted through that entry.
    expect(await pvhEntry(kernel.image)).toEqual({ problem: "not an ELF file" });
  });

  for (const boot of ["pvh", "bzimage"] as const) {
    it(`runs F1 booted ${boot === "pvh" ? "through its PVH entry" : "from its bzImage"}, and records which`, async () => {
      const out = path.join(tmp, `run-${boot}`);
      const r = await execa("npx", ["tsx", "harness/cli.ts", "run", "--only", "F1", "--out", out, "--boot", boot], {
        reject: false,
        env: { PCSHARE_SPARE_GUEST: "0" },
        stdin: "ignore",
      });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      const results = JSON.parse(await readFile(path.join(out, "results.json"), "utf8"));
      expect(results.kernel.boot).toBe(boot);
      expect(results.cases.map((c: { id: string; outcome: string }) => `${c.id} ${c.outcome}`)).toEqual(["F1 pass"]);
      const cmds = await qemuCommands(out);
      expect(cmds.length).toBeGreaterThan(0);
      for (const cmd of cmds) expect(cmd).toMatch(boot === "pvh" ? / -kernel \S+\/vmlinux / : / -kernel \S+\/vmlinuz /);
      expect(await readFile(path.join(out, "report.md"), "utf8").catch(() => "")).toMatch(boot === "pvh" ? /Kernel boot.*pvh/ : /Kernel boot.*bzimage/);
    }, 300_000);
  }
});

describe("a kernel without a PVH entry", () => {
  it("given as a bzImage alone, boots from the bzImage and says why; --boot pvh refuses it", async () => {
    const dir = path.join(tmp, "given");
    await execa("mkdir", ["-p", dir]);
    await execa("cp", [kernel.image, path.join(dir, "bzImage")]);
    const given = { ...(await givenKernel(path.join(dir, "bzImage"))), modules: kernel.modules, config: kernel.config };
    const chosen = await chooseBoot(given, "auto");
    expect(chosen.info.boot).toBe("bzimage");
    expect(chosen.info.bootReason).toMatch(/no vmlinux beside the bzImage/);
    expect(bootImage(chosen)).toBe(path.join(dir, "bzImage"));
    await expect(chooseBoot(given, "pvh")).rejects.toThrow(/boot path pvh \(--boot or PCSHARE_BOOT\): kernel \S+ has no PVH entry: no vmlinux beside the bzImage/);
    const vm = await bootGuest(chosen);
    try {
      expect(vm.argv[vm.argv.indexOf("-kernel") + 1]).toBe(path.join(dir, "bzImage"));
      const r = await vm.agent.exec(["uname", "-r"], { timeoutMs: 30_000 });
      expect(r.stdout.trim()).toBe(kernel.info.release);
    } finally {
      await vm.shutdown();
    }
  }, 300_000);
});

describe.skipIf(process.env.PCSHARE_SKIP_BUILD_TESTS === "1")("a kernel pcshare builds", () => {
  // The minimal kernel build.test.ts builds and boots (shared through the cache); only the choice here.
  it("has CONFIG_PVH from the base fragment and boots through its build's vmlinux", async () => {
    const built = await resolveKernel({ fragments: ["base", "share-on"] });
    expect(built.config.CONFIG_PVH).toBe("y");
    expect(built.info.boot, built.info.bootReason).toBe("pvh");
    expect(built.vmlinux).toBeDefined();
    expect(bootImage(built)).toBe(built.vmlinux);
    expect(await pvhEntry(built.vmlinux!)).toEqual({ entry: expect.any(Number) });
  }, 45 * 60_000);
});

describe("an ELF without the PVH note", () => {
  it("is refused as a PVH entry, saying the kernel was built without CONFIG_PVH", async () => {
    // Any ELF64 without the Xen note stands for a vmlinux built without CONFIG_PVH: QEMU's own binary.
    const qemu = (await execa("sh", ["-c", "command -v qemu-system-x86_64"])).stdout.trim();
    expect(await pvhEntry(qemu)).toEqual({ problem: "no Xen PHYS32_ENTRY note (kernel built without CONFIG_PVH)" });
  });
});

describe("the cached vmlinux", () => {
  it("is found damaged when truncated or changed in place, and extracted again", async () => {
    const saved = process.env.PCSHARE_CACHE;
    process.env.PCSHARE_CACHE = path.join(tmp, "cache");
    const warn = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const first = await extractedPvhVmlinux(kernel.image);
      if (!("vmlinux" in first)) throw new Error(first.problem);
      const size = (await stat(first.vmlinux)).size;
      const entry = await pvhEntry(first.vmlinux);

      await truncate(first.vmlinux, size - 4096);
      const again = await extractedPvhVmlinux(kernel.image);
      expect(warn.mock.calls.map((c) => String(c[0])).join("")).toMatch(/vmlinux-[0-9a-f]+-v1 is damaged \(vmlinux is \d+ bytes, recorded \d+\); rebuilding it/);
      if (!("vmlinux" in again)) throw new Error(again.problem);
      expect((await stat(again.vmlinux)).size).toBe(size);
      expect(await pvhEntry(again.vmlinux)).toEqual(entry);

      // Same size, other bytes: the changed ctime makes the entry check its sha256.
      warn.mockClear();
      const fh = await open(again.vmlinux, "r+");
      await fh.write(Buffer.alloc(64), 0, 64, 0);
      await fh.close();
      const third = await extractedPvhVmlinux(kernel.image);
      expect(warn.mock.calls.map((c) => String(c[0])).join("")).toMatch(/is damaged \(vmlinux changed since it was cached \(sha256 differs\)\); rebuilding it/);
      if (!("vmlinux" in third)) throw new Error(third.problem);
      expect(await pvhEntry(third.vmlinux)).toEqual(entry);
    } finally {
      warn.mockRestore();
      if (saved === undefined) delete process.env.PCSHARE_CACHE;
      else process.env.PCSHARE_CACHE = saved;
    }
  }, 120_000);
});
