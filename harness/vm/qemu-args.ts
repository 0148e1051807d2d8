// The QEMU command line, built by one pure function: VM spec + probed host capabilities -> argv.
// Nothing else in pcshare assembles QEMU arguments, so `--show-command` and each case's qemu.cmd
// show exactly what ran.

export interface Drive {
  /** Name the guest resolves as /dev/disk/pcshare/<name> (virtio-blk serial, <= 20 chars). */
  name: string;
  path: string;
  readOnly: boolean;
}

export interface VmSpec {
  kernel: string;
  initrd: string;
  cmdline: string[];
  memoryMiB: number;
  cpus: number;
  drives: Drive[];
  /** Private (0700) directory of this VM; QEMU chroots into it when it switches user. */
  runDir?: string;
  /** Unix socket QEMU serves the agent's virtio-serial port on (absent in interactive mode). */
  agentSocket?: string;
  /** "pipe": console on QEMU's stdout for the harness to read; "terminal": serial + monitor on the user's tty. */
  console: "pipe" | "terminal";
  /**
   * Guest RAM in this file instead of anonymous memory (snapshots, vm/snapshot.ts): `shared` maps it
   * shared (a snapshot's template writes its RAM there), else privately (a restored guest reads the
   * template's RAM and its own writes stay in its copy-on-write pages).
   */
  ramFile?: { path: string; shared: boolean };
  /** Unix socket QEMU serves its machine protocol (QMP) on. */
  qmpSocket?: string;
  /** Start paused, waiting for a migration stream (`-incoming defer`; QMP migrate-incoming names it). */
  incoming?: boolean;
}

export interface HostCaps {
  qemu: string;
  accel: "kvm" | "tcg";
  /** Unprivileged user QEMU switches to (-runas) when pcshare runs as root (vm/confine.ts decides). */
  runAs?: string;
  /** This QEMU spells the user switch and chroot `-run-with user=...,chroot=...` (9.1 and later; 10.0 rejects -runas and -chroot; 7.2 knows only those). */
  runWith?: boolean;
  /** Firmware image for -bios (vm/firmware.ts decides; absent: QEMU's default SeaBIOS). */
  firmware?: string;
  /** How the image drives attach (vm/drive-bus.ts; default virtio-blk). */
  driveBus?: DriveBus;
}

/**
 * QEMU's seccomp sandbox: no obsolete system calls, no new processes, no scheduler or CPU-affinity
 * changes, and no set*uid/set*gid unless QEMU must switch user. Measured with QEMU 7.2 and Debian's
 * 7.2.13 kernel as root: with -runas, elevateprivileges=deny and =children (deny plus
 * no_new_privs) both killed QEMU with SIGSYS (exit 159) at the user switch, before the guest ran;
 * =allow booted. Once QEMU has switched to an unprivileged uid, set*id cannot give root back, and
 * spawn=deny keeps it from executing a set-user-ID program. Without -runas everything is denied.
 */
export function sandboxOption(switchesUser: boolean): string {
  return `on,obsolete=deny,elevateprivileges=${switchesUser ? "allow" : "deny"},spawn=deny,resourcecontrol=deny`;
}

/** QEMU's option syntax doubles a comma inside a value. */
export function escapeOpt(v: string): string {
  return v.replace(/,/g, ",,");
}

export { AGENT_PORT_NAME } from "../guest/protocol.ts";
import { AGENT_PORT_NAME } from "../guest/protocol.ts";
import { driveBusCmdline, SCSI_CONTROLLER, scsiDevice, type DriveBus } from "./drive-bus.ts";

