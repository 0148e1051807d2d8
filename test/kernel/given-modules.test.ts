// Tests of `--kernel PATH --modules DIR` (harness/kernel/given.ts): the collected modules are cached by
// their content, so changing DIR/erofs.ko gives the guest the new module, not the one cached before.
import { appendFile, copyFile, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { debianKernel } from "../../harness/kernel/debian.ts";
import { givenKernel } from "../../harness/kernel/given.ts";
import type { Kernel } from "../../harness/kernel/kernel.ts";

let work: string;
let debian: Kernel;
const saved = process.env.PCSHARE_CACHE;
beforeAll(async () => {
  debian = await debianKernel(); // from the usual cache (downloaded once)
  work = await mkdtemp(path.join(tmpdir(), "pcshare-given-test-"));
  process.env.PCSHARE_CACHE = path.join(work, "cache");
}, 600_000);
afterAll(async () => {
  if (saved === undefined) delete process.env.PCSHARE_CACHE;
  else process.env.PCSHARE_CACHE = saved;
  if (work) await rm(work, { recursive: true, force: true });
});

describe("givenKernel --modules", () => {
  it("uses the modules now in the directory, after one of them changed", async () => {
    const dir = path.join(work, "mods");
    await mkdir(dir);
    for (const m of debian.modules) await copyFile(m, path.join(dir, path.basename(m)));
    const erofs = path.join(dir, "erofs.ko");
    const before = await givenKernel(debian.image, { modulesDir: dir });
    const first = before.modules.find((m) => m.endsWith("/erofs.ko"))!;
    expect(await readFile(first)).toEqual(await readFile(erofs));

    await appendFile(erofs, Buffer.from("a rebuilt module\n"));
    const after = await givenKernel(debian.image, { modulesDir: dir });
    const second = after.modules.find((m) => m.endsWith("/erofs.ko"))!;
    expect(await readFile(second)).toEqual(await readFile(erofs));
    expect(second).not.toBe(first);
    // The first entry is still intact for whoever uses the old module.
    expect((await readFile(first)).length).toBe((await readFile(erofs)).length - 17);
    expect((await readdir(path.join(work, "cache", "kernels"))).filter((n) => n.startsWith("given-modules-"))).toHaveLength(2);
  });
});
