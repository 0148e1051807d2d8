// Checks every command-line option and PCSHARE_* environment variable before any work starts (no
// download, build or boot), so bad input ends in one line naming the option and what to do. cli.ts
// calls validateCommand() from a pre-action hook; the commands then trust their options.
import { access, constants, mkdir, open, readdir, readFile, stat, writeFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadSeries } from "../kernel/series.ts";
import { loadFragment } from "../kernel/fragments.ts";
import { parseReportFormat } from "../report/index.ts";
import { InputError } from "../util/input-error.ts";

export { InputError };

const fail = (msg: string): never => {
  throw new InputError(msg);
};

export const LIMITS = {
  memoryMiB: { min: 256, max: Math.floor(os.totalmem() / 2 ** 20) },
  cpus: { min: 1, max: 64 },
  timeoutS: { min: 1, max: 86_400 },
  repeat: { min: 1, max: 1000 },
  jobs: { min: 1, max: 64 },
  buildJobs: { min: 1, max: 1024 },
  budgetMinutes: { min: 1, max: 10_080 },
};

/** An integer option in [min, max]; returns it. */
export function intIn(value: string, name: string, lim: { min: number; max: number }, unit = ""): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) fail(`${label(name, JSON.stringify(value))}: not a whole number; give an integer from ${lim.min} to ${lim.max}${unit}`);
  if (n < lim.min || n > lim.max) fail(`${label(name, value)}: out of range; give an integer from ${lim.min} to ${lim.max}${unit}`);
  return n;
}

/** "--kernel FILE" for an option, "PCSHARE_KERNEL=FILE" for a variable (its name given with the "="). */
export function label(name: string, value: string): string {
  return name.endsWith("=") ? `${name}${value}` : `${name} ${value}`;
}

async function statOrUndefined(p: string) {
  return stat(p).catch(() => undefined);
}

/** A readable regular file. */
export async function checkFile(p: string, name: string, hint = ""): Promise<void> {
  const st = await statOrUndefined(p);
  if (!st) fail(`${label(name, p)}: no such file${hint ? `; ${hint}` : ""}`);
  if (!st!.isFile()) fail(`${label(name, p)}: not a regular file${hint ? `; ${hint}` : ""}`);
  await access(p, constants.R_OK).catch(() => fail(`${label(name, p)}: not readable; fix its permissions`));
}

/** An existing directory. */
export async function checkDir(p: string, name: string, hint = ""): Promise<void> {
  const st = await statOrUndefined(p);
  if (!st) fail(`${label(name, p)}: no such directory${hint ? `; ${hint}` : ""}`);
  if (!st!.isDirectory()) fail(`${label(name, p)}: not a directory${hint ? `; ${hint}` : ""}`);
}

/** A directory pcshare can write into: created if absent; a file, a read-only place or a dead end is an error. */
export async function checkWritableDir(p: string, name: string): Promise<void> {
  const abs = path.resolve(p);
  const st = await statOrUndefined(abs);
  if (st && !st.isDirectory()) fail(`${label(name, p)}: is a file, not a directory; name a directory (it is created if missing)`);
  try {
    await mkdir(abs, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR" || code === "EEXIST") fail(`${label(name, p)}: a parent of it is a file, not a directory; name a directory`);
    // mkdir -p reports the component it failed on; the useful fact is why the nearest existing parent refuses.
    const parent = await nearestExisting(path.dirname(abs));
    const why = await writeProbe(parent);
    fail(`${label(name, p)}: cannot create it: ${parent} is not writable (${why ?? describeErrno(code)}); name a writable directory`);
  }
  const why = await writeProbe(abs);
  if (why) fail(`${label(name, p)}: not writable (${why}); name a writable directory`);
}

async function nearestExisting(p: string): Promise<string> {
  while (!(await statOrUndefined(p)) && path.dirname(p) !== p) p = path.dirname(p);
  return p;
}

/** Why a file cannot be created in `dir` (in words), or undefined when it can. */
async function writeProbe(dir: string): Promise<string | undefined> {
  const probe = path.join(dir, `.pcshare-write-test-${process.pid}`);
  try {
    await writeFile(probe, "");
    await rm(probe, { force: true });
    return undefined;
  } catch (err) {
    return describeErrno((err as NodeJS.ErrnoException).code);
  }
}

/** Errno codes in words (the raw text of Node's messages names the syscall, not the problem). */
export function describeErrno(code: string | undefined): string {
  const words: Record<string, string> = {
    EROFS: "read-only file system",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ENOSPC: "no space left on the device",
    EDQUOT: "disk quota exceeded",
    ENOENT: "a parent directory cannot be created",
    ENOTDIR: "a parent is not a directory",
    EISDIR: "is a directory",
  };
  return (code && words[code]) ?? code ?? "unknown error";
}

/** The kernel image format QEMU boots: an x86 bzImage ("HdrS" setup header) or an ELF vmlinux. */
export async function kernelImageKind(file: string): Promise<"bzImage" | "elf" | undefined> {
  const fh = await open(file, "r");
  try {
    const buf = Buffer.alloc(0x210);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead >= 4 && buf.readUInt32BE(0) === 0x7f454c46) return "elf";
    if (bytesRead >= 0x206 && buf.toString("latin1", 0x202, 0x206) === "HdrS") return "bzImage";
    return undefined;
  } finally {
    await fh.close();
  }
}

