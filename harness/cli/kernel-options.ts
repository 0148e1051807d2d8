// The options every guest-booting command shares (--kernel, --modules, --kernel-config, the build
// options --tree, --series, --debug, --fragment, then --image, --memory, --cpus) and their conversion
// to a Kernel and drives.
import path from "node:path";
import { Option, type Command } from "commander";
import { resolveKernel, DEFAULT_KERNEL, type KernelChoice } from "../kernel/resolve.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { BOOT_MODES, type BootMode } from "../kernel/boot.ts";
import type { Drive } from "../vm/qemu-args.ts";
import { intIn } from "./validate.ts";

export interface GuestCliOptions {
  kernel?: string;
  modules?: string;
  kernelConfig?: string;
  tree?: string;
  series?: string;
  debug?: boolean;
  fragment?: string[];
  boot?: BootMode;
  image?: string[];
  memory: string;
  cpus: string;
}

export function addGuestOptions(cmd: Command): Command {
  return cmd
    .option("--kernel <spec>", `kernel to boot: debian:<suite|version> or a bzImage path (default ${DEFAULT_KERNEL})`)
    .option("--modules <dir>", "modules tree for a --kernel bzImage (a modules_install output)")
    .option("--kernel-config <file>", "config of a --kernel bzImage (default: .config beside it)")
    .option("--tree <dir>", "build the kernel from this source tree (git checkout or plain directory)")
    .option("--series <series>", "apply a patch series before building: mbox, .patch, patch directory, or A..B in --tree")
    .option("--debug", "build with the debug fragment (KASAN, lockdep, DEBUG_VM, ...)")
    .option("--fragment <names...>", "config fragments to build with (kernel-configs/ names or paths; default base share-on)", collectAll, undefined)
    .option("--boot <path>", `boot path, one of ${BOOT_MODES.join(", ")}: the kernel's PVH entry or its bzImage (default auto: PVH when the kernel has one; or PCSHARE_BOOT)`)
    .option("--image <name=path...>", "attach an image file read-only as /dev/disk/pcshare/<name>", collect, [])
    .addOption(new Option("--memory <MiB>", "guest memory").default("1024"))
    .addOption(new Option("--cpus <n>", "guest CPUs").default("2"));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function collectAll(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export async function kernelFrom(opts: GuestCliOptions): Promise<Kernel> {
  return resolveKernel(kernelChoice(opts));
}

/** The KernelChoice the options name (build options select a kernel built from source). */
export function kernelChoice(opts: Omit<GuestCliOptions, "memory" | "cpus">): KernelChoice {
  return {
    kernel: opts.kernel,
    modules: opts.modules,
    kernelConfig: opts.kernelConfig,
    tree: opts.tree,
    series: opts.series,
    debug: opts.debug,
    fragments: opts.fragment,
    boot: opts.boot,
  };
}

export function drivesFrom(opts: GuestCliOptions): Drive[] {
  return (opts.image ?? []).map((spec) => {
    const eq = spec.indexOf("=");
    if (eq <= 0) throw new Error(`--image ${spec}: expected NAME=PATH, e.g. --image a=out/share-a.erofs`);
    return { name: spec.slice(0, eq), path: path.resolve(spec.slice(eq + 1)), readOnly: true };
  });
}

/** A numeric option validate-inputs.ts has already checked against its limits. */
export function intOption(value: string, name: string): number {
  return intIn(value, name, { min: 1, max: Number.MAX_SAFE_INTEGER });
}
