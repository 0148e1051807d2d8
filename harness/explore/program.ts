// Owns: what an exploration program is: the guest operations with their arguments (data only, JSON-safe,
// so a program can be saved as a regression case and replayed), and how an operation's references
// (a mount slot, a file index) resolve against the live state. Both the model and the executor resolve
// through these functions, so they always agree on which mount and file an operation means.

/** Mount options a program may ask for; `domain` undefined means no domain_id= at all. */
export interface MountOptionSet {
  share: boolean;
  domain?: string;
  /** Pass nothing but this raw data string instead (option-parsing edge cases, e.g. "noinode_share"). */
  raw?: string;
}

/** "bdev": the image's virtio disk; "file": a copy of the image mounted file-backed; "loop": that copy
 * through a loop device of its own (a block device: block-device address-space operations, but a
 * superblock of its own even where the same image is mounted from its disk). */
export type Backing = "bdev" | "file" | "loop";

/** A reference to a live mount (index modulo the live mounts, in mount order) and a regular file of its image. */
export interface FileRef {
  slot: number;
  file: number;
}

/** mount(2) with a data string, or the new mount API (fsopen, fsconfig per option, fsmount, move_mount). */
export type MountApi = "mount" | "fsmount";

export type Op =
  | { op: "mount"; image: number; backing: Backing; opts: MountOptionSet; api?: MountApi }
  | { op: "remount"; slot: number; data: string; api?: MountApi }
  | { op: "read"; at: FileRef; method: "read" | "pread" | "readv" | "preadv" | "mmap"; offset: number; length: number }
  | { op: "copy"; at: FileRef; method: "sendfile" | "splice"; offset: number; length: number }
  | { op: "odirect"; at: FileRef }
  /** `like`: b is the file of b's mount with a's content (else a's path, else b's index): the pairs that may share. */
  | { op: "frames"; a: FileRef; b: FileRef; like?: boolean }
  /** Read the file whole, fadvise(DONTNEED) it, then count its resident pages (mincore). */
  | { op: "fadvise"; at: FileRef }
  | { op: "drop_caches" }
  | { op: "hold"; at: FileRef }
  | { op: "release"; hold: number }
  | { op: "umount"; slot: number; lazy: boolean }
  | { op: "reader"; at: FileRef; ms: number }
  /** cgroup v2: create the next child cgroup of the root (memory controller on); cgroups are named by creation order. */
  | { op: "cgcreate" }
  /** Write memory.max (bytes, or "max") of a live cgroup (index modulo the live cgroups). */
  | { op: "cglimit"; cg: number; max: number | "max" }
  /** Read a file whole (sha256sum) from a process inside a live cgroup. */
  | { op: "cgread"; cg: number; at: FileRef }
  /** Move a live hold's helper process (index modulo the live holds) into a live cgroup. */
  | { op: "cgmove"; cg: number; hold: number }
  /** Remove a live cgroup (rmdir). */
  | { op: "cgrmdir"; cg: number };

export interface Program {
  /** Image names (fixture or generated), referred to by index from mount ops. */
  images: string[];
  ops: Op[];
}

/** The mount data string of an option set, as passed to mount(2). */
export function mountData(o: MountOptionSet): string {
  if (o.raw !== undefined) return o.raw;
  const parts: string[] = [];
  if (o.share) parts.push("inode_share");
  if (o.domain !== undefined) parts.push(`domain_id=${o.domain}`);
  return parts.join(",");
}

/** The backing a mount op gets on a kernel: file-backed mounts fall back to the block device where the kernel has none. */
export function backingOn(backing: Backing, fileBacked: boolean): Backing {
  return backing === "file" && !fileBacked ? "bdev" : backing;
}

/** The element `slot` refers to (modulo the list's length), or undefined when the list is empty. */
export function pick<T>(list: readonly T[], index: number): T | undefined {
  return list.length ? list[((index % list.length) + list.length) % list.length] : undefined;
}

/** One line per operation, for reports and regression cases. */
export function describeOp(op: Op): string {
  const ref = (r: FileRef) => `mount#${r.slot}:file#${r.file}`;
  switch (op.op) {
    case "mount":
      return `mount image#${op.image} (${op.backing}${op.api === "fsmount" ? ", fsopen/fsmount" : ""}) -o ${JSON.stringify(mountData(op.opts))}`;
    case "remount":
      return `remount mount#${op.slot}${op.api === "fsmount" ? " (fspick/reconfigure)" : ""} -o ${JSON.stringify(op.data)}`;
    case "read":
      return op.method === "read" ? `read ${ref(op.at)}` : `${op.method} ${ref(op.at)} at ${op.offset} len ${op.length}`;
    case "copy":
      return `${op.method} ${ref(op.at)} at ${op.offset} len ${op.length} into a pipe`;
    case "odirect":
      return `open O_DIRECT ${ref(op.at)}`;
    case "frames":
      return `compare page frames ${ref(op.a)} vs ${op.like ? `mount#${op.b.slot}:the same content` : ref(op.b)}`;
    case "fadvise":
      return `read, fadvise DONTNEED and count resident pages of ${ref(op.at)}`;
    case "drop_caches":
      return "drop_caches";
    case "hold":
      return `hold open+mapped ${ref(op.at)}`;
    case "release":
      return `release hold#${op.hold}`;
    case "umount":
      return `umount mount#${op.slot}${op.lazy ? " (lazy)" : ""}`;
    case "reader":
      return `concurrent reader on ${ref(op.at)} for ${op.ms} ms`;
    case "cgcreate":
      return "create a cgroup";
    case "cglimit":
      return `set memory.max of cgroup#${op.cg} to ${op.max === "max" ? "max" : `${op.max / (1 << 20)} MiB`}`;
    case "cgread":
      return `read ${ref(op.at)} from inside cgroup#${op.cg}`;
    case "cgmove":
      return `move hold#${op.hold}'s process into cgroup#${op.cg}`;
    case "cgrmdir":
      return `remove cgroup#${op.cg}`;
  }
}
