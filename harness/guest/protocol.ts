// Wire protocol of pcshare-agent (version 1): JSON lines, one request -> one reply, matched by `id`.
// Field names are exactly what travels on the wire (snake_case); binary data is base64 (`*_b64`).
// The C side lives in ./agent/; keep both in step and bump AGENT_PROTOCOL_VERSION on breaking changes.

export const AGENT_PROTOCOL_VERSION = 2;
export const AGENT_NAME = "pcshare-agent";
/** Name of the virtio-serial port the agent looks for in the guest. */
export const AGENT_PORT_NAME = "pcshare.agent";
/** Longest request line the agent accepts (bytes, without the newline). */
export const AGENT_MAX_LINE = 1024 * 1024;
/** Cap on each of exec's stdout/stderr (bytes); beyond it `*_truncated` is true. */
export const AGENT_EXEC_OUTPUT_CAP = 4 * 1024 * 1024;

export type OpenFlag =
  | "O_RDONLY" | "O_WRONLY" | "O_RDWR" | "O_DIRECT" | "O_NOATIME" | "O_PATH" | "O_DIRECTORY"
  | "O_NOFOLLOW" | "O_SYNC" | "O_DSYNC" | "O_NONBLOCK" | "O_LARGEFILE" | "O_CREAT" | "O_EXCL"
  | "O_TRUNC" | "O_APPEND" | "O_TMPFILE" | "O_NOCTTY" | "O_CLOEXEC";

export type MountFlag =
  | "ro" | "rw" | "remount" | "bind" | "rec" | "move" | "nosuid" | "nodev" | "noexec" | "sync"
  | "dirsync" | "mandlock" | "noatime" | "nodiratime" | "relatime" | "strictatime" | "lazytime"
  | "silent" | "private" | "shared" | "slave" | "unbindable";

export type UmountFlag = "detach" | "force" | "expire" | "nofollow";

export type FadviseAdvice = "normal" | "random" | "sequential" | "willneed" | "dontneed" | "noreuse";

/** A byte range of a file; `length` omitted = to end of file. */
export interface RangeArgs {
  offset?: number;
  length?: number;
}

export interface HelloReply {
  version: number;
  agent: string;
  uptime_ms: number;
  kernel_release: string;
}

export interface ExecArgs {
  argv: string[];
  timeout_ms: number;
  stdin_b64?: string;
  /** Added to (overriding) the agent's own environment. */
  env?: Record<string, string>;
  cwd?: string;
}
export interface ExecReply {
  exit_code: number | null;
  signal: number | null;
  timed_out: boolean;
  stdout_b64: string;
  stderr_b64: string;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  duration_ms: number;
}

export interface ReadFileArgs {
  path: string;
  /** Default 1 MiB, at most 64 MiB. */
  max_bytes?: number;
}
export interface ReadFileReply {
  data_b64: string;
  /** Bytes returned. */
  size: number;
  /** The file had more than max_bytes. */
  truncated: boolean;
}

export interface WriteFileArgs {
  path: string;
  data_b64: string;
  append?: boolean;
}
export interface WriteFileReply {
  bytes: number;
}

export interface ReadHashArgs {
  path: string;
  /** read(2) size; default 1 MiB. */
  block_size?: number;
}
export interface ReadHashReply {
  size: number;
  xxh64: string;
  duration_ms: number;
}

export interface HashFilesArgs {
  /** at most 4096 */
  paths: string[];
  /** read(2) size; default 1 MiB. */
  block_size?: number;
  /** XXH64 of the paths' UTF-8 bytes, each followed by a NUL: the agent refuses a list that arrived altered */
  paths_xxh64?: string;
}
/** One file of hash_files: its size and XXH64, or the call that failed and its errno. */
export type HashedFile = { size: number; xxh64: string } | { error: "open" | "read"; errno: number; errname: string };
export interface HashFilesReply {
  /** the same digest computed over the paths as received */
  paths_xxh64: string;
  /** in request order */
  files: HashedFile[];
  duration_ms: number;
}

export interface PageFramesArgs extends RangeArgs {
  paths: string[];
}
export interface PageFramesFile {
  path: string;
  size: number;
  pages: number;
  present: number;
  /** One entry per page of the range; null when not present. PFNs read 0 without CAP_SYS_ADMIN. */
  pfns: (number | null)[];
}
export interface PageFramesReply {
  files: PageFramesFile[];
}

export interface MincoreArgs extends RangeArgs {
  path: string;
}
export interface MincoreReply {
  pages: number;
  resident: number;
}

export interface FadviseArgs extends RangeArgs {
  path: string;
  advice: FadviseAdvice;
}

export interface OpenProbeArgs {
  path: string;
  flags: OpenFlag[];
}

