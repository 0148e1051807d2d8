// Boots a kernel and makes it print real crash reports, saving each console log as a fixture for the
// crash classifier's tests (test/fixtures/console/). Each fixture starts with a header saying how it
// was produced. The default kernel's recipes use the stock kernel; `--debug` builds the debug kernel
// (KASAN, KFENCE, lockdep, DEBUG_LIST, lkdtm) and provokes its reports through lkdtm, also saving the
// symbolized trace (<name>.symbolized.log) that decode_stacktrace.sh makes of the first report.
// Run: PCSHARE_EXTRA_MODULES=ext4 npx tsx scripts/collect-crash-fixtures.ts [--debug] [name...]
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { resolveKernel } from "../harness/kernel/resolve.ts";
import { builtKernel } from "../harness/kernel/build.ts";
import { symbolizeCrashes } from "../harness/kernel/symbolize.ts";
import { bootGuest } from "../harness/vm/launch.ts";
import { VmError } from "../harness/vm/errors.ts";

const OUT = path.resolve("test/fixtures/console");

interface Recipe {
  name: string;
  how: string;
  script: string;
  waitMs: number;
}

const RECIPES: Recipe[] = [
  { name: "sysrq-crash", how: "echo c > /proc/sysrq-trigger", script: "echo c > /proc/sysrq-trigger", waitMs: 5_000 },
  {
    name: "hung-task",
    how: "writer blocked on a frozen ext4 (fsfreeze) with hung_task_timeout_secs=2",
    script:
      "dd if=/dev/zero of=/tmp/fs.img bs=1M count=16 2>/dev/null && losetup /dev/loop0 /tmp/fs.img && mke2fs -q /dev/loop0 && " +
      "mkdir -p /mnt/x && mount -t ext2 /dev/loop0 /mnt/x && fsfreeze --freeze /mnt/x && " +
      "echo 2 > /proc/sys/kernel/hung_task_timeout_secs && (echo data > /mnt/x/f &) ; sleep 8; fsfreeze --unfreeze /mnt/x",
    waitMs: 30_000,
  },
];

/** One lkdtm crash type written to provoke-crash/DIRECT (a report, after which the guest may live on). */
const lkdtm = (name: string, type: string, how: string, waitMs = 60_000, before = ""): Recipe => ({
  name,
  how: `lkdtm ${type}: ${how}`,
  script: `${before}echo ${type} > /sys/kernel/debug/provoke-crash/DIRECT; sleep 3`,
  waitMs,
});

const DEBUG_RECIPES: Recipe[] = [
  lkdtm("kasan-slab-out-of-bounds", "SLAB_LINEAR_OVERFLOW", "write one byte past a kmalloc'ed buffer"),
  lkdtm("kasan-use-after-free", "READ_AFTER_FREE", "read a kmalloc'ed buffer after kfree"),
  lkdtm("kfence-use-after-free", "KFENCE_READ_AFTER_FREE", "read after free of an object KFENCE sampled", 120_000),
  lkdtm("lockdep-lock-held-returning", "SPINLOCKUP", "return to user space holding a spinlock"),
  lkdtm("list-add-corruption", "CORRUPT_LIST_ADD", "list_add() with a corrupted neighbour (DEBUG_LIST)"),
  lkdtm("soft-lockup", "SOFTLOCKUP", "spin with preemption off (watchdog_thresh=1)", 60_000, "echo 1 > /proc/sys/kernel/watchdog_thresh; "),
];

const args = process.argv.slice(2);
const debug = args.includes("--debug");
const only = args.filter((a) => !a.startsWith("--"));
const kernel = debug ? await builtKernel({ debug: true }) : await resolveKernel();
for (const r of (debug ? DEBUG_RECIPES : RECIPES).filter((x) => !only.length || only.includes(x.name))) {
  const vm = await bootGuest(kernel);
  try {
    await vm.step(r.name, r.waitMs, (a) => a.exec(["sh", "-c", r.script], { timeoutMs: r.waitMs - 2_000 }));
  } catch (err) {
    if (!(err instanceof VmError)) throw err;
  } finally {
    await vm.kill();
  }
  const header = `# pcshare crash fixture: ${r.name}\n# kernel: ${kernel.info.release} (${kernel.info.source} ${kernel.info.version})\n# produced by: ${r.how}\n# collected by scripts/collect-crash-fixtures.ts under QEMU\n`;
  await writeFile(path.join(OUT, `${r.name}.log`), header + vm.console.all());
  const crashes = vm.crashes();
  console.log(`${r.name}: ${crashes.map((c) => `${c.kind}: ${c.title}`).join("; ") || "no report found"}`);
  if (debug && crashes.length) {
    await symbolizeCrashes(kernel, crashes.slice(0, 1));
    if (crashes[0].symbolized) await writeFile(path.join(OUT, `${r.name}.symbolized.log`), header + crashes[0].symbolized + "\n");
    else console.log(`  not symbolized: ${crashes[0].symbolizeError ?? "decode_stacktrace.sh changed nothing"}`);
  }
}
