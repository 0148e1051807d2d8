// Boot parameters that depend on the kernel and the host: acpi=noirq with MSI, lpj= from HZ and the host clock.
import { describe, expect, it } from "vitest";
import { calibrationCmdline, kernelCmdline } from "../../harness/vm/launch.ts";
import type { Kernel } from "../../harness/kernel/kernel.ts";

const kernel = (config: Record<string, string>) => ({ config }) as unknown as Kernel;

describe("kernelCmdline", () => {
  it("gives the delay loop's answer (host MHz * 1e6 / HZ) and skips ACPI interrupt links with MSI", () => {
    expect(kernelCmdline(kernel({ CONFIG_PCI_MSI: "y", CONFIG_HZ: "250" }), 2245.78)).toEqual(["acpi=noirq", "lpj=8983120"]);
    expect(kernelCmdline(kernel({ CONFIG_HZ: "1000" }), 3000)).toEqual(["lpj=3000000"]);
  });

  it("adds no lpj when HZ or the host clock is unknown", () => {
    expect(calibrationCmdline(undefined, 2245.78)).toEqual([]);
    expect(calibrationCmdline("250", undefined)).toEqual([]);
    expect(calibrationCmdline("abc", 2000)).toEqual([]);
  });
});
