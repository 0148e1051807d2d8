// The plain-text lines of a reproducer bundle's steps (pure; no guest): each agent request as a
// reviewer reads it, in particular the new mount API and the probes explore's programs send.
import { describe, expect, it } from "vitest";
import { describeRequest, stepLines } from "../../harness/repro/describe.ts";
import type { RecordedStep } from "../../harness/runner/steps.ts";

describe("describeRequest", () => {
  it("shows a new-API mount as mount(8) options and the calls it makes", () => {
    const params = [{ key: "source", value: "/dev/disk/pcshare/x" }, { key: "ro" }, { key: "inode_share" }, { key: "domain_id", value: "d2" }];
    expect(describeRequest({ op: "fs_mount", fstype: "erofs", params, target: "/mnt/x-1" })).toBe(
      "mount -t erofs -o ro,inode_share,domain_id=d2 /dev/disk/pcshare/x /mnt/x-1 (fsopen, fsconfig per option, fsmount, move_mount)",
    );
  });

  it("shows an fspick reconfigure with the mount it picks", () => {
    expect(describeRequest({ op: "fs_mount", pick: "/mnt/x-1", params: [{ key: "inode_share" }, { key: "domain_id", value: "d1" }] })).toBe(
      "reconfigure /mnt/x-1 -o inode_share,domain_id=d1 (fspick, fsconfig per option, FSCONFIG_CMD_RECONFIGURE)",
    );
  });

  it("shows an open probe with its flags and a sendfile/splice copy with its range", () => {
    expect(describeRequest({ op: "open_probe", path: "/mnt/x-1/a.bin", flags: ["O_RDONLY", "O_DIRECT"] })).toBe("open(2) /mnt/x-1/a.bin O_RDONLY,O_DIRECT");
    expect(describeRequest({ op: "copy_hash", path: "/mnt/x-1/a.bin", method: "splice", offset: 4096, length: 512 })).toBe(
      "splice /mnt/x-1/a.bin from 4096 (512 B) into a pipe and XXH64 it",
    );
    expect(describeRequest({ op: "copy_hash", path: "/mnt/x-1/a.bin", method: "sendfile" })).toBe("sendfile /mnt/x-1/a.bin into a pipe and XXH64 it");
  });
});

describe("stepLines", () => {
  it("numbers the steps, leaves out kernel-log reads and folds repeats into one line", () => {
    const step = (id: number, request: Record<string, unknown>): RecordedStep => ({ id, request, delayMs: 0 });
    const read = { op: "read_hash", path: "/mnt/x-1/a.bin" };
    expect(stepLines([step(1, { op: "kmsg" }), step(2, read), step(3, read), step(4, { op: "umount", target: "/mnt/x-1" })])).toEqual([
      "1. read(2) /mnt/x-1/a.bin and XXH64 it (2 times)",
      "2. umount /mnt/x-1",
    ]);
  });
});
