// Kernels built from source: Debian's linux-source or a user's tree, plus an optional patch series and
// config fragments, built out of tree into a Kernel with everything built in (modules: []).
//
// Caching, decided for fast re-builds after a patch change:
// - A *workspace* per (source, fragments) under <cache>/builds/<source>-f<hash>/ holds a scratch copy
//   of the source (`src/`, hard links to Debian's unpacked tree, or an rsync copy of a user's tree
//   refreshed before every build, without in-tree build output and .git) and
//   the build directory (`out/`, `make O=out`). It is kept across series: before a build, the files the
//   previous series touched are put back from the pristine tree with a fresh mtime, the new series is
//   applied (patch(1) writes new files, so hard links to the pristine tree are never written through),
//   and make rebuilds only what changed. A workspace is used by one build at a time (lock directory).
// - The result (bzImage, .config, vmlinux, System.map, build log) is copied into an immutable
//   cachedDir("kernels", built-<source>-f<fragments>-s<series>-...) entry, which is what the Kernel points
//   at. For Debian's source that key says everything, so a cached entry skips the workspace entirely;
//   a user's tree can change under us, so it always runs (incremental, near no-op) make first.
import { copyFile, mkdir, readFile, rename, rm, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { createWriteStream } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { cachedDir, lookupEntry } from "../util/cache.ts";
import { sha256File } from "../util/hash.ts";
import { progress } from "../util/progress.ts";
import { loadCachedKernel } from "./debian.ts";
import { findDecodeScript } from "./symbolize.ts";
import { parseConfig, recordedOptions, type Kernel } from "./kernel.ts";
import { checkOptions, explainMismatches, fragmentsHash, loadFragments, requestedOptions, type Fragment } from "./fragments.ts";
import { applySeries, loadSeries, type Series } from "./series.ts";
import { debianSource, userTree, workspaceRoot, type SourceTree } from "./source.ts";
import { exists } from "../util/fs.ts";
import { acquireLock } from "../util/lock.ts";
import { spawnLeashed } from "../util/leash.ts";
import { trackLeashed } from "../vm/reaper.ts";

export interface BuildRequest {
  /** A user's source tree (git checkout or plain directory); default Debian sid's linux-source. */
  tree?: string;
  /** A patch series: mbox, .patch file, directory of patches, or A..B in a git tree. */
  series?: string;
  /** Add the debug fragment (KASAN, lockdep, DEBUG_VM, ...). */
  debug?: boolean;
  /** Fragments (names in kernel-configs/ or paths), default ["base", "share-on"]; "base" is always first. */
  fragments?: string[];
}

export const DEFAULT_FRAGMENTS = ["base", "share-on"];
/** Bumped when the layout of a built-kernel entry or the build recipe changes. */
const LAYOUT = 2; // 2: decode_stacktrace.sh kept beside vmlinux
const ARCH = "x86_64";
/** make gets this long after SIGTERM to stop its jobs and delete their half-written targets. */
const MAKE_GRACE_MS = 30_000;
/** Fixed build identity so that identical inputs give an identical bzImage. */
const BUILD_ENV = { KBUILD_BUILD_TIMESTAMP: "2026-01-01 00:00:00 UTC", KBUILD_BUILD_USER: "pcshare", KBUILD_BUILD_HOST: "pcshare", LC_ALL: "C" };

function jobs(): string {
  return process.env.PCSHARE_BUILD_JOBS ?? String(os.availableParallelism());
}

export function fragmentList(req: BuildRequest): string[] {
  const list = [...(req.fragments ?? DEFAULT_FRAGMENTS)];
  if (!list.includes("base")) list.unshift("base");
  if (req.debug && !list.includes("debug")) list.push("debug");
  return list;
}

export interface BuildMeta {
  source: string;
  base: string;
  fragments: string[];
  fragmentsHash: string;
  series?: { spec: string; hash: string; patches: { index: number; subject: string; messageId?: string; files: string[] }[] };
  /** Seconds spent in make for the build that produced this entry (0 when make had nothing to do). */
  makeSeconds: number;
  builtAt: string;
}

/** Build (or take from the cache) the kernel a request names. */
export async function builtKernel(req: BuildRequest = {}): Promise<Kernel> {
  const source = req.tree ? await userTree(req.tree) : await debianSource();
  const frags = await loadFragments(fragmentList(req));
  const series = req.series ? await loadSeries(req.series, source) : undefined;
  const fh = fragmentsHash(frags);
  const stem = `built-${source.key}-f${fh.slice(0, 12)}-s${series ? series.hash.slice(0, 12) : "none"}-v${LAYOUT}`;
  if (source.kind === "debian") {
    const ready = await lookupEntry("kernels", stem);
    if (ready) return loadBuiltKernel(ready);
  }
  const ws = path.join(workspaceRoot(), `${source.key}-f${fh.slice(0, 12)}`);
  const unlock = await acquireLock(path.join(ws, "lock"));
  try {
    const out = await buildInWorkspace(ws, source, frags, series);
    const key = source.kind === "debian" ? stem : `${stem}-b${out.bzImageHash.slice(0, 12)}`;
    const dir = await cachedDir("kernels", key, (tmp) => saveEntry(tmp, out, source, frags, fh, series));
    return loadBuiltKernel(dir);
  } finally {
    await unlock();
  }
}

/** A built-kernel entry: the Debian-style layout (loadCachedKernel) plus vmlinux. */
export async function loadBuiltKernel(dir: string): Promise<Kernel> {
  const k = await loadCachedKernel(dir);
  try {
    await stat(path.join(dir, "vmlinux"));
    k.vmlinux = path.join(dir, "vmlinux");
    k.decodeScript = await findDecodeScript(k.vmlinux);
  } catch {
    /* none kept */
  }
  return k;
}

// ---------------------------------------------------------------------------------------------

interface BuildOutput {
  outDir: string;
  release: string;
  bzImageHash: string;
  makeSeconds: number;
}

export interface WorkspaceState {
  /** Files the applied series touched (restored from the pristine tree before the next build). */
  touched: string[];
  seriesHash?: string;
  /** Fragments hash the .config was generated from. */
  configFrom?: string;
}

async function readState(ws: string): Promise<WorkspaceState> {
  try {
    return JSON.parse(await readFile(path.join(ws, "state.json"), "utf8")) as WorkspaceState;
  } catch {
    return { touched: [] };
  }
}

async function writeState(ws: string, s: WorkspaceState): Promise<void> {
  await writeFile(path.join(ws, "state.json.tmp"), JSON.stringify(s, null, 2));
  await rename(path.join(ws, "state.json.tmp"), path.join(ws, "state.json"));
}

/**
 * Bring ws/src to the pristine tree's content, with fresh mtimes on whatever the last series changed.
 * Exported for tests.
 */
export async function syncScratch(ws: string, source: SourceTree, state: WorkspaceState): Promise<void> {
  const src = path.join(ws, "src");
  if (!(await exists(src))) {
    const done = progress(`Preparing scratch copy of ${source.label}`);
    const tmp = path.join(ws, "src.tmp");
    await rm(tmp, { recursive: true, force: true });
    try {
      if (source.kind === "debian") await execa("cp", ["-al", source.dir, tmp]);
      else await rsync(source.dir, tmp);
      await rename(tmp, src);
    } catch (err) {
      done.fail();
      throw err;
    }
    done.ok();
    return;
  }
  for (const f of state.touched) await unlink(path.join(src, f)).catch(() => undefined);
  // Debian's tree never changes: only the touched files need copying back. A user's tree may have.
  if (source.kind === "debian") {
    for (const f of state.touched) {
      if (await exists(path.join(source.dir, f))) await copyFile(path.join(source.dir, f), path.join(src, f));
    }
    // Files a patch created are gone now (unlinked above, absent from the pristine tree).
  } else {
    await rsync(source.dir, src);
  }
  const now = new Date();
  for (const f of state.touched) await utimes(path.join(src, f), now, now).catch(() => undefined);
}

/**
 * Output of an in-tree build. Left out of the scratch copy: `make O=` refuses a source tree holding a
 * .config or generated headers, and objects there could be picked up through VPATH.
 */
const IN_TREE_OUTPUTS = [
  "/.git", "/.config", "/.config.old", "/include/config/", "/include/generated/", "/arch/*/include/generated/",
  "*.o", "*.a", "*.ko", "*.cmd", "*.mod", "*.mod.c", "*.order", "*.symvers", "*.dtb", "/vmlinux", "/vmlinux.*",
  "/System.map", "/.tmp*", "/.version", "/modules.*", "/arch/*/boot/bzImage",
];

/** Mirror a user's tree (mtimes kept, so make sees what the user changed) without in-tree build output. */
async function rsync(from: string, to: string): Promise<void> {
  await execa("rsync", ["-a", "--delete", ...IN_TREE_OUTPUTS.map((p) => `--exclude=${p}`), `${from}/`, `${to}/`]);
}

/** make under a leash: stopping pcshare stops make, which stops its jobs and deletes half-written targets. */
function leashedMake(src: string, out: string, args: string[]) {
  const l = spawnLeashed("nice", ["-n", "19", "make", "-C", src, `O=${out}`, `ARCH=${ARCH}`, "--no-print-directory", ...args], {
    reject: false,
    all: true,
    env: BUILD_ENV,
    graceMs: MAKE_GRACE_MS,
    group: true,
  });
  trackLeashed(l);
  return l.proc;
}

async function make(src: string, out: string, args: string[], log?: string): Promise<string> {
  const r = await leashedMake(src, out, args);
  const all = String(r.all ?? "");
  if (log) await writeFile(log, all, { flag: "a" });
  if (r.exitCode !== 0) throw new Error(`make ${args.join(" ")} failed in ${out}:\n${all.split("\n").slice(-15).join("\n")}`);
  return String(r.stdout);
}

async function configure(ws: string, src: string, out: string, frags: Fragment[], fh: string, state: WorkspaceState, log: string): Promise<void> {
  if (state.configFrom !== fh || !(await exists(path.join(out, ".config")))) {
    await mkdir(out, { recursive: true });
    await make(src, out, ["tinyconfig"], log);
    const r = await execa(path.join(src, "scripts/kconfig/merge_config.sh"), ["-m", "-O", out, path.join(out, ".config"), ...frags.map((f) => f.file)], {
      cwd: src,
      reject: false,
      all: true,
      env: BUILD_ENV,
    });
    await writeFile(log, r.all ?? "", { flag: "a" });
    if (r.exitCode !== 0) throw new Error(`merge_config.sh failed:\n${(r.all ?? "").split("\n").slice(-10).join("\n")}`);
    state.configFrom = fh;
    await writeState(ws, state);
  }
  // Every time: a series may add or change Kconfig symbols.
  await make(src, out, ["olddefconfig"], log);
  const config = parseConfig(await readFile(path.join(out, ".config"), "utf8"));
  const bad = checkOptions(requestedOptions(frags), config);
  if (bad.length) {
    throw new Error(`kernel config: ${bad.length} requested option(s) did not survive olddefconfig (fragments ${frags.map((f) => f.name).join(", ")}):\n${await explainMismatches(src, bad)}`);
  }
}

const STEP_LINE = /^\s{2}([A-Z][A-Z0-9_-]{1,9})\s+(\S+)/;

/** `make bzImage` with a progress line (steps done and the current one) and the log kept. */
async function makeImage(src: string, out: string, log: string): Promise<number> {
  const start = Date.now();
  const step = progress(`Building kernel in ${out}`);
  const logStream = createWriteStream(log, { flags: "a" });
  let steps = 0;
  let compiled = 0;
  const l = spawnLeashed("nice", ["-n", "19", "make", "-C", src, `O=${out}`, `ARCH=${ARCH}`, `-j${jobs()}`, "--no-print-directory", "bzImage"], {
    reject: false,
    env: BUILD_ENV,
    buffer: false,
    graceMs: MAKE_GRACE_MS,
    group: true,
  });
  trackLeashed(l);
  const child = l.proc;
  const onLine = (line: string) => {
    const m = line.match(STEP_LINE);
    if (m) {
      steps++;
      if (m[1] === "CC") compiled++;
      step.update(`${steps} steps (${compiled} CC), ${m[1]} ${m[2]}`);
    }
  };
  let pending = "";
  child.stdout!.on("data", (b: Buffer) => {
    logStream.write(b);
    const text = pending + b.toString("utf8");
    const lines = text.split("\n");
    pending = lines.pop() ?? "";
    lines.forEach(onLine);
  });
  child.stderr!.on("data", (b: Buffer) => logStream.write(b));
  const r = await child;
  await new Promise<void>((res) => logStream.end(res));
  if (r.exitCode !== 0) {
    step.fail();
    throw new Error(`kernel build failed (full log: ${log}):\n${buildErrors(await readFile(log, "utf8"))}`);
  }
  step.ok(`${compiled} files compiled`);
  return (Date.now() - start) / 1000;
}

/** The compiler's and linker's error lines from a build log (or its tail when there are none). */
export function buildErrors(logText: string): string {
  const lines = logText.split("\n");
  const errs = lines.filter((l) => /(^|\s)(fatal )?error:|undefined reference to|^ld(\.\w+)?: .*(error|undefined)|No rule to make target/.test(l) && !/^\s*(CC|LD)\s/.test(l));
  const chosen = errs.length ? [...new Set(errs)].slice(0, 20) : lines.filter((l) => l.trim()).slice(-15);
  return chosen.map((l) => `  ${l.trim()}`).join("\n");
}

async function buildInWorkspace(ws: string, source: SourceTree, frags: Fragment[], series: Series | undefined): Promise<BuildOutput> {
  const src = path.join(ws, "src");
  const out = path.join(ws, "out");
  const log = path.join(ws, "build.log");
  const state = await readState(ws);
  await syncScratch(ws, source, state);
  state.touched = series ? [...new Set(series.patches.flatMap((p) => p.files))] : [];
  state.seriesHash = series?.hash;
  await writeState(ws, state); // before applying: a half-applied series is undone next time too
  await writeFile(log, `# pcshare build of ${source.label}${series ? ` + ${series.spec}` : ""} at ${new Date().toISOString()}\n`);
  if (series) {
    const done = progress(`Applying ${series.patches.length} patch(es) from ${series.spec}`);
    try {
      const outputs = await applySeries(series, src);
      await writeFile(log, outputs.join("\n") + "\n", { flag: "a" });
    } catch (err) {
      done.fail();
      throw err;
    }
    done.ok();
  }
  await mkdir(out, { recursive: true });
  await configure(ws, src, out, frags, fragmentsHash(frags), state, log);
  const makeSeconds = await makeImage(src, out, log);
  const release = (await make(src, out, ["-s", "kernelrelease"])).trim().split("\n").pop() ?? "unknown";
  return { outDir: out, release, bzImageHash: await sha256File(path.join(out, "arch/x86/boot/bzImage")), makeSeconds };
}

async function saveEntry(tmp: string, out: BuildOutput, source: SourceTree, frags: Fragment[], fh: string, series: Series | undefined): Promise<void> {
  const o = out.outDir;
  await copyFile(path.join(o, "arch/x86/boot/bzImage"), path.join(tmp, "vmlinuz"));
  await copyFile(path.join(o, ".config"), path.join(tmp, "config"));
  await copyFile(path.join(o, "vmlinux"), path.join(tmp, "vmlinux"));
  await copyFile(path.join(o, "System.map"), path.join(tmp, "System.map"));
  // The symbolizer and its helper for "Code:" lines (which it finds beside itself).
  for (const script of ["decode_stacktrace.sh", "decodecode"]) await copyFile(path.join(source.dir, "scripts", script), path.join(tmp, script));
  await copyFile(path.join(path.dirname(o), "build.log"), path.join(tmp, "build.log"));
  const config = parseConfig(await readFile(path.join(tmp, "config"), "utf8"));
  const hashes: Record<string, string> = { bzImage: out.bzImageHash, fragments: fh };
  if (series) hashes.patchset = series.hash;
  const build: BuildMeta = {
    source: source.label,
    base: source.base,
    fragments: frags.map((f) => f.name),
    fragmentsHash: fh,
    series: series && {
      spec: series.spec,
      hash: series.hash,
      patches: series.patches.map((p) => ({ index: p.index, subject: p.subject, messageId: p.messageId, files: p.files })),
    },
    makeSeconds: out.makeSeconds,
    builtAt: new Date().toISOString(),
  };
  const info = {
    source: `${source.label}${series ? `+${series.spec}` : ""}`,
    release: out.release,
    version: out.release,
    hashes,
    config: recordedOptions(config),
  };
  await writeFile(path.join(tmp, "kernel.json"), JSON.stringify({ info, modules: [], deps: {}, build }, null, 2));
}

/** The build record (source, base, series subjects and message ids, fragments) of a built kernel. */
export async function buildMeta(kernel: Kernel): Promise<BuildMeta | undefined> {
  const meta = JSON.parse(await readFile(path.join(path.dirname(kernel.image), "kernel.json"), "utf8").catch(() => "{}"));
  return meta.build as BuildMeta | undefined;
}
