#!/usr/bin/env node
// The `pcshare` command. Each subcommand lives in harness/cli/; this file only wires them.
import { Command, Option } from "commander";
import { addGuestOptions } from "./cli/kernel-options.ts";
import { doctorCommand } from "./cli/doctor.ts";
import { shellCommand, execCommand } from "./cli/guest-commands.ts";
import { VmError } from "./vm/errors.ts";
import { validateCommand } from "./cli/validate-inputs.ts";
import { describeErrno } from "./cli/validate.ts";
import { guardUnsettled } from "./cli/settle-guard.ts";
import { oneLineUsageErrors, usageExitCode } from "./cli/usage-errors.ts";
import { runCommand } from "./cli/run-command.ts";
import { measureCommand } from "./cli/measure-command.ts";
import { mergeCommand } from "./cli/merge-command.ts";
import { seriesCommand } from "./cli/series-command.ts";
import { mutantsCommand } from "./cli/mutants-command.ts";
import { exploreCommand } from "./cli/explore-command.ts";
import { PROGRAMS_PER_GUEST } from "./explore/explore.ts";
import { reproCommand } from "./cli/repro-command.ts";
import { concernsCommand } from "./cli/concerns-command.ts";
import { listCommand, reportCommand, compareCommand } from "./cli/report-commands.ts";
import { kcidbSubmitCommand } from "./cli/kcidb-command.ts";
import { b4CheckCommand } from "./cli/b4-check-command.ts";
import { addRecordOptions, historyAddCommand, historyListCommand, regressionsCommand, trendCommand } from "./cli/history-command.ts";
import { installReaper } from "./vm/reaper.ts";
import { imagesBuildCommand, imagesInspectCommand, imagesMutateCommand } from "./images/commands.ts";

installReaper(); // signals stop children and remove temp dirs from the start, not only once a guest runs
// A reader that stops early (`pcshare list | head`) closes stdout: stop as a Unix filter does on
// SIGPIPE (exit 141) instead of a stack trace; children go with pcshare (harness/util/leash.mjs).
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code !== "EPIPE") throw err;
  process.exit(141);
});

const program = oneLineUsageErrors(new Command(), "pcshare");
program
  .name("pcshare")
  .description(
    "Integration test suite for Linux EROFS page-cache sharing: builds fixture images, boots kernels " +
      "under QEMU, drives the guest case by case and measures whether mounts really share pages.",
  )
  // Every option and PCSHARE_* variable is checked before a command does any work.
  .hook("preAction", (_self, action) => validateCommand(action.name(), action.processedArgs, action.optsWithGlobals()));

program
  .command("doctor")
  .description("check the host: tools, KVM, the default kernel and whether it has page-cache sharing")
  .option("--kernel <spec>", "kernel to check instead of the default")
  .option("--json", "machine-readable output")
  .action(async (opts) => exit(await doctorCommand(opts)));

addGuestOptions(
  program
    .command("shell")
    .description("boot a guest with an interactive shell on the serial console (for debugging)")
    .option("--show-command", "print the QEMU command line and exit"),
).action(async (opts) => exit(await shellCommand(opts)));

addGuestOptions(
  program
    .command("exec")
    .description("run one command in a fresh guest and pass through its output and exit status")
    .argument("<command...>", "command and arguments (use -- before it)")
    .option("--timeout <s>", "seconds before the command is killed", "60")
    .option("--show-command", "print the QEMU command line on stderr"),
).action(async (argv: string[], opts) => exit(await execCommand(argv, opts)));

