// How the image drives reach the guest: one virtio-blk-pci device each (the default), or all as LUNs
// of one virtio-scsi-pci controller (PCSHARE_DRIVE_BUS=virtio-scsi). QEMU 7.2 loads a snapshot's
// device state in time growing about with the square of the PCI devices (docs/booting.md): with the
// suite's 77 drives a restore took 0.68 s as virtio-blk and 0.22 s as virtio-scsi. The kernel under
// test then reads the images through the SCSI stack (sd) instead of virtio_blk, which is why it is
// not the default: the registered race signatures' evidence was gathered on virtio-blk.
import { InputError } from "../util/input-error.ts";

export type DriveBus = "virtio-blk" | "virtio-scsi";

/** PCSHARE_DRIVE_BUS: "virtio-blk" (default; also "blk") or "virtio-scsi" ("scsi"). */
export function driveBusFromEnv(env: NodeJS.ProcessEnv = process.env): DriveBus {
  const v = env.PCSHARE_DRIVE_BUS?.trim() ?? "";
  if (v === "" || v === "virtio-blk" || v === "blk") return "virtio-blk";
  if (v === "virtio-scsi" || v === "scsi") return "virtio-scsi";
  throw new InputError(`PCSHARE_DRIVE_BUS=${v}: unknown drive bus; use virtio-blk (the default) or virtio-scsi`);
}

/** Kernel modules the guest loads for the bus beyond the usual ones (built-in ones are skipped). */
export function driveBusModules(bus: DriveBus): string[] {
  return bus === "virtio-scsi" ? ["virtio_scsi", "sd_mod"] : [];
}

/** Why a kernel (its parsed config) cannot read drives on this bus, or undefined when it can (or its config is unknown). */
export function driveBusProblem(bus: DriveBus, config: Record<string, string>, release: string): string | undefined {
  if (bus !== "virtio-scsi" || Object.keys(config).length === 0) return undefined;
  const missing = ["CONFIG_SCSI_VIRTIO", "CONFIG_BLK_DEV_SD"].filter((k) => config[k] !== "y" && config[k] !== "m");
  return missing.length
    ? `PCSHARE_DRIVE_BUS=virtio-scsi: kernel ${release} has no ${missing.join(" or ")}; unset PCSHARE_DRIVE_BUS (virtio-blk) or build the kernel with them`
    : undefined;
}

/** The virtio-scsi controller (on the root bus) the drives are LUNs of. */
export const SCSI_CONTROLLER = "virtio-scsi-pci,id=pcshare-scsi";

/** The -device value that makes drive `i` a LUN of that controller (target i % 256, LUN i / 256), its name the unit serial (VPD page 0x80). */
export function scsiDevice(i: number, name: string): string {
  return `scsi-hd,drive=drive${i},bus=pcshare-scsi.0,channel=0,scsi-id=${i % 256},lun=${Math.floor(i / 256)},serial=${name}`;
}

/**
 * Kernel command-line words for the bus: sd probes its disks asynchronously, so the agent waits
 * for this many named drives before the guest counts as ready (pcshare.drives=N).
 */
export function driveBusCmdline(bus: DriveBus, drives: number): string[] {
  return bus === "virtio-scsi" && drives > 0 ? [`pcshare.drives=${drives}`] : [];
}
