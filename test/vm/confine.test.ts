// QEMU confinement on a real guest (the default kernel): the kernel reports the QEMU process in
// seccomp filter mode and, when pcshare runs as root, running as the unprivileged user, chrooted into
// its private run directory; the guest still boots and reads a drive from the root-only cache.
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveKernel } from "../../harness/kernel/resolve.ts";
import { bootGuest, prepareGuest } from "../../harness/vm/launch.ts";
import { hasRunWith, hasSandbox, observeConfinement, qemuConfinement } from "../../harness/vm/confine.ts";
import { which } from "../../harness/util/host-tools.ts";
import { buildImages } from "../../harness/images/build.ts";
import type { Vm } from "../../harness/vm/vm.ts";

const asRoot = process.geteuid?.() === 0;
let vm: Vm;

beforeAll(async () => {
  const kernel = await resolveKernel();
  const built = await buildImages(["images/basic.yaml"], { names: ["share-a"] });
  vm = await bootGuest(kernel, { cpus: 1, memoryMiB: 512, drives: [{ name: "share-a", path: built.get("share-a")!.imagePath, readOnly: true }] });
}, 600_000);

afterAll(async () => {
  await vm?.shutdown();
});

describe("a confined QEMU", () => {
  it("runs in seccomp filter mode", async () => {
    const seen = await observeConfinement(await vm.qemuPid);
    expect(seen.seccomp).toBe(2);
    expect(vm.argv).toContain("-sandbox");
  });

  it.runIf(asRoot)("runs as the unprivileged user, chrooted into its private run directory", async () => {
    const { uid, user } = (await prepareGuest(await resolveKernel())).confinement;
    expect(user).toBeDefined();
    expect(uid).toBeGreaterThan(0);
    const seen = await observeConfinement(await vm.qemuPid);
    expect(seen.uids).toEqual([uid, uid, uid, uid]);
    const runDir = vm.argv[vm.argv.indexOf("-chroot") + 1];
    expect(seen.root).toBe(runDir);
    const mode = (await stat(runDir)).mode & 0o777;
    expect(mode).toBe(0o700);
    expect((await stat(runDir)).uid).toBe(0);
  });

  it("still serves the guest its drive and the agent", async () => {
    const r = await vm.agent.exec(["sh", "-c", "dd if=/dev/disk/pcshare/share-a bs=4096 count=1 2>/dev/null | wc -c"], { timeoutMs: 20_000 });
    expect(r.stdout.trim()).toBe("4096");
  });
});

describe("choosing the user", () => {
  it("takes PCSHARE_QEMU_USER, refuses unknown users and uid 0, and keeps an unprivileged pcshare's user", async () => {
    expect((await qemuConfinement({ PCSHARE_QEMU_USER: "nobody" }, 0)).user).toBe("nobody");
    await expect(qemuConfinement({ PCSHARE_QEMU_USER: "no-such-user-pcshare" }, 0)).rejects.toThrow(/PCSHARE_QEMU_USER=no-such-user-pcshare: no such user/);
    const root = await qemuConfinement({ PCSHARE_QEMU_USER: "root" }, 0);
    expect([root.user, root.chroot]).toEqual([undefined, false]);
    const unpriv = await qemuConfinement({}, 1000);
    expect(unpriv.user).toBeUndefined();
    expect(unpriv.sandbox).toContain("elevateprivileges=deny");
  });
});

describe("reading what a QEMU takes from its -help", () => {
  // A stand-in binary prints the -help lines of QEMU 10.0 (-run-with with user=, no -runas/-chroot);
  // the machine's own QEMU (7.2) is the other kind.
  it("finds -run-with user= in QEMU 10.0's help and not in 7.2's, and -sandbox in both", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "pcshare-qemu-help-"));
    try {
      const fake = path.join(dir, "qemu-10");
      await writeFile(fake, `#!/bin/sh\necho '-sandbox on[=off][,obsolete=allow|deny][,elevateprivileges=allow|deny|children]'\necho '-run-with [async-teardown=on|off][,chroot=dir][user=username|uid:gid]'\n`, { mode: 0o755 });
      expect(await hasRunWith(fake)).toBe(true);
      expect(await hasSandbox(fake)).toBe(true);
      const system = await which("qemu-system-x86_64");
      expect(await hasRunWith(system!)).toBe(false);
      expect(await hasSandbox(system!)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
