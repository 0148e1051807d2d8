// A kernel matrix entry built from a git tree at a ref, on a local repository (real git, no network):
// the repository path resolves from the matrix file's directory, a ref it lacks is refused naming the
// file and line, and the nightly's checkout is a shallow clone at exactly the ref's commit that a later
// night moves to where the ref then points. The kernel build itself is too long for npm test; a full
// run of such an entry is recorded in docs/nightly.md.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kernelEntry, parseMatrix, runArgs } from "../../harness/nightly/matrix.ts";
import { checkoutTree, treeDir } from "../../harness/nightly/plan.ts";

let dir: string;
let savedCache: string | undefined;
const repo = () => path.join(dir, "linux");
const git = async (cwd: string, ...args: string[]) =>
  (await execa("git", ["-c", "user.name=pcshare", "-c", "user.email=pcshare@localhost", "-c", "advice.detachedHead=false", ...args], { cwd })).stdout.trim();

async function commit(file: string, text: string): Promise<string> {
  await writeFile(path.join(repo(), file), text);
  await git(repo(), "add", file);
  await git(repo(), "commit", "-qm", `change ${file}`);
  return git(repo(), "rev-parse", "HEAD");
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "pcshare-tree-"));
  savedCache = process.env.PCSHARE_CACHE;
  process.env.PCSHARE_CACHE = path.join(dir, "cache"); // the checkout goes to <cache>/trees/
  await mkdir(path.join(dir, "nightly"));
  await mkdir(repo());
  await git(repo(), "init", "-q", "-b", "main");
}, 60_000);
afterAll(async () => {
  if (savedCache === undefined) delete process.env.PCSHARE_CACHE;
  else process.env.PCSHARE_CACHE = savedCache;
  await rm(dir, { recursive: true, force: true });
});

const matrixText = (ref: string) => `kernels:\n  - name: local\n    build:\n      tree: { repo: ../linux, ref: ${ref} }\n      fragments: [base, share-on]\n    known-bugs: false\n`;
const load = (ref: string) => parseMatrix(path.join(dir, "nightly", "kernels.yaml"), matrixText(ref));

describe("a tree-at-ref entry on a local repository", () => {
  it("resolves the repository from the matrix's directory and checks out the tag's commit, shallow", async () => {
    const first = await commit("Makefile", "VERSION = 7\n");
    const tagged = await commit("README", "tagged\n");
    await git(repo(), "tag", "v7.2-test");
    await commit("README", "after the tag\n");
    const m = await load("v7.2-test");
    const k = kernelEntry(m, "local");
    expect(k.build?.tree?.repo).toBe(repo());
    const tree = await checkoutTree(k);
    expect(tree).toBe(treeDir(k));
    expect(await git(tree!, "rev-parse", "HEAD")).toBe(tagged);
    expect(await git(tree!, "rev-parse", "--is-shallow-repository")).toBe("true");
    expect(await git(tree!, "cat-file", "-t", first).catch(() => "absent")).toBe("absent"); // history before the ref is not fetched
    expect(runArgs(m, k, tree)).toEqual(["--tree", tree, "--fragment", "base", "share-on", "--no-known-bugs"]);
  });

  it("follows a branch to its new head on a later night (fetch into the same directory)", async () => {
    await git(repo(), "branch", "-f", "dev", "HEAD");
    const k = kernelEntry(await load("dev"), "local");
    const tree = await checkoutTree(k);
    expect(await git(tree!, "rev-parse", "HEAD")).toBe(await git(repo(), "rev-parse", "dev"));
    const next = await commit("README", "the next night\n");
    await git(repo(), "branch", "-f", "dev", "HEAD");
    expect(await checkoutTree(k)).toBe(tree);
    expect(await git(tree!, "rev-parse", "HEAD")).toBe(next);
  });

  it("refuses a ref the repository lacks, and a path that is no repository, naming file, line and field", async () => {
    await expect(load("v9.9")).rejects.toThrow(/kernels\.yaml:4: kernels\[0\]\.build\.tree\.ref: v9\.9: no such branch or tag in .*linux/);
    const bad = parseMatrix(path.join(dir, "nightly", "kernels.yaml"), matrixText("v7.2-test").replace("../linux", "../nowhere"));
    await expect(bad).rejects.toThrow(/kernels\.yaml:4: kernels\[0\]\.build\.tree\.repo: .*nowhere: no such directory/);
  });
});
