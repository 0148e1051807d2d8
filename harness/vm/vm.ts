// One running guest: starts QEMU from a VmSpec, captures the console, connects the agent channel,
// and tears everything down (poweroff, then SIGKILL) whatever happens. Steps run through `step()`,
// which turns a hang into StepTimeout and a dead guest into GuestExited, with crash reports attached.
import { writeFile, rm, mkdir } from "node:fs/promises";
import { existsSync, openSync, closeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { spawnLeashed, type Leashed } from "../util/leash.ts";
import { ownedTempDir } from "../util/temp.ts";
import { AgentClient, AgentError } from "../guest/agent-client.ts";
import { qemuArgs, guestCmdline, shellQuote, type Drive, type HostCaps, type VmSpec } from "./qemu-args.ts";
import { ConsoleLog } from "./console.ts";
import { classifyConsole, FATAL_KINDS } from "./crash.ts";
import { trackLeashed, trackDir, releaseDir } from "./reaper.ts";
import { GuestExited, GuestCrashed, BootTimeout, StepTimeout, QemuStartError } from "./errors.ts";
import type { CrashReport } from "../report/model.ts";
import { Qmp } from "./qmp.ts";
import { connectUnix } from "../util/unix-socket.ts";

export interface BootOptions {
  kernelImage: string;
  initrd: string;
  host: HostCaps;
  drives?: Drive[];
  memoryMiB?: number;
  cpus?: number;
  extraCmdline?: string[];
  /** Directory for console.log and qemu.cmd; when absent a temporary one is used and removed. */
  artifactsDir?: string;
  /** Boot must reach the agent within this time (default: 120 s under TCG, 40 s under KVM). */
  readyTimeoutMs?: number;
  /** Boot fails early if the console stays silent this long before the agent is ready. */
  silenceTimeoutMs?: number;
  /** Multiplies the default ready and silence timeouts (a KASAN + lockdep kernel boots several times slower). */
  timeoutScale?: number;
  /** Aborting kills QEMU; a boot still in progress then fails. */
  signal?: AbortSignal;
  /** Boot a snapshot template: RAM in this file, mapped shared, and a QMP socket to save it with. */
  templateRam?: string;
  /** Start by restoring this snapshot instead of booting (vm/snapshot.ts made it). */
  restoreFrom?: RestoreSource;
}

/** A saved ready guest: its RAM file, its device state (a migration stream) and its boot's console. */
export interface RestoreSource {
  ramFile: string;
  stateFile: string;
  bootConsole: string;
  /** Shown in the console log where the restored guest's own output begins. */
  label: string;
}

export interface BootTiming {
  /** Guest uptime when the agent answered its first request, ms. */
  guestUptimeMs: number;
  /** Host wall clock from spawning QEMU to the agent's first answer, ms. */
  hostWallMs: number;
  /** "restore": the guest started from a snapshot of a booted one; else it booted. */
  start: "boot" | "restore";
  /** Why a guest that was to be restored booted instead. */
  restoreProblem?: string;
  /**
   * Host wall clock from spawning QEMU to each step of the start, ms: `qmp` QEMU answering on its
   * machine protocol (snapshots only), `state` the device state loaded (restore only), `agent` the
   * agent's first answer; for a restored guest `hostWallMs` adds its resume request.
   */
  phasesMs?: { qmp?: number; state?: number; agent: number };
}

/** Console text that may start a fatal report (checked before running the classifier). */
const FATAL_HINT = /BUG|Oops|panic|Busy inodes|KASAN|KFENCE|lockup|stall|general protection/;
/** Time allowed after a fatal report for the rest of it (trace, end marker) to reach the console. */
export const FATAL_GRACE_MS = 2_000;

interface Exit {
  code: number | null;
  signal: string | null;
}

export class Vm {
  readonly console: ConsoleLog;
  readonly argv: string[];
  agent!: AgentClient;
  timing!: BootTiming;
  /** The QEMU machine protocol, for snapshot templates and restored guests. */
  qmp?: Qmp;
  private socket?: net.Socket;
  private exitInfo?: Exit;
  private stopping = false;
  /** Whether the guest had printed anything when QEMU exited (its stderr is appended to the console then). */
  private guestPrinted = false;
  /** Set while a step runs: looks at each console chunk for a fatal kernel report. */
  private fatalWatch?: (chunk: string) => void;

  private constructor(
    private readonly leash: Leashed,
    argv: string[],
    console: ConsoleLog,
    /** Private directory of this VM (agent and QMP sockets; QEMU's chroot when it switches user). */
    readonly workDir: string,
    readonly exited: Promise<Exit>,
  ) {
    this.argv = argv;
    this.console = console;
  }

  static async boot(opts: BootOptions): Promise<Vm> {
    const tcg = opts.host.accel === "tcg";
    const scale = opts.timeoutScale ?? 1;
    const readyTimeoutMs = opts.readyTimeoutMs ?? (tcg ? 120_000 : 40_000) * scale;
    const silenceTimeoutMs = opts.silenceTimeoutMs ?? (tcg ? 60_000 : 20_000) * scale;
    // Private (0700, root's when pcshare runs as root): holds the agent socket, and QEMU's chroot.
    const workDir = await ownedTempDir("pcshare-vm-");
    trackDir(workDir);
    if (opts.artifactsDir) await mkdir(opts.artifactsDir, { recursive: true });
    const artifacts = opts.artifactsDir ?? workDir;
    const restore = opts.restoreFrom;
    const ramFile = restore ? { path: restore.ramFile, shared: false } : opts.templateRam ? { path: opts.templateRam, shared: true } : undefined;
    const qmpSocket = ramFile ? path.join(workDir, "qmp.sock") : undefined;
    const argv = qemuArgs(
      {
        ...vmSpecOf(opts, workDir),
        ramFile,
        qmpSocket,
        incoming: !!restore,
      },
      opts.host,
    );
    await writeFile(path.join(artifacts, "qemu.cmd"), shellQuote(argv) + "\n");
    const consoleLog = new ConsoleLog(path.join(artifacts, "console.log"));
    // A restored guest's log starts with the boot it was saved after, so that it reads like a booted one.
    if (restore) consoleLog.append(`${restore.bootConsole}\n[pcshare] ${restore.label}\n`);
    const started = Date.now();
    // The migration stream goes to QEMU as an open file (fd 4): QEMU may not open files once confined.
    const stateFd = restore ? openSync(restore.stateFile, "r") : undefined;
    // Under a leash: QEMU goes when pcshare goes, even when pcshare is killed by SIGKILL.
    let leash: Leashed;
    try {
      leash = spawnLeashed(argv[0], argv.slice(1), { reject: false, buffer: false, graceMs: 2_000, passFds: stateFd === undefined ? [] : [stateFd] });
    } finally {
      if (stateFd !== undefined) closeSync(stateFd);
    }
    trackLeashed(leash);
    const proc = leash.proc;
    proc.stdout?.setEncoding("utf8");
    proc.stdout?.on("data", (c: string) => consoleLog.append(c));
    let stderr = "";
    proc.stderr?.setEncoding("utf8");
    proc.stderr?.on("data", (c: string) => (stderr += c));
    const exited = leash.childExit;
    const vm = new Vm(leash, argv, consoleLog, workDir, exited);
    // Aborted before QEMU started (a run stopped while this boot was being prepared): stop at once.
    if (opts.signal?.aborted) void vm.kill();
    else opts.signal?.addEventListener("abort", () => void vm.kill(), { once: true });
    consoleLog.onData((c) => vm.fatalWatch?.(c));
    exited.then((e) => {
      vm.exitInfo = e;
      vm.guestPrinted = consoleLog.all().trim() !== "";
      if (stderr.trim()) consoleLog.append(`\n[qemu stderr] ${stderr.trim()}\n`);
    });
    try {
      const phasesMs: NonNullable<BootTiming["phasesMs"]> = { agent: 0 };
      if (qmpSocket) {
        vm.qmp = await Qmp.connect(qmpSocket, readyTimeoutMs, () => (vm.exitInfo ? fmtExit(vm.exitInfo) : undefined));
        phasesMs.qmp = Date.now() - started;
      }
      if (restore) {
        await vm.incoming(readyTimeoutMs);
        phasesMs.state = Date.now() - started;
      }
      await vm.connect(readyTimeoutMs, silenceTimeoutMs, () => stderr);
      phasesMs.agent = Date.now() - started;
      if (restore) await vm.agent.call("resume", { realtime_ms: Date.now(), seed_b64: randomBytes(64).toString("base64") }, { timeoutMs: 10_000 });
      const hello = (await vm.agent.call("hello", {}, { timeoutMs: 10_000 })) as { uptime_ms: number };
      vm.timing = { guestUptimeMs: hello.uptime_ms, hostWallMs: Date.now() - started, start: restore ? "restore" : "boot", phasesMs };
    } catch (err) {
      const failure = await vm.bootFailure(err as Error, () => stderr);
      await vm.kill();
      throw failure;
    }
    return vm;
  }

  /**
   * Loads the snapshot's device state from fd 4. Guest RAM is not in the stream (x-ignore-shared: the
   * template's RAM file is mapped instead). The guest runs on as it ran when it was saved.
   */
  private async incoming(timeoutMs: number): Promise<void> {
    const qmp = this.qmp!;
    await qmp.execute("migrate-set-capabilities", { capabilities: [{ capability: "x-ignore-shared", state: true }] });
    await qmp.execute("migrate-incoming", { uri: "fd:4" });
    await qmp.migrationDone(timeoutMs);
    const status = await qmp.execute<{ status: string }>("query-status");
    if (status.status !== "running") await qmp.execute("cont");
  }

  /**
   * The error a failed boot raises. When QEMU has exited (or exits within a moment), its own stderr
   * says why (a missing image file, memory it cannot allocate, bad arguments): that message leads,
   * as a QemuStartError when the guest never printed anything, else as GuestExited.
   */
  private async bootFailure(err: Error, stderr: () => string): Promise<Error> {
    const exit = this.exitInfo ?? (await this.exitedWithin(2_000));
    if (!exit) return err;
    const said = stderr().trim();
    const message = `QEMU exited during boot (${fmtExit(exit)})${said ? `: ${said}` : ""}`;
    const crashes = classifyConsole(this.console.all());
    return !this.guestPrinted ? new QemuStartError(message, this.console.tail(), crashes) : new GuestExited(message, this.console.tail(), crashes);
  }

  /** QEMU's exit if it comes within `ms`, else undefined. The timer is cleared at once when it does. */
  private exitedWithin(ms: number): Promise<Exit | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
    return Promise.race([this.exited, timeout]).finally(() => clearTimeout(timer));
  }

  private async connect(readyTimeoutMs: number, silenceTimeoutMs: number, stderr: () => string): Promise<void> {
    const sockPath = path.join(this.workDir, "agent.sock");
    const deadline = Date.now() + readyTimeoutMs;
    while (!existsSync(sockPath)) {
      if (this.exitInfo) throw new QemuStartError(`QEMU exited at start (${fmtExit(this.exitInfo)}): ${stderr().trim()}`, this.console.tail());
      if (Date.now() > deadline) throw new BootTimeout("QEMU never created the agent socket", this.console.tail());
      await sleep(20);
    }
    // QEMU binds the socket before it listens: retry a refused connection briefly.
    let socket: net.Socket | undefined;
    while (!socket) {
      try {
        socket = await connectUnix(sockPath);
      } catch (err) {
        if (this.exitInfo || Date.now() > deadline) throw new QemuStartError(`cannot connect to the agent socket: ${(err as Error).message}`, this.console.tail());
        await sleep(20);
      }
    }
    socket.on("error", () => {});
    this.socket = socket;
    this.agent = new AgentClient(socket);
    // The first request waits in the channel until the agent opens its port; it answers when ready.
    const ready = this.agent.call("hello", {}, { timeoutMs: readyTimeoutMs });
    ready.catch(() => {});
    const watchdog = new Promise<never>((_, reject) => {
      const timer = setInterval(() => {
        if (this.exitInfo) {
          clearInterval(timer);
          const crashes = classifyConsole(this.console.all());
          reject(new GuestExited(`guest exited during boot (${fmtExit(this.exitInfo)})`, this.console.tail(), crashes));
        } else if (this.console.silentForMs() > silenceTimeoutMs) {
          clearInterval(timer);
          reject(new BootTimeout(`console silent for ${silenceTimeoutMs / 1000} s during boot`, this.console.tail()));
        } else if (Date.now() > deadline) {
          clearInterval(timer);
          reject(new BootTimeout(`agent not ready after ${readyTimeoutMs / 1000} s`, this.console.tail()));
        }
      }, 100);
      ready.finally(() => clearInterval(timer)).catch(() => {});
    });
    try {
      await Promise.race([ready, watchdog]);
    } catch (err) {
      if (err instanceof AgentError) {
        // The channel closed under us: that is QEMU going away; report the exit with its console.
        const e = await this.exitedWithin(2000);
        const how = e ? fmtExit(e) : "QEMU still running";
        throw new GuestExited(`agent channel lost during boot (${err.message}; ${how})`, this.console.tail(), classifyConsole(this.console.all()));
      }
      throw err;
    }
  }

  /** Crash reports in the console since `mark` (default: whole log). */
  crashes(mark = 0): CrashReport[] {
    return classifyConsole(this.console.since(mark));
  }

  /** Pid of the QEMU process itself (its parent is the leash). */
  get qemuPid(): Promise<number> {
    return this.leash.childPid;
  }

  get alive(): boolean {
    return !this.exitInfo;
  }

  /**
   * Run one step against the guest. A step that outlives `timeoutMs` raises StepTimeout; a guest
   * that dies raises GuestExited. Both carry the crash reports printed since the step began.
   */
  async step<T>(name: string, timeoutMs: number, fn: (agent: AgentClient) => Promise<T>): Promise<T> {
    const mark = this.console.mark();
    if (this.exitInfo) throw new GuestExited(`guest already exited before step "${name}"`, this.console.tail(), this.crashes(mark));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StepTimeout(`step "${name}" did not finish within ${timeoutMs / 1000} s`, this.console.tail(), this.crashes(mark))),
        timeoutMs,
      );
    });
    const died = this.exited.then((e) => {
      throw new GuestExited(`guest exited during step "${name}" (${fmtExit(e)})`, this.console.tail(), this.crashes(mark));
    });
    died.catch(() => {});
    // A fatal kernel report (oops, BUG, busy inodes, ...) usually leaves the step hanging until its
    // timeout: stop waiting shortly after one appears, once the report has had time to print.
    const fatal = new Promise<never>((_, reject) => {
      this.fatalWatch = (chunk: string) => {
        if (!FATAL_HINT.test(chunk) || timer === undefined) return;
        const reports = this.crashes(mark).filter((c) => FATAL_KINDS.has(c.kind));
        if (!reports.length) return;
        this.fatalWatch = undefined;
        const grace = setTimeout(
          () => reject(new GuestCrashed(`kernel ${reports[0].kind} during step "${name}"`, this.console.tail(), this.crashes(mark))),
          FATAL_GRACE_MS,
        );
        grace.unref();
      };
    });
    fatal.catch(() => {});
    try {
      return await Promise.race([fn(this.agent), timeout, died, fatal]);
    } catch (err) {
      // An agent error caused by the guest dying is reported as the death, not as a channel error.
      if (!(err instanceof StepTimeout) && !(err instanceof GuestExited)) {
        const e = await this.exitedWithin(300);
        if (e) throw new GuestExited(`guest exited during step "${name}" (${fmtExit(e)})`, this.console.tail(), this.crashes(mark));
      }
      throw err;
    } finally {
      clearTimeout(timer);
      timer = undefined;
      this.fatalWatch = undefined;
    }
  }

  /** Power the guest off through the agent; SIGKILL QEMU if it has not exited within `graceMs`. */
  async shutdown(graceMs = 10_000): Promise<void> {
    if (this.stopping) return this.exited.then(() => undefined);
    this.stopping = true;
    if (!this.exitInfo) {
      this.agent?.call("poweroff", {}, { timeoutMs: graceMs }).catch(() => {});
      const done = await this.exitedWithin(graceMs);
      if (!done) this.leash.kill();
    }
    await this.cleanup();
  }

  /** Kill QEMU at once (after a hang or crash) and clean up. */
  async kill(): Promise<void> {
    this.stopping = true;
    if (!this.exitInfo) this.leash.kill();
    await this.cleanup();
  }

  private cleaned?: Promise<void>;

  /** Runs once, however many of shutdown/kill/abort ask for it. */
  private cleanup(): Promise<void> {
    this.cleaned ??= this.cleanupOnce();
    return this.cleaned;
  }

  private async cleanupOnce(): Promise<void> {
    await this.exited;
    this.socket?.destroy();
    this.qmp?.close();
    await this.console.close();
    // The work dir holds the agent socket (and the console log when no artifacts dir was given).
    await rm(this.workDir, { recursive: true, force: true });
    releaseDir(this.workDir);
  }
}

/**
 * The VM spec of a guest booted with `opts` whose private directory is `workDir` (the snapshot key
 * builds it with a placeholder directory: the same guest, whatever directory it gets).
 */
export function vmSpecOf(opts: BootOptions, workDir: string): VmSpec {
  return {
    kernel: opts.kernelImage,
    initrd: opts.initrd,
    cmdline: guestCmdline({ extra: opts.extraCmdline }),
    memoryMiB: opts.memoryMiB ?? 1024,
    cpus: opts.cpus ?? 2,
    drives: opts.drives ?? [],
    agentSocket: path.join(workDir, "agent.sock"),
    runDir: workDir,
    console: "pipe",
  };
}

function fmtExit(e: Exit): string {
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}

/**
 * A delay for polling loops. It keeps the process alive on purpose: an unref()'d one let Node exit
 * with status 0 in the middle of a boot whose QEMU had already exited (nothing else was pending).
 */
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
