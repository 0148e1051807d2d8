// The probe and helper ops added for the F4-F7, O and X cases, run for real against host files
// through AgentClient over the agent's --stdio: read_at, copy_hash, statx, fcntl_probe, fslabel,
// lseek, map_hold/spawn/proc_kill/proc_frames, cgroup_attach and fs_mount (new mount API; both need root). Where the
// answer depends on the host filesystem, the test finds it out independently (O_DIRECT open, statfs
// type, findmnt) and expects exactly that.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { closeSync, constants, mkdirSync, openSync, readFileSync, rmdirSync, statfsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import type { AgentClient } from "../../harness/guest/agent-client.ts";
import { xxh64Hex } from "../../harness/util/hash.ts";
import { remoteError, scratchDir, startClient } from "./agent-harness.ts";

let client: AgentClient;
let dir: string;
let cleanup: () => Promise<void>;
let file: string;
const data = randomBytes(3 * 4096 + 100);
const isRoot = process.getuid?.() === 0;

beforeAll(async () => {
  ({ client } = await startClient());
  ({ dir, cleanup } = await scratchDir());
  file = path.join(dir, "f.bin");
  await writeFile(file, data);
});

afterAll(async () => {
  client?.close();
  await cleanup?.();
});


/** Whether the host filesystem under `p` opens files O_DIRECT (checked here, independently of the agent). */
function hostOpensDirect(p: string): boolean {
  try {
    closeSync(openSync(p, constants.O_RDONLY | constants.O_DIRECT));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EINVAL") return false;
    throw err;
  }
}
/** statfs f_type of filesystems with and without FS_IOC_GETFSLABEL (linux/magic.h). */
const LABEL_FS = new Map([[0xef53, "ext4"], [0x58465342, "xfs"], [0x9123683e, "btrfs"], [0xf2f52010, "f2fs"]]);
const NO_LABEL_FS = new Map([[0x01021994, "tmpfs"], [0x858458f6, "ramfs"]]);
const PROC_SUPER_MAGIC = 0x9fa0;


describe("read_at", () => {
  it("pread and read return the bytes at the offset, short at EOF and 0 past it", async () => {
    const r = await client.readAt(file, "pread", 100, [50]);
    expect(r.bytes).toBe(50);
    expect(r.data.equals(data.subarray(100, 150))).toBe(true);
    const tail = await client.readAt(file, "read", data.length - 10, [4096]);
    expect(tail.bytes).toBe(10);
    expect(tail.data.equals(data.subarray(data.length - 10))).toBe(true);
    expect((await client.readAt(file, "pread", data.length + 4096, [4096])).bytes).toBe(0);
  });

  it("readv/preadv fill the buffers in order", async () => {
    const r = await client.readAt(file, "preadv", 4000, [96, 1, 200]);
    expect(r.bytes).toBe(297);
    expect(r.data.equals(data.subarray(4000, 4297))).toBe(true);
    const v = await client.readAt(file, "readv", 0, [1, 2]);
    expect(v.data.equals(data.subarray(0, 3))).toBe(true);
  });

  it("mmap reads the bytes through a mapping from any offset, clamped at EOF", async () => {
    const r = await client.readAt(file, "mmap", 4095, [4098]);
    expect(r.bytes).toBe(4098);
    expect(r.data.equals(data.subarray(4095, 4095 + 4098))).toBe(true);
    const tail = await client.readAt(file, "mmap", data.length - 10, [65536]);
    expect(tail.data.equals(data.subarray(data.length - 10))).toBe(true);
    expect((await client.readAt(file, "mmap", data.length, [10])).bytes).toBe(0);
  });

  it("rejects bad arguments and reports errnos", async () => {
    expect((await remoteError(client.readAt(file, "pread", 0, [1, 2]))).message).toMatch(/one buffer/);
    expect((await remoteError(client.readAt(file, "mmap", 0, [1, 2]))).message).toMatch(/one buffer/);
    expect((await remoteError(client.readAt(path.join(dir, "missing"), "pread", 0, [1]))).errname).toBe("ENOENT");
    expect((await remoteError(client.readAt(dir, "read", 0, [10]))).errname).toBe("EISDIR");
  });
});

