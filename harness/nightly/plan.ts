// What a nightly runs: per matrix kernel, one `pcshare run --shard i/n` per shard and one `pcshare
// merge` of them, with the directories each writes. Also the CI job matrix (kernel x shard) and the
// checkout of a kernel built from a git tree at its ref. scripts/nightly.ts and the CI workflows run
// these; this module only says what, so it is the same everywhere.
import { existsSync } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { cacheRoot } from "../util/cache.ts";
import { sha256Hex } from "../util/hash.ts";
import { isLocalRepo, kernelEntry, runArgs, shardCount, type KernelEntry, type Matrix } from "./matrix.ts";

export interface NightlyOptions {
  /** Kernel names to run (default: every kernel of the matrix). */
  kernels?: string[];
  /** Case selection for every kernel, replacing the matrix's (`--only` ids). */
  only?: string[];
  /** A previous nightly's output directory: its merged results of the same kernel (when there) balance the shards. */
  durationsFrom?: string;
  /** Repetitions of every case for every kernel, replacing the matrix's. */
  repeat?: number;
}

export interface ShardJob {
  kernel: string;
  index: number;
  count: number;
  /** Results directory of this shard. */
  out: string;
}

export function selectedKernels(m: Matrix, names?: string[]): KernelEntry[] {
  return names?.length ? names.map((n) => kernelEntry(m, n)) : m.kernels;
}

/** Every kernel x shard job, kernel by kernel. */
export function shardJobs(m: Matrix, outRoot: string, names?: string[]): ShardJob[] {
  return selectedKernels(m, names).flatMap((k) => {
    const count = shardCount(m, k);
    return Array.from({ length: count }, (_, i) => ({ kernel: k.name, index: i + 1, count, out: shardDir(outRoot, k.name, i + 1) }));
  });
}

export const shardDir = (outRoot: string, kernel: string, index: number) => path.join(outRoot, kernel, `shard-${index}`);
export const mergedDir = (outRoot: string, kernel: string) => path.join(outRoot, kernel, "merged");

/** The GitHub Actions matrix: `{ include: [{ kernel, shard: "i/n" }, ...] }`. */
export function ciMatrix(m: Matrix, names?: string[]): { include: { kernel: string; shard: string }[] } {
  return { include: shardJobs(m, ".", names).map((j) => ({ kernel: j.kernel, shard: `${j.index}/${j.count}` })) };
}

/** Where a kernel's tree is checked out: one directory per entry and repository, so rebuilds are incremental. */
export function treeDir(k: KernelEntry): string | undefined {
  const t = k.build?.tree;
  return t && path.join(cacheRoot(), "trees", `${k.name}-${sha256Hex(t.repo).slice(0, 12)}`);
}

/**
 * Check out the entry's tree at its ref (a shallow clone, or fetch + checkout when already there); its
 * directory. A local repository is cloned through file:// so that the clone is shallow too.
 */
export async function checkoutTree(k: KernelEntry): Promise<string | undefined> {
  const t = k.build?.tree;
  const dir = treeDir(k);
  if (!t || !dir) return undefined;
  const url = isLocalRepo(t.repo) ? pathToFileURL(path.resolve(t.repo)).href : t.repo;
  const git = (args: string[], cwd?: string) => execa("git", ["-c", "advice.detachedHead=false", ...args], { cwd, stdio: ["ignore", "inherit", "inherit"] });
  if (await stat(path.join(dir, ".git")).then(() => true, () => false)) {
    await git(["remote", "set-url", "origin", url], dir);
    await git(["fetch", "--quiet", "--depth", "1", "origin", t.ref], dir);
    await git(["checkout", "--quiet", "--force", "--detach", "FETCH_HEAD"], dir);
  } else {
    await mkdir(path.dirname(dir), { recursive: true });
    await git(["clone", "--quiet", "--depth", "1", "--branch", t.ref, url, dir]);
  }
  return dir;
}

/** `pcshare run` arguments of one shard job. */
export function shardRunArgs(m: Matrix, job: ShardJob, opts: NightlyOptions, tree?: string): string[] {
  const k = kernelEntry(m, job.kernel);
  const entry = { ...k, ...(opts.only?.length && { only: opts.only, skip: undefined, tag: undefined }), ...(opts.repeat && { repeat: opts.repeat }) };
  const prev = opts.durationsFrom && path.join(mergedDir(opts.durationsFrom, k.name), "results.json");
  const durations = prev && existsSync(prev) ? prev : undefined;
  return ["run", ...runArgs(m, entry, tree), "--shard", `${job.index}/${job.count}`, ...(durations ? ["--durations", durations] : ["--no-durations"]), "--out", job.out];
}

/** `pcshare merge` arguments for a kernel: the shard directories that exist, the expected count. */
export async function mergeArgs(m: Matrix, kernel: string, outRoot: string): Promise<string[]> {
  const k = kernelEntry(m, kernel);
  const count = shardCount(m, k);
  const present: string[] = [];
  for (let i = 1; i <= count; i++) {
    const file = path.join(shardDir(outRoot, kernel, i), "results.json");
    if (await stat(file).then(() => true, () => false)) present.push(file);
  }
  return ["merge", ...present, "--shards", String(count), "--out", mergedDir(outRoot, kernel), "--label", "nightly"];
}
