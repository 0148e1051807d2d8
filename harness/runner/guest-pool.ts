// The guests a run uses. take() hands out a ready guest for one user at a time (a standby one when
// it has booted ahead, else a new boot); a guest that crashed or would not come clean is discarded;
// close() powers off the guests in use and aborts the boots in flight, standbys or waited for.
// Several guests may be out at once (one per worker of a --jobs run); standbys boot beside them so
// that a crash costs a switch instead of a boot.
import path from "node:path";
import { bootGuest } from "../vm/launch.ts";
import type { Vm } from "../vm/vm.ts";
import type { Drive } from "../vm/qemu-args.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { BootRecord } from "../report/model.ts";
import type { RestoreMode } from "../vm/snapshot.ts";

export interface GuestPoolOptions {
  kernel: Kernel;
  drives: Drive[];
  memoryMiB?: number;
  /** Guest CPUs (default: bootGuest's). */
  cpus?: number;
  /** Each boot's console.log and qemu.cmd go to <artifactsDir>/boot-<n>. */
  artifactsDir: string;
  /** Guests kept booting ahead of need (0: none, boot on demand). */
  standby: number;
  /** Start guests from a snapshot of a ready one (default "off"). */
  restore?: RestoreMode;
}

interface Booting {
  booting: Promise<Vm>;
  stop: AbortController;
}

export class GuestPool {
  /** Every guest handed out, in order. */
  readonly boots: BootRecord[] = [];
  private standbys: Booting[] = [];
  /** Boots a take() is waiting for (stopped too when the pool closes). */
  private readonly taking = new Set<Booting>();
  private readonly inUse = new Set<Vm>();
  private started = 0;
  private closed = false;

  constructor(private readonly opts: GuestPoolOptions) {}

  /** A ready guest for exclusive use, its kernel log read up to now (each case's log starts there). */
  async take(): Promise<Vm> {
    if (this.closed) throw new Error("the guest pool is closed");
    const t0 = Date.now();
    const next = this.standbys.shift() ?? this.boot();
    this.taking.add(next);
    let vm: Vm;
    try {
      vm = await next.booting;
    } finally {
      this.taking.delete(next);
    }
    if (this.closed) {
      await vm.kill(); // the pool closed during the boot: nobody will power this guest off
      throw new Error("the guest pool is closed");
    }
    this.inUse.add(vm);
    this.refill(); // only now, so that a standby does not slow down the boot waited for
    await vm.agent.kmsg();
    this.boots.push({ ...vm.timing, waitedMs: Date.now() - t0 });
    return vm;
  }

  /** Stop a guest that must not run anything more (crashed, hung, or state that would not clean). */
  async discard(vm: Vm): Promise<void> {
    this.inUse.delete(vm);
    await vm.kill();
  }

  /** Kill every guest at once (the run was interrupted). */
  async abort(): Promise<void> {
    this.closed = true;
    const standbys = this.stopStandbys();
    await Promise.all([...[...this.inUse].map((vm) => vm.kill()), standbys]);
    this.inUse.clear();
  }

  /** End of the run: the guests in use power off; the standbys are killed, booted or not. */
  async close(): Promise<void> {
    this.closed = true;
    const standbys = this.stopStandbys();
    await Promise.all([...[...this.inUse].map((vm) => vm.shutdown()), standbys]);
    this.inUse.clear();
  }

  private stopStandbys(): Promise<unknown> {
    const all = [...this.standbys, ...this.taking];
    this.standbys = [];
    for (const s of all) s.stop.abort();
    return Promise.all(all.map((s) => s.booting.then((vm) => vm.kill()).catch(() => {})));
  }

  private refill(): void {
    while (!this.closed && this.standbys.length < this.opts.standby) this.standbys.push(this.boot());
  }

  private boot(): Booting {
    this.started++;
    const stop = new AbortController();
    const booting = bootGuest(this.opts.kernel, {
      drives: this.opts.drives,
      memoryMiB: this.opts.memoryMiB,
      cpus: this.opts.cpus,
      artifactsDir: path.join(this.opts.artifactsDir, `boot-${this.started}`),
      signal: stop.signal,
      restore: this.opts.restore,
    });
    booting.catch(() => {}); // a standby's failure surfaces when it is taken into use
    return { booting, stop };
  }
}
