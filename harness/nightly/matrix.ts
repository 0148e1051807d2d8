// The nightly's kernel matrix (nightly/kernels.yaml): which kernels a nightly runs the suite on, each a
// Debian prebuilt kernel of some suite (`debian: sid`) or a kernel built from source (`build:` Debian's
// linux-source, or a git tree at a ref, with config fragments, the debug fragment, a patch series),
// each with the known-bugs directory that applies and, optionally, its own case selection and shard
// count. Validated with zod; every problem is one "file:line: field: what is wrong" line. Relative
// paths are relative to the matrix file's directory. `runArgs` turns an entry into `pcshare run` options.
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { field, lineOf } from "../verdict/load-known-bugs.ts";
import { loadFragment } from "../kernel/fragments.ts";
import { selectCases } from "../runner/select.ts";
import { ALL_CASES } from "../../cases/index.ts";

const NAME = /^[a-z0-9][a-z0-9.-]*$/;
const ids = z.array(z.string().min(1)).min(1);

const SelectionSchema = z.strictObject({
  /** As `pcshare run --only/--skip/--tag`. */
  only: ids.optional(),
  skip: ids.optional(),
  tag: ids.optional(),
});

const TreeSchema = z.strictObject({
  /** git URL, or a local repository's path (relative to the matrix file's directory). */
  repo: z.string().min(1),
  /** Branch or tag to check out (a shallow clone of it). */
  ref: z.string().regex(/^[A-Za-z0-9._\/-]+$/, "a branch or tag name (letters, digits, . _ / -)"),
});

const BuildSchema = z.strictObject({
  /** Build from this git tree at a ref (default: Debian's linux-source of the default kernel). */
  tree: TreeSchema.optional(),
  /** Config fragments: names in kernel-configs/ or paths (default base share-on). */
  fragments: z.array(z.string().min(1)).min(1).optional(),
  /** Add the debug fragment (KASAN, lockdep, DEBUG_VM, EROFS_FS_DEBUG). */
  debug: z.boolean().optional(),
  /** Patch series applied before building: mbox, .patch or a directory of patches. */
  series: z.string().min(1).optional(),
});

const KernelSchema = SelectionSchema.extend({
  /** Names the kernel in artifacts and job names: lower case letters, digits, . and -. */
  name: z.string().regex(NAME, "lower-case letters, digits, '.' and '-', starting with a letter or digit"),
  /** Debian's prebuilt kernel of a suite or version (`pcshare run --kernel debian:<this>`). */
  debian: z.string().regex(/^[a-z0-9][a-z0-9.+~-]*$/, "a Debian suite (sid, trixie, experimental) or kernel version").optional(),
  build: BuildSchema.optional(),
  /** Directory of registered bugs for this kernel, or false to report every failure as fail. */
  "known-bugs": z.union([z.string().min(1), z.literal(false)]),
  /** Shards for this kernel (default: the matrix's). */
  shards: z.int().min(1).max(64).optional(),
  /** Repetitions of every case for this kernel (default: the matrix's). */
  repeat: z.int().min(1).max(1000).optional(),
  /** Why this kernel is in the matrix (shown in the docs, not used). */
  note: z.string().optional(),
}).refine((k) => (k.debian === undefined) !== (k.build === undefined), {
  message: "give exactly one of debian: (a prebuilt kernel) or build: (a kernel built from source)",
});

export const MatrixSchema = z.strictObject({
  /** Shards per kernel (default 1). */
  shards: z.int().min(1).max(64).default(1),
  /** Case selection for every kernel that has none of its own. */
  select: SelectionSchema.optional(),
  /** Repetitions of every case (pcshare run --repeat; default 1): what lets `pcshare regressions` decide. */
  repeat: z.int().min(1).max(1000).default(1),
  kernels: z.array(KernelSchema).min(1),
});

export type KernelEntry = z.infer<typeof KernelSchema>;
export type Matrix = z.infer<typeof MatrixSchema> & { file: string; dir: string };

/** One or more problems in a matrix file; one "file:line: ..." line each. */
export class MatrixError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "MatrixError";
  }
}