addGuestOptions(
  addRecordOptions(
    program
      .command("run")
      .description("run the suite (or a selection) on one kernel and write results and a report")
      .option("--only <ids...>", "run only these cases (ids, names, id-name; comma-separated; * wildcards)")
      .option("--skip <ids...>", "leave these cases out")
      .option("--tag <tags...>", "run cases with these tags or groups (e.g. smoke, F, I)")
      .option("--repeat <n>", "run each case n times (flakiness hunt)", "1")
      .option("--all-variants", "run every variant of every case (default: cases with many layout variants run a window of them, rotated by the seed)")
      .option("--variant-seed <n>", "seed that picks the rotating cases' variants (default: days since 1970-01-01 UTC; recorded in results.json)")
      .option("--jobs <n>", "guests running cases at once (default: what the host's free cores and memory allow; the choice is printed)")
      .option("--restore <mode>", "auto: start guests from a snapshot of a ready guest, made once per kernel and image set (falls back to booting); off: boot every guest (default auto; or PCSHARE_RESTORE)")
      .option("--out <dir>", "results directory (default results/<timestamp>)")
      .option("--spec <file...>", "image spec files (default: every images/*.yaml except scale.yaml, which is for the benchmark)")
      .option("--known-bugs <dir>", "registered kernel bugs: a failure they explain exactly is xfail (default known-bugs/)")
      .option("--no-known-bugs", "report every failure as fail, registered or not")
      .option("--strict", "exit 1 on xpass too (a registered bug that did not show)")
      .option("--shard <i/n>", "run only shard i of n of the selection, balanced by earlier durations (join them with pcshare merge)")
      .option("--durations <results...>", "results.json files whose case durations balance --shard (default: the newest complete run under results/)")
      .option("--no-durations", "balance --shard by the cases' declared timeouts"),
  ),
).action(async (opts) => exit(await runCommand(opts)));

addGuestOptions(
  addRecordOptions(
    program
      .command("measure")
      .description("measure the page-cache saving of sharing on 2-64 trees, tarballs, OCI/docker images, npm:<pkg>@<ver>, deb:<pkg>=<ver> or rootfs:<suite>+<pkgs> (exit 77 when the kernel lacks the feature)")
      .argument("<sources...>", "2 to 64 sources")
      .option("--access <mode>", "read-all (read(2) every file), mmap-all (map and touch every page, then read) or sample", "read-all")
      .option("--sample-percent <n>", "share of files read with --access sample", "25")
      .option("--per-file", "list the largest files that should have shared but did not, with the reason")
      .option("--out <dir>", "results directory (default results/measure-<timestamp>)"),
  ),
).action(async (sources: string[], opts) => exit(await measureCommand(sources, opts)));

addGuestOptions(
  program
    .command("explore")
    .description("draw operation programs over generated and fixture images from a seed, check each against a model of the documented rules, shrink each finding and save it as a case (exit 1 on a finding no registered bug explains)")
    .option("--budget <time>", "time for new programs (e.g. 10m, 90s)", "10m")
    .option("--seed <n>", "seed (default: from the clock, printed); the same seed draws the same programs")
    .option("--shrink <time>", "time for shrinking each distinct finding", "5m")
    .option("--no-shrink-known", "shrink only findings no registered bug explains (the others are saved as found)")
    .option("--max-programs <n>", "stop after this many programs")
    .option("--programs-per-guest <n>", "programs run one after another in one guest, with the clean-state check between them (1: a fresh guest each)", String(PROGRAMS_PER_GUEST))
    .option("--out <dir>", "results directory (default results/explore-<timestamp>)")
    .option("--found <dir>", "where to save the shrunk findings as cases (default cases/found)")
    .option("--no-found", "do not save found cases")
    .option("--known-bugs <dir>", "registered kernel bugs: findings they explain are labelled with the bug (default known-bugs/)")
    .option("--no-known-bugs", "label no finding as registered"),
).action(async (opts) => exit(await exploreCommand(opts)));

