// Which checks (validate.ts) apply to which command's options, and the PCSHARE_* environment
// variables. validateCommand() runs before a command's action: nothing is downloaded, built or booted
// until every input has passed.
import { access, constants, stat } from "node:fs/promises";
import { readResults } from "../report/index.ts";
import { checkShards } from "../report/merge.ts";
import { MUTATIONS } from "../images/erofs/mutate.ts";
import { resultsFileOf } from "./kcidb-command.ts";
import path from "node:path";
import { parseShard } from "../runner/shard.ts";
import { BOOT_MODES } from "../kernel/boot.ts";
import { RESTORE_MODES } from "../vm/snapshot.ts";
import { historyFile } from "../history/store.ts";
import { parseDuration, parseSeed } from "./explore-command.ts";
import {
  InputError, LIMITS, intIn, checkFile, checkDir, checkWritableDir, checkKernelSpec, checkModulesDir, checkKernelConfig,
  checkSeries, checkImageOption, checkSpecFiles, checkFragments, checkReportFormats,
} from "./validate.ts";

type Opts = Record<string, unknown>;
const fail = (msg: string): never => {
  throw new InputError(msg);
};
const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : typeof v === "string" ? [v] : []);

/** The PCSHARE_* variables pcshare reads, each with its check. */
export const ENV_CHECKS: Record<string, (value: string, name: string) => Promise<void> | void> = {
  PCSHARE_ACCEL: (v, n) => {
    if (v !== "kvm" && v !== "tcg") fail(`${n}=${v}: unknown accelerator; use kvm or tcg, or unset it to probe`);
  },
  PCSHARE_QEMU: async (v, n) => {
    await checkFile(v, `${n}=`, "point it at qemu-system-x86_64 or unset it");
    await access(v, constants.X_OK).catch(() => fail(`${n}=${v}: not executable; point it at qemu-system-x86_64 or unset it`));
  },
  PCSHARE_KERNEL: (v, n) => checkKernelSpec(v, `${n}=`),
  PCSHARE_CACHE: (v, n) => checkWritableDir(v, `${n}=`),
  PCSHARE_BUILD_JOBS: (v, n) => void intIn(v, `${n}=`, LIMITS.buildJobs),
  PCSHARE_EXTRA_MODULES: (v, n) => {
    for (const m of v.split(",").map((x) => x.trim()).filter(Boolean)) {
      if (!/^[A-Za-z0-9_-]+$/.test(m)) fail(`${n}=${v}: "${m}" is not a module name; give comma-separated names such as ext4,xfs`);
    }
  },
  PCSHARE_BUSYBOX: (v, n) => checkFile(v, `${n}=`, "point it at a statically linked busybox or unset it"),
  PCSHARE_EROFS_UTILS_DIR: (v, n) => checkDir(v, `${n}=`, "point it at a directory with mkfs.erofs and dump.erofs or unset it"),
  PCSHARE_SPARE_GUEST: (v, n) => {
    if (v !== "0" && v !== "1") fail(`${n}=${v}: use 0 or 1`);
  },
  PCSHARE_BOOT: (v, n) => checkBootMode(v, `${n}=`),
  PCSHARE_RESTORE: (v, n) => checkRestoreMode(v, `${n}=`),
  PCSHARE_FIRMWARE: (v, n) => {
    if (v !== "qboot" && v !== "seabios") fail(`${n}=${v}: unknown firmware; use qboot or seabios`);
  },
  PCSHARE_QUIET: (v, n) => {
    if (v !== "0" && v !== "1") fail(`${n}=${v}: use 0 or 1`);
  },
  PCSHARE_KCIDB_URL: (v, n) => {
    if (!/^https?:\/\/[^\s/]+/.test(v)) fail(`${n}=${v}: not an http(s) URL; give the KCIDB REST base URL (pcshare posts to <url>/submit)`);
  },
  PCSHARE_KCIDB_TOKEN: () => {},
  PCSHARE_HISTORY: (v, n) => checkWritableDir(path.dirname(path.resolve(v)), `${n}= (its directory)`),
  PCSHARE_DEBIAN_MIRROR: (v, n) => {
    if (!/^https?:\/\/[^\s/]+/.test(v)) fail(`${n}=${v}: not an http(s) URL; give e.g. http://deb.debian.org/debian`);
  },
};