describe("copy_hash", () => {
  it.each(["sendfile", "splice"] as const)("%s copies the whole file or a range", async (method) => {
    const all = await client.copyHash(file, method);
    expect(all).toMatchObject({ bytes: data.length, xxh64: xxh64Hex(data) });
    const part = await client.copyHash(file, method, { offset: 5, length: 5000 });
    expect(part).toMatchObject({ bytes: 5000, xxh64: xxh64Hex(data.subarray(5, 5005)) });
  });
});

describe("statx, fcntl_probe, fslabel, lseek", () => {
  it("statx reports the size, and DIO alignments exactly when the kernel sets STATX_DIOALIGN", async () => {
    const s = await client.statx(file);
    expect(s.size).toBe(data.length);
    expect(s.mask & 0x200).toBe(0x200); // STATX_SIZE
    if (!(s.mask & 0x2000)) {
      expect([s.dio_mem_align, s.dio_offset_align]).toEqual([null, null]);
      return;
    }
    // set: both are numbers; on a filesystem that does O_DIRECT they are powers of two, else 0
    const pow2 = (n: number | null) => n !== null && n > 0 && (n & (n - 1)) === 0;
    if (hostOpensDirect(file)) expect([pow2(s.dio_mem_align), pow2(s.dio_offset_align)]).toEqual([true, true]);
    else expect([s.dio_mem_align, s.dio_offset_align]).toEqual([0, 0]);
  });

  it("fcntl_probe takes a read lease, and sets O_DIRECT and reads through it exactly where the host opens O_DIRECT", async () => {
    expect((await client.fcntlProbe(file, "setlease_rdlck")).lease).toBe("rdlck");
    if (hostOpensDirect(file)) {
      const r = await client.fcntlProbe(file, "setfl_odirect");
      expect(r).toMatchObject({ direct: true, read: 4096, xxh64: xxh64Hex(data.subarray(0, 4096)) });
    } else {
      expect((await remoteError(client.fcntlProbe(file, "setfl_odirect"))).errname).toBe("EINVAL");
    }
    expect((await remoteError(client.fcntlProbe(file, "bogus" as never))).message).toMatch(/unknown probe/);
  });

  it("fslabel returns the label where the filesystem has one and ENOTTY where it has none", async () => {
    expect((await remoteError(client.fsLabel("/proc/self/status"))).errname).toBe("ENOTTY");
    expect(statfsSync("/proc").type).toBe(PROC_SUPER_MAGIC);
    const type = statfsSync(dir).type;
    if (LABEL_FS.has(type)) {
      // the label libblkid reads from the superblock (util-linux findmnt)
      const { stdout } = await execa("findmnt", ["-n", "-o", "LABEL", "-T", dir]);
      expect(await client.fsLabel(dir)).toBe(stdout.trim());
    } else if (NO_LABEL_FS.has(type)) {
      expect((await remoteError(client.fsLabel(dir))).errname).toBe("ENOTTY");
    } else {
      throw new Error(`scratch dir ${dir} is on filesystem type 0x${type.toString(16)}: add whether it has FS_IOC_GETFSLABEL`);
    }
  });

  it("lseek finds data at 0 and reports ENXIO past EOF", async () => {
    expect(await client.lseek(file, "data", 0)).toBe(0);
    expect(await client.lseek(file, "hole", 0)).toBeGreaterThanOrEqual(data.length);
    expect(await client.lseek(file, "end", 0)).toBe(data.length);
    expect((await remoteError(client.lseek(file, "data", data.length + 1))).errname).toBe("ENXIO");
  });
});

