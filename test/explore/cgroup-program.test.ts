// The cgroup steps and listed-options checks of explore on the default kernel (a real guest under
// QEMU): one fixed program over share-a and share-b (two mounts of one domain sharing an 8 MiB file)
// that makes every cgroup observation the charge model predicts: the first reader's cgroup charged the
// file, a later reader in another cgroup through the other mount charged nothing, a held reader moved
// into a cgroup (no charge follows it) that then cannot be removed until it is released, a 2 MiB
// memory.max under which usage stays and reads still return the source's bytes, and after each mount and
// remount the options mountinfo lists (domain_id hidden, inode_share listed while sharing is on).
// About 20 s on an idle 2-core host.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resolveKernel } from "../../harness/kernel/resolve.ts";
import { runSuite } from "../../harness/runner/run.ts";
import { foundCaseDef } from "../../harness/explore/found.ts";
import { DEFAULT_SPECS } from "../../harness/images/commands.ts";
import type { Op } from "../../harness/explore/program.ts";
import type { CaseResult } from "../../harness/report/model.ts";
import { readFile } from "node:fs/promises";
import { guestSteps } from "../../harness/repro/guest-steps.ts";

// share-a's readable files: 0 /big-link (hardlink of 1), 1 /data/big.bin, 2 /data/only-a.bin (1 MiB), ...;
// share-b's: 2 /srv/mirror/copy-of-big.bin (big.bin's content and fingerprint).
const OPS: Op[] = [
  { op: "mount", image: 0, backing: "bdev", opts: { share: true, domain: "d1" } },
  { op: "mount", image: 1, backing: "bdev", opts: { share: true, domain: "d1" } },
  { op: "cgcreate" },
  { op: "cgcreate" },
  { op: "cgread", cg: 0, at: { slot: 0, file: 1 } }, // #5 first reader of the shared big file
  { op: "cgread", cg: 1, at: { slot: 1, file: 2 } }, // #6 the same content through the other mount
  { op: "hold", at: { slot: 0, file: 2 } },
  { op: "cgmove", cg: 1, hold: 0 }, // #8
  { op: "cgrmdir", cg: 1 }, // #9 busy: the held reader lives in it
  { op: "cglimit", cg: 0, max: 2 << 20 }, // #10
  { op: "release", hold: 0 },
  { op: "cgrmdir", cg: 1 }, // #12
  { op: "drop_caches" },
  { op: "cgread", cg: 0, at: { slot: 1, file: 2 } }, // #14 8 MiB under a 2 MiB limit
  { op: "remount", slot: 1, data: "inode_share,domain_id=d1" }, // #15
];

let dir: string;
let r: CaseResult;
const check = (prefix: string, step: number) => r.checks.find((k) => k.name.startsWith(prefix) && k.name.includes(` @ #${step} `));

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "pcshare-explore-cgroup-"));
  const def = foundCaseDef({ id: "E1", seed: 0, path: "0", kernel: "-", signature: "-", knownBugs: [], program: { images: ["share-a", "share-b"], ops: OPS } }, () => DEFAULT_SPECS);
  const run = await runSuite({ kernel: await resolveKernel(), cases: [def], outDir: dir, specs: DEFAULT_SPECS, spareGuest: false });
  r = run.cases[0];
}, 600_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("explore's cgroup steps on the default kernel", () => {
  it("the program passes: every observation as the model predicts", () => {
    expect(r.outcome, `${r.reason}\n${r.checks.filter((k) => !k.ok).map((k) => k.name).join("\n")}`).toBe("pass");
  });

  it("predicted and checked the charges: the first reader charged the file, the later one nothing", () => {
    expect(check("file charge of the reading cgroup: expected about the file's size", 5)?.ok).toBe(true);
    expect(check("file charge of the reading cgroup: expected about nothing", 6)?.ok).toBe(true);
    expect(check("file charge of the cgroup a process moved into: expected about nothing", 8)?.ok).toBe(true);
  });

  it("checked rmdir (busy, then not), the limit, and the bytes read under it", () => {
    expect(check("rmdir of the cgroup: expected EBUSY", 9)?.ok).toBe(true);
    expect(check("rmdir of the cgroup: expected ok", 12)?.ok).toBe(true);
    expect(check("memory.current within memory.max: expected yes", 10)?.ok).toBe(true);
    expect(check("read(2) of the whole file from inside a cgroup: expected source bytes", 14)?.ok).toBe(true);
    expect(check("memory.current within memory.max: expected yes", 14)?.ok).toBe(true);
  });

  it("moves the held reader by a request field a reproducer's replay points at its own helper", async () => {
    const record = JSON.parse(await readFile(path.join(dir, r.artifacts.steps!), "utf8"));
    const requests = guestSteps(record.steps, r.checks).lines.map((l) => JSON.parse(l) as { id: number; op: string; _pid_of?: number });
    const attach = requests.find((q) => q.op === "cgroup_attach");
    const hold = requests.find((q) => q.op === "map_hold");
    expect(attach?._pid_of, JSON.stringify(attach)).toBe(hold?.id);
  });

  it("checked the listed options after the mounts and the remount", () => {
    for (const step of [1, 2, 15]) {
      expect(check("mountinfo hides domain_id: expected hidden", step)?.ok).toBe(true);
      expect(check("mountinfo lists inode_share: expected listed", step)?.ok).toBe(true);
    }
  });
});
