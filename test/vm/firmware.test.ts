// Which firmware guests start with: qboot when the QEMU in use ships it (Debian's qemu-system-data
// does, beside this machine's QEMU), SeaBIOS when asked for or when there is none.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { firmwareFor, firmwareFromEnv } from "../../harness/vm/firmware.ts";
import { findQemu } from "../../harness/util/host-tools.ts";

describe("firmware", () => {
  it("is the QEMU's own qboot.rom by default, and SeaBIOS (no -bios) on request", async () => {
    const qemu = await findQemu();
    const qboot = firmwareFor(qemu, "qboot");
    expect(qboot).toMatch(/\/share\/qemu\/qboot\.rom$/);
    expect(existsSync(qboot!)).toBe(true);
    expect(firmwareFor(qemu, "seabios")).toBeUndefined();
  });

  it("reads PCSHARE_FIRMWARE, default qboot, and refuses other names", () => {
    expect(firmwareFromEnv({})).toBe("qboot");
    expect(firmwareFromEnv({ PCSHARE_FIRMWARE: "seabios" })).toBe("seabios");
    expect(() => firmwareFromEnv({ PCSHARE_FIRMWARE: "ovmf" })).toThrow(/PCSHARE_FIRMWARE=ovmf: unknown firmware; use qboot or seabios/);
  });
});
