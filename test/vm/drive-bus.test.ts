// PCSHARE_DRIVE_BUS: the choice and its checks (pure), and a run on the default kernel with the
// images as LUNs of one virtio-scsi controller: the agent names the SCSI disks by their unit serial,
// the cases read them by name, and guests restore from a snapshot of that machine.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { driveBusCmdline, driveBusFromEnv, driveBusModules, driveBusProblem } from "../../harness/vm/drive-bus.ts";
import { InputError } from "../../harness/util/input-error.ts";

describe("choosing the drive bus", () => {
  it("reads PCSHARE_DRIVE_BUS, virtio-blk by default, and names the variable when the value is unknown", () => {
    expect(driveBusFromEnv({})).toBe("virtio-blk");
    expect(driveBusFromEnv({ PCSHARE_DRIVE_BUS: "" })).toBe("virtio-blk");
    expect(driveBusFromEnv({ PCSHARE_DRIVE_BUS: "blk" })).toBe("virtio-blk");
    expect(driveBusFromEnv({ PCSHARE_DRIVE_BUS: "scsi" })).toBe("virtio-scsi");
    expect(driveBusFromEnv({ PCSHARE_DRIVE_BUS: " virtio-scsi " })).toBe("virtio-scsi");
    expect(() => driveBusFromEnv({ PCSHARE_DRIVE_BUS: "nvme" })).toThrow(InputError);
    expect(() => driveBusFromEnv({ PCSHARE_DRIVE_BUS: "nvme" })).toThrow(/PCSHARE_DRIVE_BUS=nvme: unknown drive bus; use virtio-blk \(the default\) or virtio-scsi/);
  });

  it("loads the SCSI modules and waits for the disks only on virtio-scsi", () => {
    expect(driveBusModules("virtio-blk")).toEqual([]);
    expect(driveBusModules("virtio-scsi")).toEqual(["virtio_scsi", "sd_mod"]);
    expect(driveBusCmdline("virtio-blk", 77)).toEqual([]);
    expect(driveBusCmdline("virtio-scsi", 77)).toEqual(["pcshare.drives=77"]);
    expect(driveBusCmdline("virtio-scsi", 0)).toEqual([]);
  });

  it("refuses a kernel without the SCSI drivers, naming what is missing", () => {
    const both = { CONFIG_SCSI_VIRTIO: "m", CONFIG_BLK_DEV_SD: "y" };
    expect(driveBusProblem("virtio-scsi", both, "7.2.13")).toBeUndefined();
    expect(driveBusProblem("virtio-blk", {}, "7.2.13")).toBeUndefined();
    expect(driveBusProblem("virtio-scsi", {}, "7.2.13")).toBeUndefined(); // config unknown: nothing to say
    expect(driveBusProblem("virtio-scsi", { CONFIG_EROFS_FS: "y" }, "7.2.13-pcshare")).toBe(
      "PCSHARE_DRIVE_BUS=virtio-scsi: kernel 7.2.13-pcshare has no CONFIG_SCSI_VIRTIO or CONFIG_BLK_DEV_SD; unset PCSHARE_DRIVE_BUS (virtio-blk) or build the kernel with them",
    );
    expect(driveBusProblem("virtio-scsi", { CONFIG_SCSI_VIRTIO: "y", CONFIG_BLK_DEV_SD: "n" }, "x")).toMatch(/has no CONFIG_BLK_DEV_SD;/);
  });
});

describe("a run with PCSHARE_DRIVE_BUS=virtio-scsi", () => {
  const saved = process.env.PCSHARE_DRIVE_BUS;
  let out = "";
  beforeAll(async () => {
    process.env.PCSHARE_DRIVE_BUS = "virtio-scsi";
    out = await mkdtemp(path.join(os.tmpdir(), "pcshare-drive-bus-"));
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.PCSHARE_DRIVE_BUS;
    else process.env.PCSHARE_DRIVE_BUS = saved;
    await rm(out, { recursive: true, force: true });
  });

  it("reads the images through SCSI disks named by serial, on restored guests, with the verdicts of virtio-blk", async () => {
    // Imported here: the kernel's module set is chosen when it is resolved, with the variable set.
    const { resolveKernel } = await import("../../harness/kernel/resolve.ts");
    const { runSuite } = await import("../../harness/runner/run.ts");
    const { DEFAULT_SPECS } = await import("../../harness/images/commands.ts");
    const { F1, F1b } = await import("../../cases/functional.ts");
    const { liveProcesses } = await import("../../harness/vm/reaper.ts");
    const kernel = await resolveKernel();
    expect(kernel.modules.map((m) => path.basename(m))).toEqual(expect.arrayContaining(["virtio_scsi.ko", "sd_mod.ko"]));
    const { defineCase } = await import("../../harness/runner/case.ts");
    const named = defineCase({
      id: "T4", name: "test-only-scsi-disk-names", groups: ["T"], images: ["share-a"],
      expect: "test-only: /dev/disk/pcshare/share-a leads to a SCSI disk",
      async run(t) {
        const r = await t.sh("readlink /dev/disk/pcshare/share-a");
        t.expect("share-a's name leads to a SCSI disk", /^\/dev\/sd[a-z]+$/.test(r.stdout.trim()), { seen: r.stdout.trim() });
      },
    });
    const run = await runSuite({ kernel, cases: [F1, F1b, named], outDir: out, specs: DEFAULT_SPECS, jobs: 1, restore: "auto" });
    expect(run.cases.map((c) => [c.id, c.outcome, c.reason ?? ""])).toEqual([["F1", "pass", ""], ["F1b", "pass", ""], ["T4", "pass", ""]]);
    expect(run.boots!.every((b) => b.start === "restore"), JSON.stringify(run.boots)).toBe(true);
    expect(run.host.driveBus).toBe("virtio-scsi"); // the report's "Image drives" row
    const cmd = await readFile(path.join(out, run.cases[0].artifacts.qemu), "utf8");
    expect(cmd).toContain("virtio-scsi-pci,id=pcshare-scsi");
    expect(cmd).not.toContain("virtio-blk-pci");
    expect(cmd).toMatch(/pcshare\.drives=\d+/);
    expect(run.cases[2].checks.map((c) => [c.name, c.ok, c.seen])).toEqual([["share-a's name leads to a SCSI disk", true, expect.stringMatching(/^\/dev\/sd[a-z]+$/)]]);
    expect(liveProcesses()).toBe(0);
  }, 400_000);
});
