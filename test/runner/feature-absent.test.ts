// O7: on a kernel without EROFS page cache sharing (Debian trixie's 6.12) the suite reports the
// feature absent and skips the sharing cases with that reason before booting; erofs itself still
// mounts plain there, and the share options are refused. Downloads trixie's kernel (~100 MB) once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resolveKernel } from "../../harness/kernel/resolve.ts";
import type { Kernel } from "../../harness/kernel/kernel.ts";
import { unmetRequirement } from "../../harness/runner/requirements.ts";
import { runSuite } from "../../harness/runner/run.ts";
import { bootGuest } from "../../harness/vm/launch.ts";
import { buildImages } from "../../harness/images/build.ts";
import { DEFAULT_SPECS } from "../../harness/images/commands.ts";
import { AgentError } from "../../harness/guest/agent-client.ts";
import { F1, F1b } from "../../cases/functional.ts";

let kernel: Kernel;
let outDir: string;

beforeAll(async () => {
  kernel = await resolveKernel({ kernel: "debian:trixie" });
  outDir = await mkdtemp(path.join(os.tmpdir(), "pcshare-o7-"));
}, 900_000);

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe("a kernel without page cache sharing (Debian trixie 6.12)", () => {
  it("is 6.12 with erofs but without CONFIG_EROFS_FS_PAGE_CACHE_SHARE", () => {
    expect(kernel.info.release).toMatch(/^6\.12\./);
    expect(["y", "m"]).toContain(kernel.config.CONFIG_EROFS_FS);
    expect(kernel.config.CONFIG_EROFS_FS_PAGE_CACHE_SHARE ?? "n").toBe("n");
  });

  it("unmetRequirement gives the feature-absent reason for sharing cases, nothing for plain ones", () => {
    expect(unmetRequirement(kernel, F1.requires)).toMatch(/page cache sharing.*CONFIG_EROFS_FS_PAGE_CACHE_SHARE/);
    expect(unmetRequirement(kernel, F1b.requires)).toBeUndefined();
  });

  it("a run of a sharing case reports SKIP with that reason, without booting", async () => {
    const r = await runSuite({ kernel, cases: [F1], outDir, specs: DEFAULT_SPECS });
    expect(r.cases).toHaveLength(1);
    expect(r.cases[0]).toMatchObject({ id: "F1", outcome: "skip", reason: unmetRequirement(kernel, F1.requires) });
    expect(r.cases[0].checks).toEqual([]);
    expect(r.kernel.release).toBe(kernel.info.release);
  }, 300_000);

  // On 6.12 erofs.ko depends on libcrc32c, whose `softdep=pre: crc32c` names crc32c_generic by alias;
  // harness/kernel/modules.ts follows softdeps, so erofs loads. Without that it would not ("Unknown
  // symbol crc32c") and every mount would be ENODEV: this test would fail at the plain mount.
  it("boots, mounts erofs plain with the right bytes, and refuses the share options", async () => {
    const built = await buildImages(DEFAULT_SPECS, { names: ["share-a"] });
    const img = built.get("share-a")!;
    const vm = await bootGuest(kernel, { drives: [{ name: "share-a", path: img.imagePath, readOnly: true }] });
    try {
      const dev = "/dev/disk/pcshare/share-a";
      let refused = "ok";
      try {
        await vm.agent.mount({ source: dev, target: "/mnt/o7-share", fstype: "erofs", flags: ["ro"], data: "inode_share,domain_id=x" });
        await vm.agent.umount("/mnt/o7-share");
      } catch (err) {
        refused = (err as AgentError).errname ?? String(err);
      }
      expect(refused).toBe("EINVAL");
      await vm.agent.mount({ source: dev, target: "/mnt/o7", fstype: "erofs", flags: ["ro"] });
      const f = img.manifest.files.find((x) => x.path === "/data/big.bin")!;
      expect((await vm.agent.readHash("/mnt/o7/data/big.bin")).xxh64).toBe(f.xxh64);
      const mounts = (await vm.agent.readFile("/proc/mounts")).data.toString("utf8");
      expect(mounts).toMatch(/ \/mnt\/o7 erofs ro/);
      await vm.agent.umount("/mnt/o7");
    } finally {
      await vm.shutdown();
    }
  }, 300_000);
});