addGuestOptions(
  program
    .command("repro")
    .description("write a reproducer bundle that replays a case's steps with nothing but QEMU: a case id (run once here), a found case (E1, cases/found/E1.json) or a results.json entry (FILE#ID or --case ID); prints a summary for a mailing-list reply")
    .argument("<target>", "case id, found case or results.json")
    .requiredOption("--out <dir>", "where to write the bundle (a new or empty directory)")
    .option("--case <id>", "the case of a results.json to reproduce")
    .option("--no-kernel", "leave the kernel out of the bundle (run.sh then asks for a kernel image)"),
).action(async (target: string, opts) => exit(await reproCommand(target, { ...opts, kernelIncluded: opts.kernel !== false, kernel: typeof opts.kernel === "string" ? opts.kernel : undefined })));

addGuestOptions(
  program
    .command("concerns")
    .description("per review concern (trust boundary, lifetime, blob removal, ...), what this kernel does in the cases that reproduce it, as text to paste into a review; reads RESULTS, or runs the concern cases when none is given")
    .argument("[results]", "results.json (or its directory) of an earlier run")
    .option("--out <dir>", "results directory when the cases are run (default results/concerns-<timestamp>)")
    .option("--known-bugs <dir>", "registered kernel bugs (default known-bugs/)")
    .option("--no-known-bugs", "label no failure as registered"),
).action(async (results: string | undefined, opts) => exit(await concernsCommand(results, opts)));

const mergeCmd = program
  .command("merge")
  .description("join the results of `pcshare run --shard i/n` into one run (a shard that never reported makes its cases missing)")
  .argument("<results...>", "results.json files (or their directories) of the shards")
  .requiredOption("--out <dir>", "where to write the merged results and reports")
  .option("--shards <n>", "how many shards the run was split into (default: as the shards recorded)")
  .option("--strict", "exit 1 on xpass too (a registered bug that did not show)");
addRecordOptions(mergeCmd, "merged run").action(async (results: string[], opts) => exit(await mergeCommand(results, opts)));

program
  .command("series")
  .description("build the kernel without and with a patch series, run the cases on both until the comparison is decided (exit 1 on a significant new failure)")
  .argument("<series>", "mbox, .patch file, directory of patches, or A..B in a git --tree")
  .option("--tree <dir>", "source tree to build (default: Debian's linux-source matching the default kernel)")
  .option("--debug", "build both kernels with the debug fragment (KASAN, lockdep, DEBUG_VM, ...)")
  .option("--fragment <names...>", "config fragments for both builds (default base share-on)")
  .option("--only <ids...>", "run only these cases (ids, names, id-name; comma-separated; * wildcards)")
  .option("--skip <ids...>", "leave these cases out")
  .option("--tag <tags...>", "run cases with these tags or groups (e.g. smoke, F, I)")
  .option("--out <dir>", "results directory (default results/series-<timestamp>), with baseline/ and patched/")
  .option("--spec <file...>", "image spec files (default: every images/*.yaml except scale.yaml, which is for the benchmark)")
  .option("--jobs <n>", "guests running cases at once (default: what the host's free cores and memory allow; the choice is printed)")
  .option("--budget <minutes>", "time for running cases: after one run a side, undecided cases run again on both kernels until decided or this is spent", "20")
  .addOption(new Option("--memory <MiB>", "guest memory").default("1024"))
  .option("--known-bugs <dir>", "registered kernel bugs applied to both runs (default known-bugs/)")
  .option("--no-known-bugs", "report every failure as fail, registered or not")
  .action(async (series: string, opts) => exit(await seriesCommand(series, opts)));

program
  .command("b4-check")
  .description("check command for b4 review (b4.review-perpatch-check-cmd / review-series-check-cmd): reads a patch or series mbox on stdin, applies it, runs the cases A/B and prints b4's JSON verdict")
  .option("--tree <dir>", "source tree to apply to and build (default: Debian's linux-source matching the default kernel)")
  .option("--debug", "build both kernels with the debug fragment")
  .option("--fragment <names...>", "config fragments for both builds (default base share-on)")
  .option("--only <ids...>", "run only these cases (ids, names, id-name; comma-separated; * wildcards)")
  .option("--skip <ids...>", "leave these cases out")
  .option("--tag <tags...>", "run cases with these tags or groups (e.g. smoke, F, I)")
  .option("--out <dir>", "results directory (default results/b4-<timestamp>)")
  .option("--spec <file...>", "image spec files")
  .option("--budget <minutes>", "time for running cases after the builds (see pcshare series)", "20")
  .addOption(new Option("--memory <MiB>", "guest memory").default("1024"))
  .option("--known-bugs <dir>", "registered kernel bugs applied to both runs (default known-bugs/)")
  .option("--no-known-bugs", "report every failure as fail, registered or not")
  .action(async (opts) => exit(await b4CheckCommand(opts)));

