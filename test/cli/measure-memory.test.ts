// Guest memory of `pcshare measure`: sized from the sources' plain page cache, and a clear input
// error (before anything boots) when the host cannot give it. Pure: the host's figure is passed in.
import { describe, expect, it } from "vitest";
import { guestMemoryMiB } from "../../harness/cli/measure-command.ts";
import { InputError } from "../../harness/util/input-error.ts";

const MiB = 1 << 20;

describe("guestMemoryMiB", () => {
  it("is 512 MiB plus 1.2 x the plain total, at least --memory", () => {
    expect(guestMemoryMiB(324 * MiB, 1024, 20_000)).toBe(1024);
    expect(guestMemoryMiB(1000 * MiB, 1024, 20_000)).toBe(512 + 1200);
    expect(guestMemoryMiB(1000 * MiB, 4096, 20_000)).toBe(4096);
  });

  it("refuses in one line, naming the need, the sources' size and the host's memory, when the host would keep under 256 MiB", () => {
    expect(guestMemoryMiB(1000 * MiB, 1024, 1712 + 256)).toBe(1712);
    const run = () => guestMemoryMiB(1000 * MiB, 1024, 1712 + 255);
    expect(run).toThrow(InputError);
    expect(run).toThrow(/^the guest needs 1712 MiB \(the sources' plain page cache is 1000 MiB\) but the host has 1967 MiB available; measure fewer or smaller sources, use --access sample, or free memory$/);
  });
});
