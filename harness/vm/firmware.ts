// Which firmware QEMU starts the guest with. pcshare boots the kernel straight from -kernel and needs
// no BIOS services, option ROMs or boot-device search: qboot (shipped with QEMU as qboot.rom) only
// hands over to the kernel, where SeaBIOS first initialises every virtio-blk drive it might boot
// from. With the suite's 59 drives under TCG that cost QEMU ~1.2 s of CPU per boot here.
// PCSHARE_FIRMWARE=seabios keeps QEMU's default, for comparisons or a QEMU without qboot.
import { existsSync } from "node:fs";
import path from "node:path";
import { InputError } from "../util/input-error.ts";

export type FirmwareChoice = "qboot" | "seabios";

export function firmwareFromEnv(env: NodeJS.ProcessEnv = process.env): FirmwareChoice {
  const v = env.PCSHARE_FIRMWARE || "qboot";
  if (v !== "qboot" && v !== "seabios") throw new InputError(`PCSHARE_FIRMWARE=${v}: unknown firmware; use qboot or seabios`);
  return v;
}

/** Where a QEMU binary keeps its firmware: <prefix>/share/qemu beside <prefix>/bin, and Debian's. */
function firmwareDirs(qemu: string): string[] {
  return [path.resolve(path.dirname(qemu), "..", "share", "qemu"), "/usr/share/qemu", "/usr/local/share/qemu"];
}

/** The -bios file for `choice`: qboot.rom's path when that QEMU has it, else undefined (SeaBIOS). */
export function firmwareFor(qemu: string, choice: FirmwareChoice = firmwareFromEnv()): string | undefined {
  if (choice === "seabios") return undefined;
  return firmwareDirs(qemu).map((d) => path.join(d, "qboot.rom")).find((f) => existsSync(f));
}
