// Turns the user's --kernel argument into a Kernel: nothing or "debian:<suite|version>" for Debian's
// prebuilt kernels (default sid, which has the feature on), anything else a path to a bzImage.
import { debianKernel, DEFAULT_DEBIAN_SUITE } from "./debian.ts";
import { givenKernel } from "./given.ts";
import type { Kernel } from "./kernel.ts";

export interface KernelChoice {
  kernel?: string;
  modules?: string;
  kernelConfig?: string;
}

export const DEFAULT_KERNEL = `debian:${DEFAULT_DEBIAN_SUITE}`;

export async function resolveKernel(choice: KernelChoice = {}): Promise<Kernel> {
  const spec = choice.kernel ?? process.env.PCSHARE_KERNEL ?? DEFAULT_KERNEL;
  if (spec.startsWith("debian:")) {
    const rest = spec.slice("debian:".length);
    if (!rest) throw new Error(`--kernel debian: needs a suite or version, e.g. debian:sid or debian:trixie`);
    return debianKernel(rest);
  }
  return givenKernel(spec, { modulesDir: choice.modules, configFile: choice.kernelConfig });
}
