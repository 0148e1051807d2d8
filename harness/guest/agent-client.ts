// Host side of the pcshare-agent protocol: JSON-line requests over any Duplex (QEMU chardev socket in
// production, the agent's stdio in tests), replies matched by id, typed wrappers for every op.
import type { Duplex } from "node:stream";
import type {
  AgentOp,
  AgentOps,
  AgentReply,
  CachestatReply,
  CopyHashReply,
  FadviseAdvice,
  FcntlProbe,
  FcntlProbeReply,
  FsMountArgs,
  FsMountReply,
  HashFilesReply,
  MapHoldArgs,
  ProcMapping,
  ReadMethod,
  SeekWhence,
  StatxReply,
  HelloReply,
  KmsgRecord,
  MincoreReply,
  MountArgs,
  OpenFlag,
  PageFramesFile,
  RangeArgs,
  ReadHashReply,
  RemountRaceArgs,
  RemountRaceReply,
  UmountFlag,
  XattrWire,
} from "./protocol.ts";
import { xxh64Hex } from "../util/hash.ts";

/** One xattr read in the guest: its value, or null with the errno name of the failed getxattr. */
export interface Xattr {
  name: string;
  value: Buffer | null;
  errname: string | null;
}

export type AgentErrorCode = "timeout" | "closed" | "remote";

export class AgentError extends Error {
  readonly op: string;
  readonly code: AgentErrorCode;
  /** Set for "remote" errors caused by a failed syscall. */
  readonly errno?: number;
  readonly errname?: string;

  constructor(op: string, code: AgentErrorCode, message: string, errno?: number, errname?: string) {
    super(message);
    this.name = "AgentError";
    this.op = op;
    this.code = code;
    this.errno = errno;
    this.errname = errname;
  }
}

export interface CallOptions {
  /** How long to wait for the reply (default: the client's defaultTimeoutMs, 30 s). */
  timeoutMs?: number;
}

/** Sees every request sent and every reply matched to one (the runner records a case's steps through it). */
export interface AgentTap {
  request(id: number, op: string, args: Record<string, unknown>): void;
  reply(id: number, reply: Record<string, unknown>): void;
}

export interface AgentClientOptions {
  defaultTimeoutMs?: number;
  /** Replies that match no waiting call (id null, or the call already timed out). */
  onStrayReply?: (reply: Record<string, unknown>) => void;
}

export interface ExecOptions {
  /** Agent-side limit: the process group is SIGKILLed when it runs longer. */
  timeoutMs: number;
  stdin?: string | Uint8Array;
  /** Added to the agent's environment. */
  env?: Record<string, string>;
  cwd?: string;
}

export interface ExecResult {
  exitCode: number | null;
  signal: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
  stderrBytes: Buffer;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
}

export interface ReadFileResult {
  data: Buffer;
  /** The file had more than maxBytes. */
  truncated: boolean;
}

/** writeFile sends bigger payloads as several appends so each request line stays under the agent's limit. */
const WRITE_CHUNK = 512 * 1024;
/** Slack on top of exec's own timeout for the agent to kill, collect and reply. */
const EXEC_REPLY_SLACK_MS = 10_000;
/** Slack on top of remount_race's budget: grace to stop, kill and restore the mounts. */
const RACE_REPLY_SLACK_MS = 40_000;

interface Pending {
  op: string;
  resolve: (reply: Record<string, unknown>) => void;
  reject: (err: AgentError) => void;
  timer: NodeJS.Timeout;
}

export class AgentClient {
  private readonly stream: Duplex;
  private readonly defaultTimeoutMs: number;
  private readonly onStrayReply?: (reply: Record<string, unknown>) => void;
  private readonly pending = new Map<number, Pending>();
  private partial: Buffer[] = [];
  private nextId = 1;
  private closedReason: string | undefined;
  /** Set while something records the traffic (runner/steps.ts). */
  tap: AgentTap | undefined;

