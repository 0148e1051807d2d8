// The step file of a reproducer bundle, from recorded steps and checks (pure; no guest): which step a
// check judged, which checks the guest can judge again and with what value, pid references, pauses.
import { describe, expect, it } from "vitest";
import { expectationFor, guestCheckName, guestSteps, mountDirAt, sourceDigestOf, stepOfCheck } from "../../harness/repro/guest-steps.ts";
import type { RecordedStep } from "../../harness/runner/steps.ts";
import type { Check } from "../../harness/report/model.ts";

const SHA_A = "a".repeat(16);
const SHA_B = "b".repeat(16);

const steps: RecordedStep[] = [
  { id: 5, request: { op: "mount", source: "/dev/disk/pcshare/share-a", target: "/mnt/share-a-1", data: "" }, delayMs: 3, reply: { id: 5, ok: true }, checksAtReply: 0 },
  { id: 6, request: { op: "mount", source: "/dev/disk/pcshare/share-b", target: "/mnt/b", data: "inode_share" }, delayMs: 0, reply: { id: 6, ok: false, errname: "EINVAL" }, checksAtReply: 1 },
  { id: 7, request: { op: "spawn", argv: ["/bin/sleep", "9"] }, delayMs: 250, reply: { id: 7, ok: true, pid: 4242 }, checksAtReply: 2 },
  { id: 8, request: { op: "read_hash", path: "/mnt/share-a-1/data/big.bin" }, delayMs: 60_000, reply: { id: 8, ok: true, xxh64: SHA_B }, checksAtReply: 2 },
  { id: 9, request: { op: "proc_kill", pid: 4242 }, delayMs: 0, reply: { id: 9, ok: true, reaped: true }, checksAtReply: 4 },
];

const checks: Check[] = [
  { name: "plain mount works", ok: true, expected: "ok", seen: "ok" },
  { name: "inode_share without domain_id refused", ok: false, expected: "ok", seen: "EINVAL" },
  { name: "read(2) of big.bin", ok: false, expected: SHA_A, seen: SHA_B },
  { name: "frames shared", ok: false, expected: "shared", seen: "separate" },
];

describe("stepOfCheck", () => {
  it("ties a check to the last reply received before it was recorded", () => {
    expect(stepOfCheck(steps, 0)?.id).toBe(5);
    expect(stepOfCheck(steps, 1)?.id).toBe(6);
    expect(stepOfCheck(steps, 2)?.id).toBe(8);
    expect(stepOfCheck(steps, 3)?.id).toBe(8);
  });

  it("ties a digest check to the latest earlier reply with that XXH64, when later replies came first", () => {
    const later: RecordedStep = { id: 10, request: { op: "meminfo" }, delayMs: 0, reply: { id: 10, ok: true }, checksAtReply: 4 };
    expect(stepOfCheck([...steps, later], 4, checks[2])?.id).toBe(8);
    expect(stepOfCheck([...steps, later], 4, checks[3])?.id).toBe(10);
  });

  it("prefers the reply that read the path a digest check names, when two files have the same bytes", () => {
    const readB: RecordedStep = { id: 12, request: { op: "read_hash", path: "/mnt/b/copy.bin" }, delayMs: 0, reply: { id: 12, ok: true, xxh64: SHA_B }, checksAtReply: 2 };
    const named: Check = { name: "/mnt/share-a-1/data/big.bin reads its own bytes", ok: true, expected: SHA_B, seen: SHA_B };
    expect(stepOfCheck([...steps.slice(0, 4), readB], 2, named)?.id).toBe(8);
    expect(stepOfCheck([...steps.slice(0, 4), readB], 2, { ...named, name: "bytes" })?.id).toBe(12);
  });

  it("has none for a check recorded before any reply", () => {
    expect(stepOfCheck([{ ...steps[0], checksAtReply: 1 }], 0)).toBeUndefined();
  });
});

