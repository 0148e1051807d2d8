// From a Kernel to a running guest: builds the initramfs for its modules, decides the accelerator
// once per process, and boots. The one entry point the CLI, runner and tests use to get a guest.
import { buildInitramfs } from "../guest/initramfs.ts";
import { findQemu } from "../util/host-tools.ts";
import { chooseAccel, type AccelDecision } from "./accel.ts";
import { Vm, type BootOptions } from "./vm.ts";
import { slowdownFactor, type Kernel } from "../kernel/kernel.ts";

export interface GuestOptions extends Omit<BootOptions, "kernelImage" | "initrd" | "host"> {}

const accelCache = new Map<string, Promise<AccelDecision>>();

export async function prepareGuest(kernel: Kernel): Promise<{ initrd: string; qemu: string; accel: AccelDecision }> {
  const qemu = await findQemu();
  const { path: initrd } = await buildInitramfs(kernel.modules);
  const key = `${qemu}\0${kernel.image}`;
  if (!accelCache.has(key)) accelCache.set(key, chooseAccel(qemu, kernel.image, initrd));
  return { initrd, qemu, accel: await accelCache.get(key)! };
}

export async function bootGuest(kernel: Kernel, opts: GuestOptions = {}): Promise<Vm> {
  const { initrd, qemu, accel } = await prepareGuest(kernel);
  return Vm.boot({
    timeoutScale: slowdownFactor(kernel),
    ...opts,
    extraCmdline: [...kernelCmdline(kernel), ...(opts.extraCmdline ?? [])],
    kernelImage: kernel.image,
    initrd,
    host: { qemu, accel: accel.accel },
  });
}

/**
 * Boot parameters that depend on the kernel. With MSI, virtio-pci interrupts need none of ACPI's PCI
 * interrupt links, whose AML took a KASAN + lockdep kernel under TCG ~17 s of a 42 s boot with 60
 * drives (and the stock kernel ~0.5 s); without MSI the links are the only way to an interrupt.
 */
export function kernelCmdline(kernel: Kernel): string[] {
  return kernel.config.CONFIG_PCI_MSI === "y" ? ["acpi=noirq"] : [];
}