  constructor(stream: Duplex, options: AgentClientOptions = {}) {
    this.stream = stream;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 30_000;
    this.onStrayReply = options.onStrayReply;
    stream.on("data", (chunk: Buffer | string) => this.onData(typeof chunk === "string" ? Buffer.from(chunk) : chunk));
    stream.on("end", () => this.shutdown("agent stream ended"));
    stream.on("close", () => this.shutdown("agent stream closed"));
    stream.on("error", (err: Error) => this.shutdown(`agent stream error: ${err.message}`));
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Send one typed request and wait for its reply. */
  call<K extends AgentOp>(op: K, args: AgentOps[K]["args"], options: CallOptions = {}): Promise<AgentOps[K]["reply"]> {
    return this.callRaw(op, args as Record<string, unknown>, options) as Promise<AgentOps[K]["reply"]>;
  }

  /** Untyped escape hatch: any op name, any arguments; resolves with the reply minus id/ok. */
  callRaw(op: string, args: Record<string, unknown>, options: CallOptions = {}): Promise<Record<string, unknown>> {
    if (this.closedReason !== undefined) {
      return Promise.reject(new AgentError(op, "closed", `agent op "${op}": ${this.closedReason}`));
    }
    const id = this.nextId++;
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new AgentError(op, "timeout", `agent op "${op}" got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { op, resolve, reject, timer });
      this.tap?.request(id, op, args);
      this.stream.write(JSON.stringify({ id, op, ...args }) + "\n");
    });
  }

  /** Stop: fail waiting calls with "closed" and end our side of the stream (the --stdio agent then exits). */
  close(): void {
    this.shutdown("agent client closed");
    this.stream.end();
  }

  // ---- typed wrappers ----

  hello(options?: CallOptions): Promise<HelloReply> {
    return this.call("hello", {}, options);
  }

  async exec(argv: string[], options: ExecOptions): Promise<ExecResult> {
    const r = await this.call(
      "exec",
      {
        argv,
        timeout_ms: options.timeoutMs,
        ...(options.stdin !== undefined && { stdin_b64: Buffer.from(options.stdin).toString("base64") }),
        ...(options.env && { env: options.env }),
        ...(options.cwd !== undefined && { cwd: options.cwd }),
      },
      { timeoutMs: options.timeoutMs + EXEC_REPLY_SLACK_MS },
    );
    const stdoutBytes = Buffer.from(r.stdout_b64, "base64");
    const stderrBytes = Buffer.from(r.stderr_b64, "base64");
    return {
      exitCode: r.exit_code,
      signal: r.signal,
      timedOut: r.timed_out,
      stdout: stdoutBytes.toString("utf8"),
      stderr: stderrBytes.toString("utf8"),
      stdoutBytes,
      stderrBytes,
      stdoutTruncated: r.stdout_truncated,
      stderrTruncated: r.stderr_truncated,
      durationMs: r.duration_ms,
    };
  }

  async readFile(path: string, options: { maxBytes?: number } & CallOptions = {}): Promise<ReadFileResult> {
    const r = await this.call(
      "read_file",
      { path, ...(options.maxBytes !== undefined && { max_bytes: options.maxBytes }) },
      options,
    );
    return { data: Buffer.from(r.data_b64, "base64"), truncated: r.truncated };
  }

  /** Returns bytes written. Payloads over 512 KiB go as several appends (not one write(2)). */
  async writeFile(
    path: string,
    data: string | Uint8Array,
    options: { append?: boolean } & CallOptions = {},
  ): Promise<number> {
    const bytes = Buffer.from(data);
    let written = 0;
    let append = options.append ?? false;
    do {
      const chunk = bytes.subarray(written, written + WRITE_CHUNK);
      const r = await this.call("write_file", { path, data_b64: chunk.toString("base64"), append }, options);
      written += r.bytes;
      append = true;
      if (r.bytes < chunk.length) break; // short write to a special file: report what happened
    } while (written < bytes.length);
    return written;
  }

  readHash(path: string, options: { blockSize?: number } & CallOptions = {}): Promise<ReadHashReply> {
    return this.call("read_hash", { path, ...(options.blockSize !== undefined && { block_size: options.blockSize }) }, options);
  }

  /**
   * Read each file to its end with read(2) and hash it, in one request; results in the order of
   * `paths`, an errno per file that could not be opened or read. The agent checks the list against
   * its digest first, so a path altered on the way is a refused request, never a wrong open.
   */
  hashFiles(paths: string[], options: { blockSize?: number } & CallOptions = {}): Promise<HashFilesReply> {
    return this.call("hash_files", { paths, paths_xxh64: pathsDigest(paths), ...(options.blockSize !== undefined && { block_size: options.blockSize }) }, options);
  }

  async pageFrames(paths: string[], options: RangeArgs & CallOptions = {}): Promise<PageFramesFile[]> {
    const r = await this.call("page_frames", { paths, ...range(options) }, options);
    return r.files;
  }

  mincore(path: string, options: RangeArgs & CallOptions = {}): Promise<MincoreReply> {
    return this.call("mincore", { path, ...range(options) }, options);
  }

  async fadvise(path: string, advice: FadviseAdvice, options: RangeArgs & CallOptions = {}): Promise<void> {
    await this.call("fadvise", { path, advice, ...range(options) }, options);
  }

  /** Resolves when open(2) with these flags succeeds; rejects with AgentError (errname e.g. "EINVAL") otherwise. */
  async openProbe(path: string, flags: OpenFlag[], options?: CallOptions): Promise<void> {
    await this.call("open_probe", { path, flags }, options);
  }

  cachestat(path: string, options: RangeArgs & CallOptions = {}): Promise<CachestatReply> {
    return this.call("cachestat", { path, ...range(options) }, options);
  }

  async mount(args: MountArgs, options?: CallOptions): Promise<void> {
    await this.call("mount", args, options);
  }

  async umount(target: string, flags: UmountFlag[] = [], options?: CallOptions): Promise<void> {
    await this.call("umount", { target, flags }, options);
  }

  async meminfo(options?: CallOptions): Promise<Record<string, number>> {
    return (await this.call("meminfo", {}, options)).fields;
  }

  /** Kernel log records newer than the previous kmsg() call (the first call returns all buffered). */
  async kmsg(options?: CallOptions): Promise<KmsgRecord[]> {
    return (await this.call("kmsg", {}, options)).records;
  }

  async sync(options?: CallOptions): Promise<void> {
    await this.call("sync", {}, options);
  }

  /** The agent replies, then syncs and powers the guest off (in --stdio mode it just exits). */
  async poweroff(options?: CallOptions): Promise<void> {
    await this.call("poweroff", {}, options);
  }

  /** New mount API (fsopen/fspick + fsconfig ...): a refusal resolves with result = errno name and the fd's log. */
  async fsMount(args: FsMountArgs, options?: CallOptions): Promise<FsMountReply> {
    const r = await this.call("fs_mount", args, options);
    return { ...r, log: r.log.map((m) => m.replace(/\n$/, "")) };
  }

  /** One read/pread/readv/preadv at `offset` with buffers of the given sizes; returns what the call returned. */
  async readAt(path: string, method: ReadMethod, offset: number, iov: number[], options?: CallOptions): Promise<{ bytes: number; data: Buffer }> {
    const r = await this.call("read_at", { path, method, offset, iov }, options);
    return { bytes: r.bytes, data: Buffer.from(r.data_b64, "base64") };
  }

  /** Copy the file (or a range) with sendfile(2) or splice(2) into a pipe; XXH64 of what came out of it. */
  copyHash(path: string, method: "sendfile" | "splice", options: { offset?: number; length?: number } & CallOptions = {}): Promise<CopyHashReply> {
    return this.call("copy_hash", { path, method, ...range(options) }, options);
  }

  statx(path: string, options?: CallOptions): Promise<StatxReply> {
    return this.call("statx", { path }, options);
  }

  /**
   * Extended attributes of `path` (not following a symlink): every listed name with its value (or the
   * errno name of a failed getxattr), and getxattr of each of `names` (listed or not, e.g. a hidden one).
   */
  async xattrs(path: string, names: string[] = [], options?: CallOptions): Promise<{ listed: Xattr[]; asked: Xattr[] }> {
    const r = await this.call("xattrs", { path, names: names.map((n) => Buffer.from(n).toString("base64")) }, options);
    const decode = (x: XattrWire): Xattr => ({ name: Buffer.from(x.name, "base64").toString(), value: x.value === undefined ? null : Buffer.from(x.value, "base64"), errname: x.errname ?? null });
    return { listed: r.listed.map(decode), asked: r.asked.map(decode) };
  }

  /** F_SETFL O_DIRECT or F_SETLEASE F_RDLCK on an O_RDONLY fd; rejects with the errno when refused. */
  fcntlProbe(path: string, probe: FcntlProbe, options?: CallOptions): Promise<FcntlProbeReply> {
    return this.call("fcntl_probe", { path, probe }, options);
  }

  /** FS_IOC_GETFSLABEL; rejects with the errno (e.g. ENOTTY) when unsupported. */
  async fsLabel(path: string, options?: CallOptions): Promise<string> {
    return (await this.call("fslabel", { path }, options)).label;
  }

  /** lseek(2) on a fresh fd; rejects with the errno (ENXIO past EOF for data/hole). */
  async lseek(path: string, whence: SeekWhence, offset: number, options?: CallOptions): Promise<number> {
    return (await this.call("lseek", { path, whence, offset }, options)).offset;
  }

  /** A forked helper maps the whole file, touches every page and stays alive; end it with procKill. */
  async mapHold(
    path: string,
    opts: { exec?: boolean; private?: boolean; writePage?: number; maxMs?: number } = {},
    options?: CallOptions,
  ): Promise<number> {
    const args: MapHoldArgs = {
      path,
      ...(opts.exec !== undefined && { exec: opts.exec }),
      ...(opts.private !== undefined && { private: opts.private }),
      ...(opts.writePage !== undefined && { write_page: opts.writePage }),
    };
    if (opts.maxMs !== undefined) args.max_ms = opts.maxMs;
    return (await this.call("map_hold", args, options)).pid;
  }

  /** Start argv (argv[0] a path) in the background, stdio on /dev/null; returns its pid. */
  async spawn(argv: string[], opts: { maxMs?: number } = {}, options?: CallOptions): Promise<number> {
    return (await this.call("spawn", { argv, ...(opts.maxMs !== undefined && { max_ms: opts.maxMs }) }, options)).pid;
  }

  /** Signal (default SIGKILL) and reap a helper from mapHold/spawn. */
  procKill(pid: number, signal?: number, options?: CallOptions): Promise<{ reaped: boolean; status: number }> {
    return this.call("proc_kill", { pid, ...(signal !== undefined && { signal }) }, options);
  }

  /** The mappings of `path` in process `pid` with their current page frames (null: not present). */
  async procFrames(pid: number, path: string, options?: CallOptions): Promise<ProcMapping[]> {
    return (await this.call("proc_frames", { pid, path }, options)).mappings;
  }

  /**
   * Move helper `pid` (from mapHold/spawn) into the cgroup directory `cgroup` (its pid written to
   * cgroup.procs). A request field rather than file data: a reproducer's replay maps it to the live helper.
   */
  async cgroupAttach(pid: number, cgroup: string, options?: CallOptions): Promise<void> {
    await this.call("cgroup_attach", { pid, cgroup }, options);
  }

  /** Cycle mounts under reader threads until a kernel report, a wrong byte or the budget (see ops_race.c). */
  remountRace(args: RemountRaceArgs, options: CallOptions = {}): Promise<RemountRaceReply> {
    return this.call("remount_race", args, { timeoutMs: args.budget_ms + RACE_REPLY_SLACK_MS, ...options });
  }

  // ---- plumbing ----

  private onData(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.partial.push(chunk.subarray(start, nl));
      const line = Buffer.concat(this.partial).toString("utf8");
      this.partial = [];
      start = nl + 1;
      this.onLine(line);
    }
    if (start < chunk.length) this.partial.push(chunk.subarray(start));
  }

  private onLine(line: string): void {
    if (!line.trim()) return;
    let reply: AgentReply & Record<string, unknown>;
    try {
      reply = JSON.parse(line);
    } catch {
      this.onStrayReply?.({ unparsed: line });
      return;
    }
    const waiter = typeof reply.id === "number" ? this.pending.get(reply.id) : undefined;
    if (!waiter || typeof reply.id !== "number") {
      this.onStrayReply?.(reply);
      return;
    }
    this.pending.delete(reply.id);
    clearTimeout(waiter.timer);
    this.tap?.reply(reply.id, reply);
    if (reply.ok === true) {
      const { id: _id, ok: _ok, ...result } = reply;
      waiter.resolve(result);
    } else {
      const err = reply as { error?: unknown; errno?: unknown; errname?: unknown };
      waiter.reject(
        new AgentError(
          waiter.op,
          "remote",
          typeof err.error === "string" ? err.error : `agent op "${waiter.op}" failed`,
          typeof err.errno === "number" ? err.errno : undefined,
          typeof err.errname === "string" ? err.errname : undefined,
        ),
      );
    }
  }

  private shutdown(reason: string): void {
    if (this.closedReason === undefined) this.closedReason = reason;
    for (const [id, waiter] of this.pending) {
      this.pending.delete(id);
      clearTimeout(waiter.timer);
      waiter.reject(new AgentError(waiter.op, "closed", `agent op "${waiter.op}": ${reason}`));
    }
  }
}

/** XXH64 of the paths' UTF-8 bytes, each followed by a NUL byte (what hash_files recomputes on arrival). */
export function pathsDigest(paths: string[]): string {
  return xxh64Hex(paths.map((p) => `${p}\0`).join(""));
}

function range(r: RangeArgs): RangeArgs {
  return {
    ...(r.offset !== undefined && { offset: r.offset }),
    ...(r.length !== undefined && { length: r.length }),
  };
}
