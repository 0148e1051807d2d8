// Errors a VM can raise. Each carries a one-line message and the console tail for the long story,
// as execa's errors carry command, exit code and output.
import type { CrashReport } from "../report/model.ts";

export class VmError extends Error {
  constructor(
    message: string,
    readonly consoleTail: string,
    readonly crashes: CrashReport[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** The long form: message, crash titles and the console tail. */
  details(): string {
    const titles = this.crashes.map((c) => `  ${c.kind}: ${c.title}`).join("\n");
    return `${this.message}\n${titles ? `crashes:\n${titles}\n` : ""}console tail:\n${this.consoleTail}`;
  }
}

/** QEMU exited (panic with panic=-1, triple fault, killed) while the harness still needed the guest. */
export class GuestExited extends VmError {}
/** The kernel printed a fatal report (oops, BUG, busy inodes, ...) during a step; the guest is not trusted further. */
export class GuestCrashed extends VmError {}
/** The agent did not become ready in time during boot. */
export class BootTimeout extends VmError {}
/** A step did not finish in time (the guest hung, or the step was too slow). */
export class StepTimeout extends VmError {}
/** The host could not start QEMU at all (bad arguments, missing binary): a harness problem. */
export class QemuStartError extends VmError {}
