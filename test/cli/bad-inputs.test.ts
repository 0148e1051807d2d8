// Runs every bad input of test/cli/bad-inputs.ts through the CLI (bin/pcshare, as a user would) and
// checks the exact message and exit status; checks docs/bad-inputs.md is the table rendered from the
// same list. Most inputs fail validation before any work; none boots a guest except the KVM row.
import { access, constants, cp, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile, copyFile } from "node:fs/promises";
import { tmpdir, totalmem } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BAD_INPUTS, FIXTURES, type BadInput } from "./bad-inputs.ts";
import { renderBadInputsDoc, DOC_FILE } from "./bad-inputs-doc.ts";
import { cacheRoot } from "../../harness/util/cache.ts";
import { debianKernel } from "../../harness/kernel/debian.ts";
import { erofsTools } from "../../harness/images/erofs-utils.ts";
import { prepareGuest } from "../../harness/vm/launch.ts";
import { probeKvmBoot } from "../../harness/vm/accel.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PCSHARE = path.join(ROOT, "bin", "pcshare");
let dir: string;
const vars: Record<string, string> = {};
let mounted: string[] = [];

const fill = (s: string) => s.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);

const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const NIGHTLY = path.join(ROOT, "scripts", "nightly.ts");

async function pcshare(argv: string[], env: Record<string, string> = {}, opts: Pick<BadInput, "tool" | "stdin"> = {}) {
  const [file, args] = opts.tool === "nightly" ? [TSX, [NIGHTLY, ...argv.map(fill)]] : [PCSHARE, argv.map(fill)];
  return execa(file, args, {
    reject: false,
    ...(opts.stdin ? { inputFile: path.join(dir, opts.stdin) } : { stdin: "ignore" as const }),
    cwd: dir,
    env: { PCSHARE_CACHE: path.join(dir, "cache"), PCSHARE_QUIET: "1", ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, fill(v)])) },
  });
}

async function mountTmpfs(where: string, opts: string): Promise<boolean> {
  await mkdir(where, { recursive: true });
  const r = await execa("mount", ["-t", "tmpfs", "-o", opts, "pcshare-test", where], { reject: false });
  if (r.exitCode === 0) mounted.push(where);
  return r.exitCode === 0;
}

let canMount = false;
let brokenKvm = false;
/** The message as a pattern: placeholders filled, {*} any text. */
const pattern = (msg: string) => new RegExp(`^${fill(msg).split("{*}").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
beforeAll(async () => {
  const realCache = cacheRoot();
  await erofsTools(); // provisioned in the usual cache once; copied into the test's cache below
  const kernel = await debianKernel();
  dir = await mkdtemp(path.join(tmpdir(), "pcshare-bad-inputs-"));
  vars.dir = dir;
  vars.bzImage = kernel.image;
  vars.hostMiB = String(Math.floor(totalmem() / 2 ** 20));
  vars.repo = ROOT;
  for (const [name, text] of Object.entries(FIXTURES)) {
    if (name.endsWith("/")) await mkdir(path.join(dir, name), { recursive: true });
    else await writeFile(path.join(dir, name), text);
  }
  await mkdir(path.join(dir, "cache", "tools"), { recursive: true });
  for (const t of (await readdir(path.join(realCache, "tools"))).filter((n) => n.startsWith("erofs-utils-"))) {
    await cp(path.join(realCache, "tools", t), path.join(dir, "cache", "tools", t), { recursive: true });
  }
  // Whether KVM is there but fails to boot a guest (the KVM row expects that).
  const kvmThere = await access("/dev/kvm", constants.R_OK | constants.W_OK).then(() => true, () => false);
  if (kvmThere) {
    const g = await prepareGuest(kernel);
    brokenKvm = !(await probeKvmBoot(g.qemu, kernel.image, g.initrd)).ok;
  }
  // A local git repository with a tag (kernel matrix tree entries) and a history of one recorded run.
  const git = (...args: string[]) => execa("git", ["-C", path.join(dir, "repo"), "-c", "user.name=pcshare", "-c", "user.email=pcshare@localhost", ...args]);
  await mkdir(path.join(dir, "repo"));
  await writeFile(path.join(dir, "repo", "Makefile"), "all:\n");
  await git("init", "-q");
  await git("add", "Makefile");
  await git("commit", "-qm", "a tree");
  await git("tag", "v1");
  const recorded = await pcshare(["history", "add", "{dir}/good-results.json", "--history", "{dir}/history.sqlite"]);
  expect(recorded.exitCode, recorded.stderr).toBe(0);
  canMount = (await mountTmpfs(path.join(dir, "ro"), "ro,size=1m")) && (await mountTmpfs(path.join(dir, "small"), "size=1m"));
  // A built image, a truncated copy of it, and its cache entry damaged the same way.
  const built = await pcshare(["images", "build", "{dir}/tiny.yaml", "--json"]);
  expect(built.exitCode, built.stderr).toBe(0);
  const image = (JSON.parse(built.stdout) as { image: string }[])[0].image;
  vars.entry = path.basename(path.dirname(image));
  await copyFile(image, path.join(dir, "truncated.erofs"));
  await truncate(path.join(dir, "truncated.erofs"), 8192);
  await truncate(image, 8192);
}, 900_000);

afterAll(async () => {
  for (const m of mounted.reverse()) await execa("umount", [m], { reject: false });
  mounted = [];
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("bad inputs", () => {
  it("the list is large and every kind is named once", () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(BAD_INPUTS.map((b) => b.kind)).size).toBe(BAD_INPUTS.length);
  });

  it("docs/bad-inputs.md is the table rendered from the list (regenerate: npx tsx test/cli/bad-inputs-doc.ts)", async () => {
    expect(await readFile(DOC_FILE, "utf8")).toBe(renderBadInputsDoc(BAD_INPUTS));
  });

  // Four CLI processes at a time: each spends most of its time starting tsx.
  const batches: BadInput[][] = [];
  for (let i = 0; i < BAD_INPUTS.length; i += 4) batches.push(BAD_INPUTS.slice(i, i + 4));
  for (const batch of batches) {
    it(`${batch.map((b) => b.kind).join("; ")}`, async () => {
      const runnable = (b: BadInput) => (!b.needs?.includes("mounts") || canMount) && (!b.needs?.includes("broken-kvm") || brokenKvm);
      const runs = await Promise.all(batch.map(async (b) => ({ b, r: runnable(b) ? await pcshare(b.argv, b.env, b) : undefined })));
      for (const { b, r } of runs) {
        if (!r) continue; // the host lacks what the row needs (see BadInput.needs): checked where it has it
        const lines = r.stderr.split("\n").filter(Boolean);
        const where = `${b.kind}: ${b.tool ?? "pcshare"} ${b.argv.map(fill).join(" ")}\nstderr: ${r.stderr}`;
        expect(r.exitCode, where).toBe(b.exit);
        if (b.exit !== 0) expect(lines.length, where).toBe(1);
        expect(lines.some((l) => pattern(b.message).test(l)), where).toBe(true);
      }
    }, 300_000);
  }
});
