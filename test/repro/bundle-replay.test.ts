// Reproducer bundles replayed with nothing but QEMU (real guests under TCG): `pcshare repro O3` runs
// the registered remount oops once on the default kernel (Debian sid's 7.2.13) and writes a bundle;
// its run.sh, started with a PATH that holds only qemu-system-x86_64 and POSIX tools (no node, no
// pcshare), must show the same oops. The same bundle given the kernel built with the fix
// (kernel-patches/fixes/remount-inode-share.mbox; built from Debian's linux-source on first use,
// cached afterwards) must pass. A found case (an explore program: data) bundled with --no-kernel asks
// for a kernel and replays its failure on the one it is given; a results.json entry is bundled from
// its recorded steps without a guest. A mutant's reproducer (kernel-patches/mutants/o-direct-allowed.patch:
// a shared file opens with O_DIRECT) shows the failure on the mutant, judged in the guest, and passes on
// the unmutated build of the same source. 90 s with every kernel cached (2 cores, load average 5-8).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resolveKernel } from "../../harness/kernel/resolve.ts";
import type { Kernel } from "../../harness/kernel/kernel.ts";

const PCSHARE = path.resolve("bin/pcshare");
/** What run.sh may use besides QEMU: POSIX utilities only. */
const POSIX_TOOLS = ["sh", "dirname", "cat", "rm", "mkdir", "tr", "grep", "cut", "awk", "tail", "sleep"];
const OOPS = "BUG: kernel NULL pointer dereference";
const WHERE = "erofs_xattr_fill_inode_fingerprint";

let dir: string;
let bin: string;
let fixed: Kernel;
const o3 = () => path.join(dir, "o3");

async function pcshare(args: string[]) {
  return execa(PCSHARE, args, { reject: false, all: true, env: { PCSHARE_QUIET: "1" } });
}

/** run.sh as a user with only QEMU installed: PATH is the tool directory, nothing else in the environment. */
async function runBundle(bundle: string, args: string[] = []) {
  return execa("sh", [path.join(bundle, "run.sh"), ...args], { reject: false, all: true, stdin: "ignore", env: { PATH: bin }, extendEnv: false, timeout: 900_000 });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "pcshare-repro-"));
  bin = path.join(dir, "bin");
  await mkdir(bin);
  for (const t of [...POSIX_TOOLS, "qemu-system-x86_64"]) {
    const where = (await execa("sh", ["-c", `command -v ${t}`])).stdout.trim();
    await symlink(where, path.join(bin, t));
  }
  fixed = await resolveKernel({ series: "kernel-patches/fixes/remount-inode-share.mbox" });
}, 1_800_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("pcshare repro O3 (the registered remount oops)", () => {
  let made: Awaited<ReturnType<typeof pcshare>>;
  beforeAll(async () => {
    made = await pcshare(["repro", "O3", "--out", o3()]);
  }, 600_000);

  it("writes the bundle and prints a summary with steps, expected, seen, kernel and excerpt", async () => {
    expect(made.exitCode, made.all).toBe(0);
    const out = made.stdout;
    expect(out).toMatch(/^O3 remount-adds-inode-share-without-domain: fail on 7\.2\.13/m);
    expect(out).toMatch(/^ {2}1\. mount -t erofs -o ro \/dev\/disk\/pcshare\/share-a \/mnt\/share-a-1$/m);
    expect(out).toMatch(/^ {2}2\. mount -o remount,ro,inode_share \/mnt\/share-a-1$/m);
    expect(out).toMatch(/^Expected:\n {2}after a mount without domain_id, remount with inode_share is refused or ignored/m);
    expect(out).toContain(`Seen:\n  kernel report (bug): ${OOPS}`);
    expect(out).toMatch(/^Kernel: 7\.2\.13\S* \(debian:sid .*\.deb sha256 [0-9a-f]{16}\.\.\.\)$/m);
    expect(out).toMatch(new RegExp(`^Excerpt:\\n  ${OOPS}.*\\n  RIP: .*strlen.*\\n  Call Trace:\\n   ${WHERE}\\+`, "m"));
    for (const f of ["run.sh", "guest.cpio", "steps.jsonl", "kernel/vmlinuz", "kernel/modules.cpio", "images/share-a.erofs", "kernel.txt", "expected.txt", "seen.txt", "summary.txt"]) {
      expect(existsSync(path.join(o3(), f)), f).toBe(true);
    }
    expect(await readFile(path.join(o3(), "kernel.txt"), "utf8")).toMatch(/^sha256 [0-9a-f]{64} {2}linux-binary-.*\.deb$/m);
  });

  it("replays the oops with only QEMU and POSIX tools: exit 1 and the excerpt", async () => {
    expect(existsSync(path.join(bin, "node"))).toBe(false);
    const r = await runBundle(o3());
    expect(r.exitCode, r.all).toBe(1);
    expect(r.stdout).toContain("== kernel report ==");
    expect(r.stdout).toContain(OOPS);
    expect(r.stdout).toContain(WHERE);
    expect(r.stdout).toMatch(/^RESULT: FAIL/m);
    expect(readdirSync(o3()).filter((f) => f.startsWith(".run."))).toEqual([]); // its work directory is gone
  }, 900_000);

  it("passes on the kernel with the fix: exit 0, no kernel report", async () => {
    const r = await runBundle(o3(), [fixed.image]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).not.toContain("== kernel report ==");
    expect(r.stdout).toMatch(/^pcshare-replay: done: \d+ steps, 0 checks failed$/m);
    expect(r.stdout).toMatch(/^RESULT: PASS/m);
  }, 900_000);

  it("bundles the run's results.json entry from its recorded steps, without a guest", async () => {
    const out = path.join(dir, "o3-results");
    const r = await pcshare(["repro", `${o3()}/run/results.json#O3`, "--out", out, "--no-kernel"]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).not.toContain("running O3 once");
    expect(await readFile(path.join(out, "steps.jsonl"), "utf8")).toBe(await readFile(path.join(o3(), "steps.jsonl"), "utf8"));
    expect(existsSync(path.join(out, "kernel"))).toBe(false);
  }, 120_000);
});