program
  .command("mutants")
  .description("build each kernel-patches/mutants/ patch and check the cases its Killed-By line names fail on it (exit 1 if one survives)")
  .option("--only <names...>", "only these mutants (file names without .patch; * wildcards)")
  .option("--no-debug", "run mutants that need a debug kernel on the normal build instead")
  .option("--jobs <n>", "guests running cases at once (default: what the host's free cores and memory allow; the choice is printed)")
  .option("--dir <dir>", "directory of mutant patches", "kernel-patches/mutants")
  .option("--out <dir>", "results directory (default results/mutants-<timestamp>)")
  .option("--spec <file...>", "image spec files (default: every images/*.yaml except scale.yaml, which is for the benchmark)")
  .addOption(new Option("--memory <MiB>", "guest memory").default("1024"))
  .option("--known-bugs <dir>", "registered kernel bugs: a mutant's failure they explain exactly is no kill (default known-bugs/)")
  .option("--no-known-bugs", "count every failure as a kill, registered or not")
  .action(async (opts) => exit(await mutantsCommand(opts)));

program
  .command("list")
  .description("list the cases: id, name, groups, requirements and what a correct kernel does")
  .option("--json", "machine-readable output")
  .action(async (opts) => exit(await listCommand(opts)));

program
  .command("report")
  .description("re-export a results.json (e.g. to JUnit) without running anything")
  .argument("<results>", "results.json of an earlier run")
  .option("--format <formats...>", "json, ktap, junit, kcidb, md, html (default: all)")
  .option("--out <dir>", "where to write (default: beside results.json)")
  .option("--known-bugs <dir>", "judge the run again with this known-bugs registry first (e.g. known-bugs/ after editing a signature)")
  .option("--no-known-bugs", "judge the run again with no registered bugs (every failure a fail)")
  .action(async (file: string, opts) => exit(await reportCommand(file, opts)));

program
  .command("compare")
  .description("what changed between baseline and patched runs, as statistics over all their samples (exit 1 on a significant new failure or exact figure gone worse)")
  .argument("[results...]", "BASELINE PATCHED: one results.json a side (or use --baseline/--patched)")
  .option("--baseline <files...>", "results.json files of the baseline kernel (each may hold --repeat samples)")
  .option("--patched <files...>", "results.json files of the patched kernel")
  .option("--out <dir>", "also write comparison.json and comparison.md there")
  .option("--json", "machine-readable output")
  .action(async (files: string[], opts) => exit(await compareCommand(files, opts)));

const HISTORY_HELP = "history database (default $PCSHARE_HISTORY, else ~/.local/share/pcshare/history.sqlite)";
const history = program
  .command("history")
  .description("list the runs recorded in the history (every `pcshare run` appends one), oldest first")
  .option("--history <file>", HISTORY_HELP)
  .option("--kernel <text>", "only kernels whose identity (release, source, config hash, series hash) contains this")
  .option("--label <text>", "only runs with this label (e.g. nightly)")
  .option("--last <n>", "only the last n runs")
  .option("--json", "machine-readable output")
  .action(async (opts) => exit(await historyListCommand(opts)));
history
  .command("add")
  .description("record earlier runs (results directories or results.json files) in the history")
  .argument("<results...>", "results directories or results.json files")
  .option("--history <file>", HISTORY_HELP)
  .option("--label <text>", "label of these runs (e.g. nightly)")
  .action(async (files: string[], _opts, cmd: Command) => exit(await historyAddCommand(files, cmd.optsWithGlobals())));

