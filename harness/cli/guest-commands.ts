// `pcshare shell` (interactive guest shell on the serial console) and `pcshare exec -- CMD`
// (one command in a fresh guest, its output and exit status passed through).
import { spawnLeashed } from "../util/leash.ts";
import { prepareGuest, bootGuest, kernelCmdline, hostCaps } from "../vm/launch.ts";
import { qemuArgs, guestCmdline, shellQuote } from "../vm/qemu-args.ts";
import { kernelFrom, drivesFrom, intOption, type GuestCliOptions } from "./kernel-options.ts";
import { trackLeashed } from "../vm/reaper.ts";
import { VmError } from "../vm/errors.ts";
import { bootImage } from "../kernel/kernel.ts";

export async function shellCommand(opts: GuestCliOptions & { showCommand?: boolean }): Promise<number> {
  const kernel = await kernelFrom(opts);
  const guest = await prepareGuest(kernel);
  const argv = qemuArgs(
    {
      kernel: bootImage(kernel),
      initrd: guest.initrd,
      cmdline: guestCmdline({ interactive: true, extra: kernelCmdline(kernel) }),
      memoryMiB: intOption(opts.memory, "--memory"),
      cpus: intOption(opts.cpus, "--cpus"),
      drives: drivesFrom(opts),
      console: "terminal",
    },
    hostCaps(guest),
  );
  if (opts.showCommand) {
    console.log(shellQuote(argv));
    return 0;
  }
  process.stderr.write(`Booting ${kernel.info.release} (${guest.accel.accel}); Ctrl-A X quits QEMU, 'exit' powers off.\n`);
  const leash = spawnLeashed(argv[0], argv.slice(1), { stdin: "inherit", stdout: "inherit", stderr: "inherit", reject: false });
  trackLeashed(leash);
  const r = await leash.proc;
  return r.exitCode ?? 1;
}

export async function execCommand(argv: string[], opts: GuestCliOptions & { timeout: string; showCommand?: boolean }): Promise<number> {
  if (argv.length === 0) throw new Error("pcshare exec needs a command: pcshare exec -- uname -a");
  const kernel = await kernelFrom(opts);
  const vm = await bootGuest(kernel, {
    drives: drivesFrom(opts),
    memoryMiB: intOption(opts.memory, "--memory"),
    cpus: intOption(opts.cpus, "--cpus"),
  });
  try {
    if (opts.showCommand) process.stderr.write(shellQuote(vm.argv) + "\n");
    const timeoutMs = intOption(opts.timeout, "--timeout") * 1000;
    const command = argv.length === 1 && /\s/.test(argv[0]) ? ["sh", "-c", argv[0]] : argv;
    const r = await vm.step("exec", timeoutMs + 10_000, (agent) => agent.exec(command, { timeoutMs }));
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    const crashes = vm.crashes();
    for (const c of crashes) process.stderr.write(`pcshare: kernel ${c.kind}: ${c.title}\n`);
    if (r.timedOut) {
      process.stderr.write(`pcshare: command timed out after ${timeoutMs / 1000} s\n`);
      return 124;
    }
    return r.exitCode ?? 128 + (r.signal ?? 0);
  } catch (err) {
    if (err instanceof VmError) {
      process.stderr.write(`pcshare: ${err.details()}\n`);
      return 125;
    }
    throw err;
  } finally {
    await vm.shutdown();
  }
}