describe("helpers: map_hold, spawn, proc_frames, proc_kill", () => {
  it("map_hold keeps the file mapped in a live child whose maps name the file", async () => {
    const pid = await client.mapHold(file, { maxMs: 20_000 });
    try {
      const maps = readFileSync(`/proc/${pid}/maps`, "utf8");
      expect(maps).toContain(file);
      const m = await client.procFrames(pid, file);
      expect(m).toHaveLength(1);
      expect(m[0].pfns).toHaveLength(4);
      expect(m[0].perms.startsWith("r")).toBe(true);
      if (isRoot) expect(m[0].pfns.every((p) => p !== null && p > 0)).toBe(true);
    } finally {
      expect((await client.procKill(pid)).reaped).toBe(true);
    }
  });

  it("map_hold with write_page writes one page of a private mapping, copy-on-write, leaving the file alone", async () => {
    const before = readFileSync(file);
    const pid = await client.mapHold(file, { private: true, writePage: 1, maxMs: 20_000 });
    try {
      const [m] = await client.procFrames(pid, file);
      expect(m.perms).toBe("rw-p");
      const page = Buffer.alloc(4096);
      const fd = (await import("node:fs")).openSync(`/proc/${pid}/mem`, "r");
      (await import("node:fs")).readSync(fd, page, 0, 4096, m.start + 4096);
      (await import("node:fs")).closeSync(fd);
      expect(page.equals(Buffer.alloc(4096, 0xa5))).toBe(true);
      expect(readFileSync(file).equals(before)).toBe(true);
    } finally {
      await client.procKill(pid);
    }
    expect((await remoteError(client.mapHold(file, { writePage: 0 }))).message).toContain("write_page needs private");
  });

  it("map_hold reports the child's failure with its errno", async () => {
    expect((await remoteError(client.mapHold(path.join(dir, "missing")))).errname).toBe("ENOENT");
  });

  it("spawn starts a program in the background and reports exec errors", async () => {
    const pid = await client.spawn(["/bin/sleep", "30"], { maxMs: 20_000 });
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).toContain("sleep");
    expect(await client.procFrames(pid, "/nonexistent")).toEqual([]);
    const k = await client.procKill(pid);
    expect(k.reaped).toBe(true);
    expect(k.status & 0x7f).toBe(9); // killed by SIGKILL
    expect((await remoteError(client.spawn([path.join(dir, "missing")]))).errname).toBe("ENOENT");
  });
});

/** Where the host has a cgroup v2 hierarchy mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts). */
const cgroup2 = readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" ")).find((f) => f[2] === "cgroup2")?.[1];

describe.runIf(isRoot && cgroup2 !== undefined)("cgroup_attach", () => {
  it("moves a helper into a cgroup by its pid, and names the errno of a refused move", async () => {
    const cg = `${cgroup2}/pcshare-test-${process.pid}`;
    mkdirSync(cg);
    const pid = await client.spawn(["/bin/sleep", "30"], { maxMs: 20_000 });
    try {
      await client.cgroupAttach(pid, cg);
      expect(readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n")).toContain(`0::/pcshare-test-${process.pid}`);
      expect((await remoteError(client.cgroupAttach(pid, path.join(cg, "missing")))).errname).toBe("ENOENT");
    } finally {
      await client.procKill(pid);
      rmdirSync(cg);
    }
    // The helper is gone: its pid names no process now.
    expect((await remoteError(client.cgroupAttach(pid, cgroup2!))).errname).toBe("ESRCH");
  });
});

describe.runIf(isRoot)("fs_mount (new mount API)", () => {
  it("reports the refused parameter, the step and the kernel's log message", async () => {
    const r = await client.fsMount({ fstype: "tmpfs", params: [{ key: "nosuchopt" }] });
    expect(r).toMatchObject({ result: "EINVAL", errno: 22, failed_at: "fsconfig:nosuchopt" });
    expect(r.log.some((m) => m.startsWith("e ") && m.includes("nosuchopt"))).toBe(true);
    expect(r.log.every((m) => !m.endsWith("\n"))).toBe(true);
  });

  it("mounts at a target with fsmount + move_mount, reconfigures with fspick", async () => {
    const target = path.join(dir, "mnt");
    const r = await client.fsMount({ fstype: "tmpfs", params: [{ key: "size", value: "1m" }], target });
    expect(r).toMatchObject({ result: "ok", failed_at: null });
    try {
      expect(readFileSync("/proc/self/mounts", "utf8")).toContain(target);
      const p = await client.fsMount({ pick: target, params: [{ key: "size", value: "2m" }] });
      expect(p.result).toBe("ok");
      const bad = await client.fsMount({ pick: target, params: [{ key: "nosuchopt" }] });
      expect(bad.failed_at).toBe("fsconfig:nosuchopt");
    } finally {
      await client.umount(target, ["detach"]);
    }
  });

  it("needs exactly one of fstype and pick", async () => {
    expect((await remoteError(client.fsMount({ params: [] }))).message).toMatch(/exactly one/);
  });
});