/** Variables the test suite reads (not pcshare itself): accepted without a warning. */
const TEST_VARIABLES = new Set(["PCSHARE_SKIP_BUILD_TESTS"]);

export async function validateEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("PCSHARE_") || value === undefined) continue;
    const check = ENV_CHECKS[name];
    if (check) {
      if (value === "") fail(`${name} is set but empty; give a value or unset it`);
      await check(value, name);
    } else if (!TEST_VARIABLES.has(name)) {
      process.stderr.write(`pcshare: warning: ${name} is not a variable pcshare reads (known: ${Object.keys(ENV_CHECKS).join(", ")})\n`);
    }
  }
}

/** --boot or PCSHARE_BOOT (name given with its separator: "--boot " or "PCSHARE_BOOT="). */
function checkBootMode(v: string, name: string): void {
  if (!(BOOT_MODES as readonly string[]).includes(v)) fail(`${name}${v}: unknown boot path; use ${BOOT_MODES.join(", ")}`);
}

/** --restore or PCSHARE_RESTORE. */
function checkRestoreMode(v: string, name: string): void {
  if (!(RESTORE_MODES as readonly string[]).includes(v)) fail(`${name}${v}: unknown restore mode; use ${RESTORE_MODES.join(" or ")}`);
}

function memoryOption(v: unknown): void {
  const { min, max } = LIMITS.memoryMiB;
  intIn(String(v), "--memory", LIMITS.memoryMiB, ` MiB (${min} is the smallest guest pcshare boots, ${max} the host's memory)`);
}

/** --kernel/--modules/--kernel-config/build options/--image/--memory/--cpus of the guest commands. */
async function guestOptions(o: Opts): Promise<void> {
  memoryOption(o.memory);
  intIn(String(o.cpus), "--cpus", LIMITS.cpus);
  const building = o.tree !== undefined || o.series !== undefined || o.debug === true || list(o.fragment).length > 0;
  const given = ["kernel", "modules", "kernelConfig"].filter((k) => o[k] !== undefined);
  if (building && given.length) {
    fail(`--${given.map((k) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).join(", --")} cannot be combined with --tree/--series/--debug/--fragment (those build a kernel from source)`);
  }
  if (typeof o.kernel === "string") await checkKernelSpec(o.kernel, "--kernel");
  if (o.boot !== undefined) checkBootMode(String(o.boot), "--boot ");
  const kernelIsFile = (typeof o.kernel === "string" ? o.kernel : process.env.PCSHARE_KERNEL ?? "debian:").startsWith("debian:") === false;
  if (typeof o.modules === "string") {
    if (!kernelIsFile) fail(`--modules ${o.modules}: only for a --kernel bzImage path (Debian kernels bring their own modules)`);
    await checkModulesDir(o.modules);
  }
  if (typeof o.kernelConfig === "string") {
    if (!kernelIsFile) fail(`--kernel-config ${o.kernelConfig}: only for a --kernel bzImage path (Debian kernels bring their own config)`);
    await checkKernelConfig(o.kernelConfig);
  }
  await buildOptions(o);
  for (const img of list(o.image)) await checkImageOption(img);
}

async function buildOptions(o: Opts): Promise<void> {
  if (typeof o.tree === "string") {
    await checkDir(o.tree, "--tree", "give a Linux source tree");
    await access(path.join(o.tree, "Makefile")).catch(() => fail(`--tree ${o.tree}: not a Linux source tree (no Makefile in it); give a kernel source checkout`));
  }
  if (typeof o.series === "string") await checkSeries(o.series, "--series", o.tree as string | undefined);
  await checkFragments(list(o.fragment));
}

/** --jobs of the commands that run cases: guests at once, when given. */
function jobsOption(o: Opts): void {
  if (o.jobs !== undefined) intIn(String(o.jobs), "--jobs", LIMITS.jobs, " guests at once");
}

async function resultsOptions(o: Opts): Promise<void> {
  if (typeof o.knownBugs === "string") await checkDir(o.knownBugs, "--known-bugs", "give a directory of registered bugs like known-bugs/, or --no-known-bugs");
  if (typeof o.out === "string") await checkWritableDir(o.out, "--out");
  if (o.spec !== undefined) await checkSpecFiles(list(o.spec), "--spec");
}