export function qemuArgs(spec: VmSpec, host: HostCaps): string[] {
  for (const d of spec.drives) {
    if (!/^[A-Za-z0-9._-]{1,20}$/.test(d.name)) {
      throw new Error(`drive name "${d.name}" must be 1-20 characters of [A-Za-z0-9._-] (it becomes the drive's serial)`);
    }
  }
  const args = [
    host.qemu,
    "-nodefaults",
    "-no-user-config",
    "-display", "none",
    "-nic", "none",
    "-no-reboot",
    ...(host.firmware ? ["-bios", host.firmware] : []),
    // q35 rather than pc: pc's ACPI _PRT method builds the PCI interrupt routing in an AML loop, which
    // a KASAN + lockdep kernel under TCG interprets so slowly that it hits ACPI's 30 s loop timeout and
    // the virtio devices end up without interrupts; q35's routing tables are static.
    "-machine", spec.ramFile ? `q35,memory-backend=${RAM_ID}` : "q35",
    // Multi-threaded TCG let a 2-vCPU guest of the stock kernel oops on an int3 left by live text
    // patching during boot (1 boot in 12 here); single-threaded TCG did not (0 in 12).
    "-accel", host.accel === "kvm" ? "kvm" : "tcg,thread=single",
    // Under TCG the plain qemu64 model booted to the agent about 10 % faster than "max" here.
    "-cpu", host.accel === "kvm" ? "host" : "qemu64",
    "-smp", String(spec.cpus),
    "-m", `${spec.memoryMiB}M`,
    ...(spec.ramFile
      ? ["-object", `memory-backend-file,id=${RAM_ID},size=${spec.memoryMiB}M,mem-path=${escapeOpt(spec.ramFile.path)},share=${spec.ramFile.shared ? "on" : "off"}`]
      : []),
    "-kernel", spec.kernel,
    "-initrd", spec.initrd,
    "-append", [...spec.cmdline, ...driveBusCmdline(host.driveBus ?? "virtio-blk", spec.drives.length)].join(" "),
    "-sandbox", sandboxOption(!!host.runAs),
  ];
  if (host.runAs) {
    // QEMU opens the kernel, initrd, drives and the agent socket as root, then switches user just
    // before the guest starts: the user needs no access to the cache (a boot with the kernel under
    // root's 0700 home worked). The chroot into the private run dir, which that user cannot even
    // list, leaves it no filesystem at all.
    if (host.runWith) args.push("-run-with", `user=${escapeOpt(host.runAs)}${spec.runDir ? `,chroot=${escapeOpt(spec.runDir)}` : ""}`);
    else {
      args.push("-runas", host.runAs);
      if (spec.runDir) args.push("-chroot", spec.runDir);
    }
  }
  args.push(...(spec.console === "pipe" ? ["-chardev", "stdio,id=con0,signal=off", "-serial", "chardev:con0"] : ["-serial", "mon:stdio"]));
  if (spec.agentSocket) {
    args.push(
      "-device", "virtio-serial-pci,id=vser0",
      "-chardev", `socket,id=agent0,path=${escapeOpt(spec.agentSocket)},server=on,wait=off`,
      "-device", `virtserialport,bus=vser0.0,chardev=agent0,name=${AGENT_PORT_NAME}`,
    );
  }
  if (spec.qmpSocket) args.push("-qmp", `unix:${escapeOpt(spec.qmpSocket)},server=on,wait=off`);
  if (spec.incoming) args.push("-incoming", "defer");
  // virtio-blk: the root bus has ~29 free slots; the first DRIVES_ON_ROOT_BUS drives sit there, the
  // rest behind PCI bridges of DRIVES_PER_BRIDGE slots each (a run attaches every image its cases use).
  // virtio-scsi: every drive a LUN of one controller (vm/drive-bus.ts).
  const scsi = host.driveBus === "virtio-scsi";
  if (scsi && spec.drives.length) args.push("-device", SCSI_CONTROLLER);
  spec.drives.forEach((d, i) => {
    const ro = d.readOnly ? ",readonly=on" : "";
    let device: string;
    if (scsi) device = scsiDevice(i, d.name);
    else {
      let bus = "";
      if (i >= DRIVES_ON_ROOT_BUS) {
        const k = i - DRIVES_ON_ROOT_BUS;
        const bridge = Math.floor(k / DRIVES_PER_BRIDGE) + 1;
        if (k % DRIVES_PER_BRIDGE === 0) args.push("-device", `pci-bridge,id=pcb${bridge},chassis_nr=${bridge}`);
        bus = `,bus=pcb${bridge},addr=0x${((k % DRIVES_PER_BRIDGE) + 1).toString(16)}`; // slot numbers are hex
      }
      device = `virtio-blk-pci,drive=drive${i},serial=${d.name}${bus}`;
    }
    args.push("-drive", `file=${escapeOpt(d.path)},if=none,id=drive${i},format=raw${ro}`, "-device", device);
  });
  return args;
}

/** Id of the file memory backend (template and restored guest must agree on it). */
const RAM_ID = "pcshare-ram";
const DRIVES_ON_ROOT_BUS = 24;
const DRIVES_PER_BRIDGE = 31;

/** Kernel command line for a guest: serial console, panic reboots (QEMU then exits), warnings on the console. */
export function guestCmdline(opts: { interactive?: boolean; extra?: string[] } = {}): string[] {
  return [
    "console=ttyS0",
    "loglevel=5",
    "panic=-1",
    "rdinit=/init",
    "i8042.noaux",
    "i8042.nomux",
    "i8042.nopnp",
    "i8042.dumbkbd",
    "tsc=reliable",
    "no_timer_check",
    // The built-in trusted keys are only for module signatures, which the guest does not enforce;
    // loading them took ~0.23 s of a 3.3 s boot of Debian's kernel under TCG.
    "initcall_blacklist=load_system_certificate_list",
    // Speculative-execution mitigations play no part in page-cache sharing; patching them in cost
    // ~0.15 s of Debian's kernel boot under TCG (3.19 s -> 3.03 s median of 5).
    "mitigations=off",
    ...(opts.interactive ? ["pcshare.shell=1"] : []),
    ...(opts.extra ?? []),
  ];
}

/** Whether QEMU started with `argv` chroots itself before the guest runs (either spelling). */
export function chrootsItself(argv: readonly string[]): boolean {
  return argv.some((a, i) => (a === "-chroot" && i + 1 < argv.length) || (argv[i - 1] === "-run-with" && /(^|,)chroot=/.test(a)));
}

/** A shell-quoted rendering of argv, for --show-command and qemu.cmd files. */
export function shellQuote(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_./:=,+@%-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}