/** `--kernel` (or PCSHARE_KERNEL): debian:<suite|version>, or an existing bzImage/ELF kernel file. */
export async function checkKernelSpec(spec: string, name: string): Promise<void> {
  if (spec.startsWith("debian:")) {
    if (!/^debian:[A-Za-z0-9][A-Za-z0-9.+~_-]*$/.test(spec)) fail(`${label(name, spec)}: needs a Debian suite or version, e.g. debian:sid or debian:7.2.13`);
    return;
  }
  const hint = "give a bzImage (arch/x86/boot/bzImage), an ELF vmlinux, or debian:<suite>";
  await checkFile(spec, name, hint);
  if (!(await kernelImageKind(spec))) fail(`${label(name, spec)}: not a kernel image (no bzImage header, not ELF); ${hint}`);
}

/** A modules tree must hold at least one module file. */
export async function checkModulesDir(dir: string): Promise<void> {
  await checkDir(dir, "--modules", "give a `make modules_install INSTALL_MOD_PATH=` output");
  if (!(await containsModule(dir, 6))) fail(`--modules ${dir}: no kernel modules (*.ko, *.ko.xz, *.ko.zst, *.ko.gz) in it; give a modules_install output`);
}

async function containsModule(dir: string, depth: number): Promise<boolean> {
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isFile() && /\.ko(\.xz|\.zst|\.gz)?$/.test(e.name)) return true;
    if (e.isDirectory() && depth > 0 && (await containsModule(path.join(dir, e.name), depth - 1))) return true;
  }
  return false;
}

/** A kernel .config: only CONFIG_X=value lines, "# CONFIG_X is not set", comments and blank lines. */
export async function checkKernelConfig(file: string): Promise<void> {
  await checkFile(file, "--kernel-config", "give the .config of the --kernel bzImage");
  const lines = (await readFile(file, "latin1")).split("\n");
  let options = 0;
  for (const [i, line] of lines.entries()) {
    if (/^CONFIG_[A-Za-z0-9_]+=/.test(line) || /^# CONFIG_[A-Za-z0-9_]+ is not set/.test(line)) options++;
    else if (line.trim() !== "" && !line.startsWith("#")) {
      fail(`--kernel-config ${file}:${i + 1}: not a kernel config line (${JSON.stringify(line.slice(0, 40))}); give a .config written by make`);
    }
  }
  if (options === 0) fail(`--kernel-config ${file}: no CONFIG_ options in it; give a .config written by make`);
}

/** A series: a file or directory that holds at least one patch, or A..B with a git --tree. */
export async function checkSeries(spec: string, name: string, tree?: string): Promise<void> {
  const st = await statOrUndefined(spec);
  if (!st) {
    if (/\.\./.test(spec) && !spec.includes("/")) {
      if (!tree) fail(`${label(name, spec)}: a git range needs --tree pointing at a git checkout`);
      return;
    }
    fail(`${label(name, spec)}: no such file or directory; give an mbox, a .patch, a directory of patches, or A..B with a git --tree`);
  }
  let series;
  try {
    series = await loadSeries(spec);
  } catch (err) {
    fail(`${label(name, spec)}: ${(err as Error).message.replace(/^series \S+: /, "")}; give an mbox, a .patch file or a directory of them`);
  }
  if (!series!.patches.length) fail(`${label(name, spec)}: no patches in it; give an mbox, a .patch file or a directory of them`);
}

/** `--image NAME=PATH`: a name usable as a device link and an existing image file. */
export async function checkImageOption(spec: string): Promise<void> {
  const eq = spec.indexOf("=");
  if (eq <= 0) fail(`--image ${spec}: expected NAME=PATH, e.g. --image a=out/share-a.erofs`);
  const name = spec.slice(0, eq);
  if (!/^[A-Za-z0-9_-]+$/.test(name)) fail(`--image ${spec}: the name "${name}" may only use letters, digits, _ and -`);
  await checkFile(spec.slice(eq + 1), `--image ${name}=`, "give an EROFS image file");
}

/** Image spec YAML files exist (the spec loader, images/spec.ts, checks what is in them). */
export async function checkSpecFiles(files: string[], name: string): Promise<void> {
  for (const f of files) await checkFile(f, name, "give an image spec YAML file (see images/)");
}

export async function checkFragments(names: string[]): Promise<void> {
  for (const n of names.flatMap((f) => f.split(",")).map((f) => f.trim()).filter(Boolean)) {
    try {
      await loadFragment(n);
    } catch (err) {
      fail(`--fragment ${n}: ${(err as Error).message.replace(/^config fragment "[^"]*": /, "")}; name one of them or give a path`);
    }
  }
}

export function checkReportFormats(formats: string[]): void {
  for (const f of formats.flatMap((x) => x.split(","))) {
    try {
      parseReportFormat(f);
    } catch (err) {
      fail(`--format ${f}: ${(err as Error).message}`);
    }
  }
}
