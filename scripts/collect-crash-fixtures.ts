// Boots the default kernel and makes it print real crash reports, saving each console log as a
// fixture for the crash classifier's tests (test/fixtures/console/). Each fixture starts with a
// header saying how it was produced. Run: PCSHARE_EXTRA_MODULES=ext4 npx tsx scripts/collect-crash-fixtures.ts
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { resolveKernel } from "../harness/kernel/resolve.ts";
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

const kernel = await resolveKernel();
for (const r of RECIPES) {
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
  console.log(`${r.name}: ${vm.crashes().map((c) => `${c.kind}: ${c.title}`).join("; ") || "no report found"}`);
}
