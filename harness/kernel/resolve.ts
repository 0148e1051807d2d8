// Turns the user's kernel options into a Kernel: nothing or "debian:<suite|version>" for Debian's
// prebuilt kernels (default sid, which has the feature on), a path to a bzImage, or, when any build
// option is given (--tree, --series, --debug, --fragment), a kernel built from source by builtKernel
// (Debian's linux-source matching the default kernel unless --tree names another tree).
import { debianKernel, DEFAULT_DEBIAN_SUITE } from "./debian.ts";
import { givenKernel } from "./given.ts";
import { builtKernel, buildMeta, type BuildRequest } from "./build.ts";
import type { Kernel } from "./kernel.ts";
import { chooseBoot, bootModeFromEnv, type BootMode } from "./boot.ts";

export interface KernelChoice {
  kernel?: string;
  modules?: string;
  kernelConfig?: string;
  /** Build from this source tree (default Debian's linux-source when another build option is given). */
  tree?: string;
  /** Patch series applied before building: mbox, .patch, patch directory or git range A..B. */
  series?: string;
  /** Build with the debug fragment. */
  debug?: boolean;
  /** Config fragments (names in kernel-configs/ or paths) instead of the default base + share-on. */
  fragments?: string[];
  /** Boot path: auto (PVH when the kernel has the entry), pvh or bzimage; default PCSHARE_BOOT, else auto. */
  boot?: BootMode;
}

export const DEFAULT_KERNEL = `debian:${DEFAULT_DEBIAN_SUITE}`;

/** The build a choice asks for, or undefined when it names a prebuilt or given kernel. */
export function buildRequest(choice: KernelChoice): BuildRequest | undefined {
  const fragments = choice.fragments?.flatMap((f) => f.split(",")).map((f) => f.trim()).filter(Boolean);
  const wanted = choice.tree !== undefined || choice.series !== undefined || choice.debug === true || (fragments?.length ?? 0) > 0;
  if (!wanted) return undefined;
  const conflicts = [choice.kernel && "--kernel", choice.modules && "--modules", choice.kernelConfig && "--kernel-config"].filter(Boolean);
  if (conflicts.length) {
    throw new Error(`${conflicts.join(", ")} cannot be combined with --tree/--series/--debug/--fragment (those build a kernel from source)`);
  }
  return {
    ...(choice.tree !== undefined && { tree: choice.tree }),
    ...(choice.series !== undefined && { series: choice.series }),
    ...(choice.debug && { debug: true }),
    ...(fragments?.length && { fragments }),
  };
}

export async function resolveKernel(choice: KernelChoice = {}): Promise<Kernel> {
  return chooseBoot(await kernelFromChoice(choice), choice.boot ?? bootModeFromEnv());
}

async function kernelFromChoice(choice: KernelChoice): Promise<Kernel> {
  const req = buildRequest(choice);
  if (req) return withSeriesInfo(await builtKernel(req));
  const spec = choice.kernel ?? process.env.PCSHARE_KERNEL ?? DEFAULT_KERNEL;
  if (spec.startsWith("debian:")) {
    const rest = spec.slice("debian:".length);
    if (!rest) throw new Error(`--kernel debian: needs a suite or version, e.g. debian:sid or debian:trixie`);
    return debianKernel(rest);
  }
  return givenKernel(spec, { modulesDir: choice.modules, configFile: choice.kernelConfig });
}

/** Copy a built kernel's series record (subjects, message ids, base, patchset hash) into its KernelInfo. */
export async function withSeriesInfo(kernel: Kernel): Promise<Kernel> {
  const meta = await buildMeta(kernel);
  if (meta?.series) {
    kernel.info.series = {
      spec: meta.series.spec,
      base: meta.base,
      hash: meta.series.hash,
      patches: meta.series.patches.map((p) => ({ subject: p.subject, ...(p.messageId && { messageId: p.messageId }) })),
    };
  }
  return kernel;
}