describe("pcshare repro of a found case with --no-kernel", () => {
  const found = () => path.join(dir, "found", "E1.json");
  const bundle = () => path.join(dir, "e1");
  let made: Awaited<ReturnType<typeof pcshare>>;
  beforeAll(async () => {
    // An explore program as explore saves it: a plain mount, a remount turning inode_share on, a read.
    const program = {
      images: ["share-a"],
      ops: [
        { op: "mount", image: 0, backing: "bdev", opts: { share: false } },
        { op: "remount", slot: 0, data: "inode_share" },
        { op: "read", at: { slot: 0, file: 0 }, method: "read", offset: 0, length: 0 },
      ],
    };
    await mkdir(path.dirname(found()), { recursive: true });
    await writeFile(found(), JSON.stringify({ id: "E1", seed: 1, path: "0", kernel: "7.2.13", signature: "bug in strlen", knownBugs: [], program }));
    made = await pcshare(["repro", found(), "--out", bundle(), "--no-kernel"]);
  }, 600_000);

  it("runs the program once and writes a bundle without a kernel", () => {
    expect(made.exitCode, made.all).toBe(0);
    expect(made.stdout).toMatch(/^E1 found-bug-in-strlen: fail on 7\.2\.13/m);
    expect(made.stdout).toMatch(/read\(2\) \/mnt\/share-a-1\/\S+ and XXH64 it/);
    expect(existsSync(path.join(bundle(), "kernel"))).toBe(false);
  });

  it("asks for a kernel and fetches nothing when none is given: exit 2", async () => {
    const r = await runBundle(bundle());
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr).toContain("This bundle has no kernel (made with --no-kernel). The case ran on: 7.2.13");
    expect(r.stderr).toContain("run.sh: no kernel given: run ./run.sh /path/to/bzImage [modules.cpio]");
  });

  it("replays the program on the kernel it is given, judging the mount in the guest: exit 1 and the oops", async () => {
    const r = await runBundle(bundle(), [path.join(o3(), "kernel/vmlinuz"), path.join(o3(), "kernel/modules.cpio")]);
    expect(r.exitCode, r.all).toBe(1);
    expect(r.stdout).toMatch(/^pcshare-check \d+ ok: mount bdev -o "": expected ok/m);
    expect(r.stdout).toContain(OOPS);
    expect(r.stdout).toContain(WHERE);
  }, 900_000);
});

describe("a mutant's reproducer (o-direct-allowed), replayed on the mutant and on the unmutated kernel", () => {
  const found = () => path.join(dir, "found-mutant", "E1.json");
  const bundle = () => path.join(dir, "mutant");
  let unmutated: Kernel;
  let made: Awaited<ReturnType<typeof pcshare>>;
  beforeAll(async () => {
    // The program explore shrank this mutant's finding to: a sharing mount, then open O_DIRECT.
    const program = {
      images: ["share-a"],
      ops: [
        { op: "mount", image: 0, backing: "bdev", opts: { share: true, domain: "d1" } },
        { op: "odirect", at: { slot: 0, file: 0 } },
      ],
    };
    await mkdir(path.dirname(found()), { recursive: true });
    await writeFile(found(), JSON.stringify({ id: "E1", seed: 2483, path: "1", kernel: "7.2.13-pcshare", signature: "disagrees: open O_DIRECT", knownBugs: [], program }));
    made = await pcshare(["repro", found(), "--out", bundle(), "--series", "kernel-patches/mutants/o-direct-allowed.patch", "--fragment", "base", "share-on"]);
    unmutated = await resolveKernel({ fragments: ["base", "share-on"] });
  }, 1_800_000);

  it("shows the failure on the mutant kernel in the bundle: the guest judges open O_DIRECT (exit 1)", async () => {
    expect(made.exitCode, made.all).toBe(0);
    const r = await runBundle(bundle());
    expect(r.exitCode, r.all).toBe(1);
    expect(r.stdout).toMatch(/^pcshare-check \d+ FAIL: open O_DIRECT: expected EINVAL \(a shared file refuses O_DIRECT \(F3\)\) .*: expected EINVAL, seen ok$/m);
    expect(r.stdout).toMatch(/^RESULT: FAIL/m);
  }, 900_000);

  it("passes on the same build without the mutation (exit 0)", async () => {
    expect(unmutated.info.series).toBeUndefined();
    const r = await runBundle(bundle(), [unmutated.image]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/^pcshare-check \d+ ok: open O_DIRECT: expected EINVAL \(a shared file refuses O_DIRECT \(F3\)\)/m);
    expect(r.stdout).toMatch(/^pcshare-replay: done: \d+ steps, 0 checks failed$/m);
    expect(r.stdout).toMatch(/^RESULT: PASS/m);
  }, 900_000);
});