async function checkResultsFile(f: string, name: string): Promise<void> {
  await checkFile(f, name, "give the results.json of an earlier run");
  await readResults(f).catch((err: Error) => fail(`${name} ${err.message}; give the results.json of an earlier run`));
}

async function historyOptions(o: Opts): Promise<void> {
  if (typeof o.history === "string") await checkWritableDir(path.dirname(path.resolve(o.history)), "--history (its directory)");
}

/** The history a reading command (history, trend, regressions) opens: it must exist; nothing is created. */
async function historyToRead(o: Opts): Promise<void> {
  if (o.last !== undefined) intIn(String(o.last), "--last", { min: 1, max: 1_000_000 });
  const file = historyFile(typeof o.history === "string" ? o.history : undefined);
  const named = typeof o.history === "string" ? `--history ${o.history}` : process.env.PCSHARE_HISTORY ? `PCSHARE_HISTORY=${process.env.PCSHARE_HISTORY}` : `the history ${file}`;
  const st = await stat(file).catch(() => undefined);
  if (!st) fail(`${named}: no such file (no run was recorded there); record runs with pcshare run, pcshare merge or pcshare history add, or name the history file with --history`);
  if (!st!.isFile()) fail(`${named}: not a file; name the history database file (e.g. history.sqlite)`);
}

/** --shard i/n and the --durations files that balance it. */
async function shardOptions(o: Opts): Promise<void> {
  if (typeof o.shard === "string") parseShard(o.shard);
  const durations = list(o.durations);
  if (durations.length && o.shard === undefined) fail("--durations only balances --shard; add --shard I/N or leave --durations out");
  for (const f of durations) await checkResultsFile(f, "--durations");
}