export interface CachestatArgs extends RangeArgs {
  path: string;
}
export interface CachestatReply {
  cache: number;
  dirty: number;
  writeback: number;
  evicted: number;
  recently_evicted: number;
}

export interface MountArgs {
  source?: string;
  target: string;
  fstype?: string;
  flags?: MountFlag[];
  /** Passed to mount(2) untouched, e.g. "inode_share,domain_id=x". */
  data?: string;
}

export interface UmountArgs {
  target: string;
  flags?: UmountFlag[];
}

export interface MeminfoReply {
  /** /proc/meminfo: values in kB, HugePages_* counts as plain numbers. */
  fields: Record<string, number>;
}

export interface KmsgRecord {
  seq: number;
  level: number;
  ts_us: number;
  text: string;
}
export interface KmsgReply {
  records: KmsgRecord[];
}

export interface FsParam {
  key: string;
  /** A string value (FSCONFIG_SET_STRING); absent: a flag (FSCONFIG_SET_FLAG). */
  value?: string;
}
export interface FsMountArgs {
  /** fsopen(fstype) + params + FSCONFIG_CMD_CREATE (+ fsmount/move_mount with target). */
  fstype?: string;
  /** fspick(path) + params + FSCONFIG_CMD_RECONFIGURE (instead of fstype). */
  pick?: string;
  params: FsParam[];
  target?: string;
}
export interface FsMountReply {
  /** "ok" or the errno name of the step that failed. */
  result: string;
  errno: number | null;
  /** "fsopen" | "fspick" | "fsconfig:<key>" | "create" | "reconfigure" | "fsmount" | "move_mount", null when ok. */
  failed_at: string | null;
  /** Messages read from the fs context fd: "e <text>", "w <text>", "i <text>". */
  log: string[];
}

/** mmap: the bytes read through a shared read-only mapping of the range (clamped to the file size). */
export type ReadMethod = "read" | "pread" | "readv" | "preadv" | "mmap";
export interface ReadAtArgs {
  path: string;
  method: ReadMethod;
  offset?: number;
  /** Buffer sizes: one for read/pread, 1..64 for readv/preadv. */
  iov: number[];
}
export interface ReadAtReply {
  /** The syscall's return value. */
  bytes: number;
  data_b64: string;
}

export interface CopyHashArgs extends RangeArgs {
  path: string;
  method: "sendfile" | "splice";
}
export interface CopyHashReply {
  bytes: number;
  xxh64: string;
  /** sendfile/splice calls made (the last returns 0 at EOF unless length stopped first). */
  calls: number;
}

export interface StatxReply {
  mask: number;
  blksize: number;
  size: number;
  blocks: number;
  /** null when the kernel did not report STATX_DIOALIGN / STATX_DIO_READ_ALIGN. */
  dio_mem_align: number | null;
  dio_offset_align: number | null;
  dio_read_offset_align: number | null;
}

/** One xattr as the agent read it: name and value as base64, or the errno name of a failed getxattr. */
export interface XattrWire {
  name: string;
  value?: string;
  errname?: string;
}
export interface XattrsReply {
  /** every name llistxattr returned, each read with lgetxattr */
  listed: XattrWire[];
  /** lgetxattr of each name asked for */
  asked: XattrWire[];
}

export type FcntlProbe = "setfl_odirect" | "setlease_rdlck";
export interface FcntlProbeReply {
  /** setfl_odirect: F_GETFL shows O_DIRECT after F_SETFL. */
  direct?: boolean;
  /** setfl_odirect: bytes of one aligned 4 KiB pread at 0 afterwards (null when it failed). */
  read?: number | null;
  read_errname?: string | null;
  xxh64?: string;
  /** setlease_rdlck: F_GETLEASE after the lease was taken. */
  lease?: "rdlck" | "wrlck" | "unlck" | "error";
}

export type SeekWhence = "set" | "cur" | "end" | "data" | "hole";

export interface MapHoldArgs {
  path: string;
  /** PROT_EXEC too. */
  exec?: boolean;
  /** MAP_PRIVATE instead of MAP_SHARED. */
  private?: boolean;
  /** With private: map writable and fill this page (0-based) with 0xa5, a copy-on-write fault. */
  write_page?: number;
  /** The helper ends itself after this long (default 60 s, at most 600 s). */
  max_ms?: number;
}
export interface ProcMapping {
  start: number;
  end: number;
  perms: string;
  offset: number;
  pfns: (number | null)[];
}