/** Parse and validate matrix text; `file` names it in errors and anchors relative paths. */
export async function parseMatrix(file: string, text: string): Promise<Matrix> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    throw new MatrixError(doc.errors.map((e) => `${file}:${lines.linePos(e.pos[0]).line}: YAML syntax error: ${e.message.split("\n")[0]}`));
  }
  const r = MatrixSchema.safeParse(doc.toJS());
  const at = (segs: readonly PropertyKey[]) => `${file}:${lineOf(doc, lines, segs)}: ${segs.length ? `${field(segs)}: ` : ""}`;
  if (!r.success) throw new MatrixError(r.error.issues.map((i) => `${at(i.path)}${i.message}`));
  const dir = path.dirname(path.resolve(file));
  const problems: string[] = [];
  const names = new Map<string, number>();
  const unknownIds = (sel: z.infer<typeof SelectionSchema> | undefined, at0: PropertyKey[]) => {
    for (const key of ["only", "skip"] as const) {
      for (const [j, id] of (sel?.[key] ?? []).entries()) {
        try {
          selectCases(ALL_CASES, { only: [id] });
        } catch (e) {
          problems.push(`${at([...at0, key, j])}${(e as Error).message}`);
        }
      }
    }
  };
  unknownIds(r.data.select, ["select"]);
  for (const [i, k] of r.data.kernels.entries()) {
    unknownIds(k, ["kernels", i]);
    const dup = names.get(k.name);
    if (dup !== undefined) problems.push(`${at(["kernels", i, "name"])}"${k.name}" is also kernels[${dup}]; names must be unique`);
    names.set(k.name, i);
    const bugs = k["known-bugs"];
    if (bugs !== false && !(await stat(path.resolve(dir, bugs)).then((s) => s.isDirectory(), () => false))) {
      problems.push(`${at(["kernels", i, "known-bugs"])}${bugs}: no such directory (${path.resolve(dir, bugs)}); name a known-bugs directory or false`);
    }
    for (const [j, f] of (k.build?.fragments ?? []).entries()) {
      await loadFragment(fragmentPath(dir, f)).catch((e: Error) => problems.push(`${at(["kernels", i, "build", "fragments", j])}${e.message}`));
    }
    if (k.build?.tree && isLocalRepo(k.build.tree.repo)) {
      k.build.tree.repo = path.resolve(dir, k.build.tree.repo);
      const bad = await localTreeProblem(k.build.tree.repo, k.build.tree.ref);
      if (bad) problems.push(`${at(["kernels", i, "build", "tree", bad.field])}${bad.problem}`);
    }
    if (k.build?.series && !(await stat(path.resolve(dir, k.build.series)).then(() => true, () => false))) {
      problems.push(`${at(["kernels", i, "build", "series"])}${k.build.series}: no such file or directory; give an mbox, .patch or patch directory`);
    }
  }
  if (problems.length) throw new MatrixError(problems);
  return { ...r.data, file, dir };
}

/** A repository given by path rather than URL (neither scheme:// nor scp-like user@host:path). */
export function isLocalRepo(repo: string): boolean {
  return !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(repo) && !/^[^/:]+@[^/:]+:/.test(repo);
}

/** A local repository that is not one, or lacks the ref: which field and why. Remote ones are checked when cloned. */
async function localTreeProblem(repo: string, ref: string): Promise<{ field: "repo" | "ref"; problem: string } | undefined> {
  const git = (args: string[]) => execa("git", ["-C", repo, ...args], { reject: false, stdin: "ignore" });
  if (!(await stat(repo).then((s) => s.isDirectory(), () => false))) return { field: "repo", problem: `${repo}: no such directory; give a git URL or the path of a local repository` };
  if ((await git(["rev-parse", "--git-dir"])).exitCode !== 0) return { field: "repo", problem: `${repo}: not a git repository; give a git URL or the path of a local repository` };
  if ((await git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])).exitCode !== 0) {
    return { field: "ref", problem: `${ref}: no such branch or tag in ${repo}; give one of its branches or tags (git -C ${repo} tag)` };
  }
  return undefined;
}

export async function loadMatrix(file: string): Promise<Matrix> {
  const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
    const why = e.code === "ENOENT" ? "no such file" : e.code === "EISDIR" ? "a directory, not a file" : e.message;
    throw new MatrixError([`--matrix ${file}: ${why}; give the kernel matrix file (default nightly/kernels.yaml, fields in docs/nightly.md)`]);
  });
  return parseMatrix(file, text);
}

/** A fragment as pcshare takes it: a name in kernel-configs/, or a path made absolute from the matrix's directory. */
function fragmentPath(dir: string, f: string): string {
  return f.includes("/") ? path.resolve(dir, f) : f;
}

/** The entry named `name`; unknown names are an error listing the known ones. */
export function kernelEntry(m: Matrix, name: string): KernelEntry {
  const k = m.kernels.find((e) => e.name === name);
  if (!k) throw new MatrixError([`${m.file}: no kernel "${name}" (known: ${m.kernels.map((e) => e.name).join(", ")}); give one of them`]);
  return k;
}

export function shardCount(m: Matrix, k: KernelEntry): number {
  return k.shards ?? m.shards;
}

/**
 * `pcshare run` options for an entry (without --shard/--out). `treeDir` is where the nightly checked
 * out the entry's tree at its ref (required when the entry builds from a tree).
 */
export function runArgs(m: Matrix, k: KernelEntry, treeDir?: string): string[] {
  const args: string[] = [];
  if (k.debian) args.push("--kernel", `debian:${k.debian}`);
  if (k.build) {
    if (k.build.tree) {
      if (!treeDir) throw new Error(`kernel ${k.name}: its tree ${k.build.tree.repo} at ${k.build.tree.ref} has not been checked out`);
      args.push("--tree", treeDir);
    }
    args.push("--fragment", ...(k.build.fragments ?? ["base", "share-on"]).map((f) => fragmentPath(m.dir, f)));
    if (k.build.debug) args.push("--debug");
    if (k.build.series) args.push("--series", path.resolve(m.dir, k.build.series));
  }
  const repeat = k.repeat ?? m.repeat;
  if (repeat > 1) args.push("--repeat", String(repeat));
  const bugs = k["known-bugs"];
  args.push(...(bugs === false ? ["--no-known-bugs"] : ["--known-bugs", path.resolve(m.dir, bugs)]));
  const own = k.only || k.skip || k.tag;
  const sel = own ? { only: k.only, skip: k.skip, tag: k.tag } : (m.select ?? {});
  for (const key of ["only", "skip", "tag"] as const) if (sel[key]) args.push(`--${key}`, sel[key].join(","));
  return args;
}
