// Crash traces to file:line with the kernel's own scripts/decode_stacktrace.sh (from Debian's
// linux-source, as builds use it). The "vmlinux" here is a small program built with DWARF whose
// functions sit in init/main.c and fs/erofs/fake.c, so the script's automatic base path and the
// symbolized frames can be checked without a kernel build; the real debug kernel's traces are in
// test/fixtures/console/*.symbolized.log (scripts/collect-crash-fixtures.ts --debug).
import { mkdir, writeFile, copyFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { debianSource } from "../../harness/kernel/source.ts";
import { canSymbolize, findDecodeScript, symbolizeCrashes } from "../../harness/kernel/symbolize.ts";
import type { Kernel } from "../../harness/kernel/kernel.ts";
import type { CrashReport } from "../../harness/report/model.ts";
import { tempDir } from "./temp-dirs.ts";

const skip = process.env.PCSHARE_SKIP_BUILD_TESTS === "1";

const FILES: Record<string, string> = {
  "init/main.c": "int kernel_init(void *unused)\n{\n\treturn 0;\n}\n",
  "fs/erofs/fake.c":
    "static volatile int sink;\n__attribute__((noinline)) void erofs_fake_lookup(int n)\n{\n\tsink = n;\n\tsink += 2 * n;\n}\n",
  "main.c": "int kernel_init(void *);\nvoid erofs_fake_lookup(int);\nint main(void)\n{\n\terofs_fake_lookup(1);\n\treturn kernel_init(0);\n}\n",
};

describe.skipIf(skip)("symbolizing crash traces with decode_stacktrace.sh", () => {
  let kernel: Kernel;
  let tree: string;

  beforeAll(async () => {
    const source = await debianSource();
    tree = await tempDir(path.join(os.tmpdir(), "pcshare-symbolize-"));
    for (const [file, text] of Object.entries(FILES)) {
      await mkdir(path.dirname(path.join(tree, file)), { recursive: true });
      await writeFile(path.join(tree, file), text);
    }
    const entry = path.join(tree, "kernel-entry");
    await mkdir(entry);
    await execa("gcc", ["-g", "-O1", "-fno-pie", "-no-pie", "-o", path.join(entry, "vmlinux"), ...Object.keys(FILES).map((f) => path.join(tree, f))]);
    for (const s of ["decode_stacktrace.sh", "decodecode"]) await copyFile(path.join(source.dir, "scripts", s), path.join(entry, s));
    kernel = {
      info: { source: "test", release: "test", version: "test", hashes: {}, config: {} },
      image: "/nonexistent",
      modules: [],
      config: { CONFIG_DEBUG_INFO: "y" },
      vmlinux: path.join(entry, "vmlinux"),
      decodeScript: await findDecodeScript(path.join(entry, "vmlinux")),
    };
  }, 300_000);

  it("finds the script kept beside vmlinux and needs DWARF to try", () => {
    expect(kernel.decodeScript).toBe(path.join(path.dirname(kernel.vmlinux!), "decode_stacktrace.sh"));
    expect(canSymbolize(kernel)).toBe(true);
    expect(canSymbolize({ ...kernel, config: {} })).toBe(false);
    expect(canSymbolize({ ...kernel, vmlinux: undefined })).toBe(false);
  });

  it("turns function+offset frames into file:line relative to the tree, and leaves other lines alone", async () => {
    const excerpt = [
      "[   74.18] kernel BUG at fs/erofs/fake.c:4!",
      "[   74.19] Call Trace:",
      "[   74.19]  <TASK>",
      "[   74.19]  erofs_fake_lookup+0x6/0x20",
      "[   74.19]  not_a_symbol_anywhere+0x10/0x40",
      "[   74.19]  </TASK>",
    ].join("\n");
    const crashes: CrashReport[] = [{ kind: "bug", title: "kernel BUG at fs/erofs/fake.c:4!", excerpt }];
    await symbolizeCrashes(kernel, crashes);
    const out = crashes[0].symbolized?.split("\n") ?? [];
    expect(out[0]).toBe("[   74.18] kernel BUG at fs/erofs/fake.c:4!");
    expect(out[3]).toMatch(/erofs_fake_lookup \(fs\/erofs\/fake\.c:[3-6]\)$/);
    expect(out[4]).toContain("not_a_symbol_anywhere+0x10/0x40"); // unknown symbol: kept as printed
    expect(out).toHaveLength(6);
    expect(crashes[0].excerpt).toBe(excerpt); // the raw excerpt stays
  });

  it("records why when it cannot symbolize, and keeps the raw excerpt", async () => {
    const crashes: CrashReport[] = [{ kind: "oops", title: "Oops", excerpt: " erofs_fake_lookup+0x6/0x20" }];
    await symbolizeCrashes({ ...kernel, vmlinux: path.join(tree, "missing-vmlinux") }, crashes);
    expect(crashes[0].symbolized).toBeUndefined();
    expect(crashes[0].symbolizeError).toBe(`vmlinux not found: ${path.join(tree, "missing-vmlinux")}`);
  });
});