/** Per command: the checks of its arguments and options. */
const COMMANDS: Record<string, (args: unknown[], o: Opts) => Promise<void>> = {
  doctor: async (_a, o) => {
    if (typeof o.kernel === "string") await checkKernelSpec(o.kernel, "--kernel");
  },
  shell: async (_a, o) => {
    await guestOptions(o);
    if (!o.showCommand && !process.stdin.isTTY) fail("pcshare shell needs a terminal on stdin (it is interactive); use `pcshare exec -- CMD` to run a command without one");
  },
  exec: async (a, o) => {
    if (list(a[0]).length === 0) fail("pcshare exec needs a command: pcshare exec -- uname -a");
    intIn(String(o.timeout), "--timeout", LIMITS.timeoutS, " seconds");
    await guestOptions(o);
  },
  run: async (_a, o) => {
    intIn(String(o.repeat), "--repeat", LIMITS.repeat);
    if (o.variantSeed !== undefined) intIn(String(o.variantSeed), "--variant-seed", { min: 0, max: Number.MAX_SAFE_INTEGER });
    jobsOption(o);
    if (o.restore !== undefined) checkRestoreMode(String(o.restore), "--restore ");
    await historyOptions(o);
    await shardOptions(o);
    await guestOptions(o);
    await resultsOptions(o);
  },
  explore: async (_a, o) => {
    parseDuration(String(o.budget), "--budget");
    parseDuration(String(o.shrink), "--shrink", { zero: true });
    parseSeed(o.seed as string | undefined);
    if (o.maxPrograms !== undefined) intIn(String(o.maxPrograms), "--max-programs", LIMITS.repeat);
    if (typeof o.found === "string") await checkWritableDir(path.dirname(path.resolve(o.found)), "--found (its directory)");
    await guestOptions(o);
    await resultsOptions(o);
  },
  repro: async (_a, o) => {
    await guestOptions({ ...o, kernel: typeof o.kernel === "string" ? o.kernel : undefined });
    await checkWritableDir(path.dirname(path.resolve(String(o.out))), "--out (its directory)");
  },
  concerns: async (a, o) => {
    const given = list(a[0])[0];
    if (given) {
      const st = await stat(given).catch(() => undefined);
      await checkResultsFile(st?.isDirectory() ? path.join(given, "results.json") : given, "results");
      return;
    }
    await guestOptions(o);
    await resultsOptions(o);
  },
  series: async (a, o) => {
    memoryOption(o.memory);
    jobsOption(o);
    await buildOptions({ ...o, series: undefined });
    if (o.budget !== undefined) intIn(String(o.budget), "--budget", LIMITS.budgetMinutes, " minutes");
    await checkSeries(String(a[0]), "series", o.tree as string | undefined);
    await resultsOptions(o);
  },
  mutants: async (_a, o) => {
    memoryOption(o.memory);
    jobsOption(o);
    await checkDir(String(o.dir), "--dir", "give a directory of mutant .patch files");
    await resultsOptions(o);
  },
  report: async (a, o) => {
    if (o.format) checkReportFormats(list(o.format));
    await checkResultsFile(String(a[0]), "results");
    if (typeof o.out === "string") await checkWritableDir(o.out, "--out");
    if (typeof o.knownBugs === "string") await checkDir(o.knownBugs, "--known-bugs", "give a directory of registered bugs like known-bugs/, or --no-known-bugs");
  },
  merge: async (a, o) => {
    const parts = [];
    for (const f of list(a[0])) {
      const file = await resultsFileOf(f);
      await checkResultsFile(file, "results");
      parts.push({ file, run: await readResults(file) });
    }
    if (o.shards !== undefined) intIn(String(o.shards), "--shards", { min: 1, max: 1000 });
    try {
      checkShards(parts, { shards: o.shards === undefined ? undefined : Number(o.shards) }); // before --out is created
    } catch (err) {
      fail((err as Error).message);
    }
    await historyOptions(o);
    await checkWritableDir(String(o.out), "--out");
  },
  compare: async (a, o) => {
    const [baseline, patched] = list(a[0]);
    for (const f of [...(baseline ? [baseline] : []), ...list(o.baseline)]) await checkResultsFile(f, "baseline");
    for (const f of [...(patched ? [patched] : []), ...list(o.patched)]) await checkResultsFile(f, "patched");
    if (typeof o.out === "string") await checkWritableDir(o.out, "--out");
  },
  "b4-check": async (_a, o) => {
    memoryOption(o.memory);
    await buildOptions({ ...o, series: undefined });
    if (o.budget !== undefined) intIn(String(o.budget), "--budget", LIMITS.budgetMinutes, " minutes");
    await resultsOptions(o);
  },
  history: async (_a, o) => historyToRead(o),
  add: async (a, o) => {
    await historyOptions(o);
    for (const f of list(a[0])) await checkResultsFile(await resultsFileOf(f), "results");
  },
  trend: async (_a, o) => {
    await historyToRead(o);
    if (typeof o.out === "string") await checkWritableDir(path.dirname(path.resolve(o.out)), "--out (its directory)");
  },
  regressions: async (_a, o) => historyToRead(o),
  submit: async (a, o) => {
    for (const f of list(a[0])) await checkResultsFile(await resultsFileOf(f), "results");
    if (typeof o.resultsUrl === "string" && !URL.canParse(o.resultsUrl)) fail(`--results-url ${o.resultsUrl}: not a URL; give where the results directories are published, e.g. https://ci.example.org/artifacts/`);
  },
  build: async (a) => {
    if (list(a[0]).length) await checkSpecFiles(list(a[0]), "spec");
  },
  inspect: async (a) => {
    await checkFile(String(a[0]), "image", "give an EROFS image file");
  },
  mutate: async (a, o) => {
    if (o.list || !o.mutation) return;
    if (!(String(o.mutation) in MUTATIONS)) fail(`--mutation ${o.mutation}: unknown (known: ${Object.keys(MUTATIONS).join(", ")}); see pcshare images mutate --list`);
    const image = a[0];
    if (typeof image !== "string") return fail("images mutate needs an input IMAGE: pcshare images mutate IMAGE --mutation NAME --out FILE");
    await checkFile(image, "image", "give an EROFS image file");
    if (typeof o.out !== "string") fail("images mutate needs --out FILE (where to write the mutated image)");
    await checkWritableDir(path.dirname(path.resolve(o.out as string)), "--out (its directory)");
  },
};

/** Validate the environment, then the arguments and options of `command` (its name as commander knows it). */
export async function validateCommand(command: string, args: unknown[], opts: Opts): Promise<void> {
  await validateEnvironment();
  await COMMANDS[command]?.(args, opts);
}
