// A minimal client of QEMU's machine protocol (QMP) over a Unix socket: the greeting, capability
// negotiation, and one command at a time. Used only to save and restore guest snapshots
// (vm/snapshot.ts); events are ignored.
import type net from "node:net";
import { connectUnix } from "../util/unix-socket.ts";

export class QmpError extends Error {
  constructor(readonly command: string, message: string) {
    super(`QMP ${command}: ${message}`);
    this.name = "QmpError";
  }
}

interface Pending {
  command: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class Qmp {
  private buffer = "";
  private readonly pending: Pending[] = [];
  private greeted!: Promise<void>;
  private closedWith?: Error;

  private constructor(private readonly socket: net.Socket) {}

  /**
   * Connects to `socketPath` (retrying while QEMU has not started listening) and negotiates; gives up
   * at once when `gone()` says QEMU has exited.
   */
  static async connect(socketPath: string, timeoutMs = 10_000, gone: () => string | undefined = () => undefined): Promise<Qmp> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await connectUnix(socketPath);
        const qmp = new Qmp(socket);
        qmp.listen();
        await qmp.greeted;
        await qmp.execute("qmp_capabilities");
        return qmp;
      } catch (err) {
        const exited = gone();
        if (exited) throw new QmpError("connect", `QEMU exited (${exited})`);
        if (Date.now() > deadline) throw new QmpError("connect", `${socketPath}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  private listen(): void {
    let greet!: () => void;
    let fail!: (e: Error) => void;
    this.greeted = new Promise((resolve, reject) => ((greet = resolve), (fail = reject)));
    this.greeted.catch(() => {});
    this.socket.setEncoding("utf8");
    this.socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf("\n")) >= 0) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as { QMP?: unknown; event?: string; return?: unknown; error?: { desc: string } };
        if (msg.QMP) greet();
        else if (msg.event) continue;
        else {
          const p = this.pending.shift();
          if (!p) continue;
          if (msg.error) p.reject(new QmpError(p.command, msg.error.desc));
          else p.resolve(msg.return);
        }
      }
    });
    const closed = (err?: Error) => {
      this.closedWith ??= err ?? new Error("QEMU closed the QMP socket");
      fail(this.closedWith);
      for (const p of this.pending.splice(0)) p.reject(new QmpError(p.command, this.closedWith.message));
    };
    this.socket.on("error", closed);
    this.socket.on("close", () => closed());
  }

  /** Runs one command; resolves with its `return` value, rejects with QEMU's error description. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closedWith) return Promise.reject(new QmpError(command, this.closedWith.message));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ command, resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + "\n");
    });
  }

  /** Polls query-migrate until the migration ends; resolves on "completed", rejects on failure or timeout. */
  async migrationDone(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.execute<{ status?: string; "error-desc"?: string }>("query-migrate");
      if (s.status === "completed") return;
      if (s.status === "failed" || s.status === "cancelled") throw new QmpError("migrate", `${s.status}${s["error-desc"] ? `: ${s["error-desc"]}` : ""}`);
      if (Date.now() > deadline) throw new QmpError("migrate", `not completed within ${timeoutMs / 1000} s (status ${s.status ?? "none"})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