describe("expectationFor", () => {
  it("judges an errno check by the reply's errno name, with the correct kernel's value", () => {
    expect(expectationFor(checks[1], steps[1])).toEqual({ check: checks[1].name, errno: "ok" });
  });

  it("judges a digest check by the reply's xxh64 field", () => {
    expect(expectationFor(checks[2], steps[3])).toEqual({ check: checks[2].name, field: "xxh64", equals: SHA_A });
  });

  it("judges explore's page-frames check of two files by the frames of the reply", () => {
    const frames: RecordedStep = { id: 11, request: { op: "page_frames", paths: ["/mnt/a/x", "/mnt/b/x"] }, delayMs: 0, reply: { id: 11, ok: true, files: [] } };
    const c: Check = { name: "page frames shared: expected yes, seen no", ok: false, expected: "yes", seen: "no" };
    expect(expectationFor(c, frames)).toEqual({ check: "page frames shared: expected yes", frames: "yes" });
    expect(expectationFor({ ...c, expected: "shared", seen: "separate" }, frames)).toBeUndefined();
    expect(expectationFor(c, { ...frames, request: { op: "page_frames", paths: ["/mnt/a/x"] } })).toBeUndefined();
  });

  it("names an explore check without the value its run saw, so that a replay that passes does not print it", () => {
    const open: RecordedStep = { id: 12, request: { op: "open_probe", path: "/mnt/a/x", flags: ["O_RDONLY", "O_DIRECT"] }, delayMs: 0, reply: { id: 12, ok: true } };
    const c: Check = { name: "open O_DIRECT: expected EINVAL, seen ok (a shared file refuses O_DIRECT (F3)) @ #2 open O_DIRECT mount#0:file#0", ok: false, expected: "EINVAL", seen: "ok" };
    expect(expectationFor(c, open)).toEqual({ check: "open O_DIRECT: expected EINVAL (a shared file refuses O_DIRECT (F3)) @ #2 open O_DIRECT mount#0:file#0", errno: "EINVAL" });
    expect(guestCheckName({ ...c, name: "seen ok, expected EINVAL" })).toBe("seen ok, expected EINVAL");
  });

  it("judges explore's 'mountinfo lists OPTION' check by the mountinfo read, for the mount it names", () => {
    const read: RecordedStep = { id: 13, request: { op: "read_file", path: "/proc/self/mountinfo" }, delayMs: 0, reply: { id: 13, ok: true, data_b64: "" } };
    const c: Check = { name: "mountinfo lists inode_share: expected not listed, seen listed (O3) @ #8 remount mount#0", ok: false, expected: "not listed", seen: "listed" };
    expect(expectationFor(c, read, undefined, "/mnt/a-1")).toEqual({ check: "mountinfo lists inode_share: expected not listed (O3) @ #8 remount mount#0", mountinfo: "/mnt/a-1", option: "inode_share", listed: "not listed" });
    expect(expectationFor(c, read)).toBeUndefined(); // no mount before it
    expect(expectationFor({ ...c, expected: "unspecified" }, read, undefined, "/mnt/a-1")).toBeUndefined();
    expect(expectationFor(c, { ...read, request: { op: "read_file", path: "/proc/mounts" } }, undefined, "/mnt/a-1")).toBeUndefined();
  });

  it("leaves a check alone whose seen value is not in the reply", () => {
    expect(expectationFor(checks[3], steps[3])).toBeUndefined();
    expect(expectationFor({ ...checks[1], seen: "ENOENT" }, steps[1])).toBeUndefined();
  });

  it("turns 'source bytes' of a read(2) into the image file's XXH64", () => {
    const c: Check = { name: "read(2) of the whole file: expected source bytes", ok: false, expected: "source bytes", seen: "other bytes" };
    const sha = sourceDigestOf(steps, new Map([["share-a", new Map([["/data/big.bin", SHA_A]])]]));
    expect(expectationFor(c, steps[3], sha)).toEqual({ check: c.name, field: "xxh64", equals: SHA_A });
    expect(expectationFor(c, steps[3])).toBeUndefined();
  });
});

describe("sourceDigestOf", () => {
  it("maps guest paths below recorded mount targets to the image's files, block device or file-backed copy", () => {
    const fileBacked: RecordedStep = { id: 1, request: { op: "mount", source: "/run/pcshare-backing/share-b.erofs", target: "/mnt/share-b-2" }, delayMs: 0 };
    const files = new Map([["share-a", new Map([["/data/big.bin", SHA_A]])], ["share-b", new Map([["/x", SHA_B]])]]);
    const sha = sourceDigestOf([...steps, fileBacked], files);
    expect(sha("/mnt/share-a-1/data/big.bin")).toBe(SHA_A);
    expect(sha("/mnt/share-b-2/x")).toBe(SHA_B);
    expect(sha("/mnt/share-a-10/data/big.bin")).toBeUndefined();
    expect(sha("/proc/mounts")).toBeUndefined();
  });
});

describe("mountDirAt", () => {
  it("names the target of the last mount, remount or fspick reconfigure up to a step", () => {
    const more: RecordedStep[] = [
      ...steps,
      { id: 20, request: { op: "fs_mount", fstype: "erofs", params: [], target: "/mnt/c-3/" }, delayMs: 0 },
      { id: 21, request: { op: "read_file", path: "/proc/self/mountinfo" }, delayMs: 0 },
      { id: 22, request: { op: "fs_mount", pick: "/mnt/share-a-1", params: [] }, delayMs: 0 },
    ];
    expect(mountDirAt(more, 5)).toBe("/mnt/share-a-1");
    expect(mountDirAt(more, 9)).toBe("/mnt/b");
    expect(mountDirAt(more, 21)).toBe("/mnt/c-3");
    expect(mountDirAt(more, 22)).toBe("/mnt/share-a-1");
    expect(mountDirAt(more, 4)).toBeUndefined();
  });
});

describe("guestSteps", () => {
  const g = guestSteps(steps, checks);
  const lines = g.lines.map((l) => JSON.parse(l));

  it("keeps every request in order with its id", () => {
    expect(lines.map((l) => [l.id, l.op])).toEqual([[5, "mount"], [6, "mount"], [7, "spawn"], [8, "read_hash"], [9, "proc_kill"]]);
  });

  it("keeps the host's pauses from 20 ms on, capped at 10 s", () => {
    expect(lines.map((l) => l._delay_ms)).toEqual([undefined, undefined, 250, 10_000, undefined]);
  });

  it("points a pid at the step whose reply returned it", () => {
    expect(lines[4]._pid_of).toBe(7);
    expect(lines[4].pid).toBe(4242);
  });

  it("attaches the guest-judged checks to their steps and says which checks only pcshare judges", () => {
    expect(lines[0]._expect).toEqual([{ check: "plain mount works", errno: "ok" }]);
    expect(lines[1]._expect).toEqual([{ check: "inode_share without domain_id refused", errno: "ok" }]);
    expect(lines[3]._expect).toEqual([{ check: "read(2) of big.bin", field: "xxh64", equals: SHA_A }]);
    expect(g.judged.map((j) => j.step)).toEqual([5, 6, 8, undefined]);
  });
});