program
  .command("trend")
  .description("draw an SVG chart of a measurement over the recorded runs (kernel releases and dates)")
  .argument("<measurement>", "measurement name as in results.json (or name[series]@x)")
  .option("--case <id>", "only this case's measurement")
  .option("--kernel <text>", "only kernels whose identity contains this")
  .option("--label <text>", "only runs with this label (e.g. nightly)")
  .option("--out <file>", "SVG file to write (default trend-<measurement>.svg)")
  .option("--history <file>", HISTORY_HELP)
  .action(async (name: string, opts) => exit(await trendCommand(name, opts)));

program
  .command("regressions")
  .description("per kernel, the latest recorded run against the one before it, with the A/B statistics (exit 1 on a significant change for the worse)")
  .option("--kernel <text>", "only kernels whose identity contains this")
  .option("--label <text>", "only runs with this label: --label nightly compares the latest nightly with the previous one")
  .option("--history <file>", HISTORY_HELP)
  .option("--json", "machine-readable output")
  .action(async (opts) => exit(await regressionsCommand(opts)));

const kcidb = program.command("kcidb").description("KCIDB (kernelci.org's common results database): send results there");
kcidb
  .command("submit")
  .description("POST the KCIDB 5.3 document of runs to $PCSHARE_KCIDB_URL/submit with $PCSHARE_KCIDB_TOKEN as bearer token (exit 1 when refused)")
  .argument("<results...>", "results.json files or results directories")
  .option("--dry-run", "print the document instead of sending it")
  .option("--results-url <url>", "where the results directories are published (the tests' logs link there)")
  .action(async (files: string[], opts) => exit(await kcidbSubmitCommand(files, opts)));

const images = program.command("images").description("build, inspect and mutate fixture images");
images
  .command("build")
  .description("build the images of spec files (default: images/basic.yaml and images/layouts.yaml)")
  .argument("[spec...]", "YAML spec files")
  .option("--name <name...>", "build only these images")
  .option("--json", "print the built images as JSON")
  .action(async (specs: string[], opts) => imagesBuildCommand({ specs: specs.length ? specs : undefined, names: opts.name, json: opts.json }));
images
  .command("inspect")
  .description("show an image's features, files and fingerprints")
  .argument("<image>", "EROFS image file")
  .option("--json", "machine-readable output")
  .action(async (image: string, opts) => imagesInspectCommand({ image, json: opts.json }));
images
  .command("mutate")
  .description("apply a named adversarial mutation to an image (--list shows them)")
  .argument("[image]", "EROFS image file")
  .option("--mutation <name>", "mutation to apply")
  .option("--path <path>", "file inside the image the mutation targets")
  .option("--from-path <path>", "second file (e.g. whose fingerprint to copy)")
  .option("--out <file>", "where to write the mutated image")
  .option("--list", "list the mutations and what a correct kernel does with each")
  .action(async (image: string | undefined, opts) => imagesMutateCommand({ image, ...opts }));

function exit(code: number): void {
  process.exitCode = code;
}

/** What to print for an error: a VM's long story, or one line (a system error names its path and the problem in words). */
function describe(err: Error): string {
  if (err instanceof VmError) return err.details();
  const e = err as NodeJS.ErrnoException;
  if (e.code && e.path && e.syscall) return `${e.path}: ${describeErrno(e.code)} (${e.syscall}); check the path, its permissions and the free space there`;
  return err.message;
}

guardUnsettled(program.parseAsync(), `pcshare ${process.argv.slice(2).find((a) => !a.startsWith("-")) ?? ""}`.trim()).catch((err: Error) => {
  const usage = usageExitCode(err); // commander printed its one line already
  if (usage !== undefined) return void (process.exitCode = usage);
  process.stderr.write(`pcshare: ${describe(err)}\n`);
  process.exitCode = 2;
});