/** One mount that remount_race cycles (always erofs, read-only). */
export interface RaceMount {
  source: string;
  target: string;
  data?: string;
}
export interface RemountRaceArgs {
  mounts: RaceMount[];
  /** Whether the mounts are mounted when the race starts (they are left in that state at the end). */
  mounted: boolean;
  /** Files the reader threads read (all with the same content); read_paths[0] gives the reference bytes. */
  read_paths: string[];
  /** Expected XXH64 of read_paths[0], checked before the race. */
  xxh64: string;
  /** Path inside each churned mount that is looked up and read after every mount (absent: none is). */
  lookup?: string;
  umount_flags?: "detach"[];
  /** Reader threads, 1..16 (default 2). */
  readers?: number;
  /** read(2) size in bytes (default 64 KiB). */
  chunk?: number;
  budget_ms: number;
  max_cycles?: number;
  /** Picks which mount each cycle churns. */
  seed?: number;
  /** Mount a fresh copy of each (file) source every cycle and remove it right after mounting. */
  copy_source?: boolean;
}
export interface RemountRaceReply {
  /** Completed unmount(if mounted)/mount/lookup-and-read cycles. */
  cycles: number;
  /** Whole-file reads the reader threads completed. */
  reads: number;
  /** Reads (readers' or lookups') whose bytes differed from the reference. */
  wrong: number;
  /** Reader opens that failed (a churned mount between unmount and mount). */
  missing: number;
  wrong_at: string | null;
  /** A failed mount/umount/open in the cycle loop. */
  error: string | null;
  /** The first kernel log line that looked like a report (BUG, Oops, WARNING, busy inodes...). */
  report: string | null;
  /** How the worker process ended: exited | killed (after a report or the deadline) | stuck (unkillable) | signalled | failed. */
  worker: string;
  elapsed_ms: number;
  first_cycle_ms: number;
  max_cycle_ms: number;
}

export type Empty = Record<string, never>;

/** Every op: its request arguments and its reply (beyond id/ok). */
export interface AgentOps {
  hello: { args: Empty; reply: HelloReply };
  /** A guest restored from a snapshot: set the wall clock (ms since the epoch), reseed the RNG. */
  resume: { args: { realtime_ms: number; seed_b64: string }; reply: Empty };
  exec: { args: ExecArgs; reply: ExecReply };
  read_file: { args: ReadFileArgs; reply: ReadFileReply };
  write_file: { args: WriteFileArgs; reply: WriteFileReply };
  read_hash: { args: ReadHashArgs; reply: ReadHashReply };
  hash_files: { args: HashFilesArgs; reply: HashFilesReply };
  page_frames: { args: PageFramesArgs; reply: PageFramesReply };
  mincore: { args: MincoreArgs; reply: MincoreReply };
  fadvise: { args: FadviseArgs; reply: Empty };
  open_probe: { args: OpenProbeArgs; reply: Empty };
  cachestat: { args: CachestatArgs; reply: CachestatReply };
  mount: { args: MountArgs; reply: Empty };
  umount: { args: UmountArgs; reply: Empty };
  meminfo: { args: Empty; reply: MeminfoReply };
  kmsg: { args: Empty; reply: KmsgReply };
  sync: { args: Empty; reply: Empty };
  poweroff: { args: Empty; reply: Empty };
  fs_mount: { args: FsMountArgs; reply: FsMountReply };
  read_at: { args: ReadAtArgs; reply: ReadAtReply };
  copy_hash: { args: CopyHashArgs; reply: CopyHashReply };
  statx: { args: { path: string }; reply: StatxReply };
  xattrs: { args: { path: string; names?: string[] }; reply: XattrsReply };
  fcntl_probe: { args: { path: string; probe: FcntlProbe }; reply: FcntlProbeReply };
  fslabel: { args: { path: string }; reply: { label: string } };
  lseek: { args: { path: string; whence: SeekWhence; offset: number }; reply: { offset: number } };
  map_hold: { args: MapHoldArgs; reply: { pid: number; length: number } };
  spawn: { args: { argv: string[]; max_ms?: number }; reply: { pid: number } };
  proc_kill: { args: { pid: number; signal?: number }; reply: { reaped: boolean; status: number } };
  proc_frames: { args: { pid: number; path: string }; reply: { mappings: ProcMapping[] } };
  cgroup_attach: { args: { pid: number; cgroup: string }; reply: Empty };
  remount_race: { args: RemountRaceArgs; reply: RemountRaceReply };
}

export type AgentOp = keyof AgentOps;

export type AgentRequest<K extends AgentOp = AgentOp> = { id: number; op: K } & AgentOps[K]["args"];

export type AgentOkReply<K extends AgentOp = AgentOp> = { id: number; ok: true } & AgentOps[K]["reply"];

export interface AgentErrorReply {
  /** null when the agent could not tell which request failed (e.g. unparseable line without an id). */
  id: number | null;
  ok: false;
  error: string;
  /** Present when a syscall failed. */
  errno?: number;
  errname?: string;
}

export type AgentReply<K extends AgentOp = AgentOp> = AgentOkReply<K> | AgentErrorReply;
