// Owns: test helpers for the erofs image tests: locating erofs-utils (through harness/images/erofs-utils.ts,
// which provisions 1.9 when the host's is older), running the tools, building a deterministic source
// tree, and building images into temporary directories.
import { mkdir, readFile, symlink, link, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { erofsTools, type ErofsTools } from "../../../harness/images/erofs-utils.ts";
import { prng } from "../../../harness/images/erofs/collide.ts";

export async function tools(): Promise<ErofsTools> {
  return erofsTools();
}

export interface RunResult { exitCode: number; stdout: string; stderr: string }

/** Run an argv prefix from ErofsTools with extra args; never throws on a non-zero exit. */
export async function run(argv: string[], args: string[]): Promise<RunResult> {
  const r = await execa(argv[0], [...argv.slice(1), ...args], { reject: false });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Build an image from `src` (a directory, or a tarball with --tar=f); returns its bytes. */
export async function mkfs(t: ErofsTools, out: string, src: string, args: string[]): Promise<Uint8Array> {
  const r = await run(t.mkfs, [...args, out, src]);
  if (r.exitCode !== 0) throw new Error(`mkfs.erofs ${args.join(" ")} failed (${r.exitCode}):\n${r.stderr}`);
  return new Uint8Array(await readFile(out));
}

function randomBytes(n: number, seed: number): Uint8Array {
  const next = prng(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const r = next();
    for (let k = 0; k < 4 && i + k < n; k++) b[i + k] = (r >>> (8 * k)) & 0xff;
  }
  return b;
}

/** Regular files of the source tree (path relative to the root, "/a/b"), for comparisons. */
export type SourceFiles = Map<string, Uint8Array>;

/**
 * A small deterministic tree: text, duplicates (same content), random (incompressible) and repetitive
 * (compressible) data, zeros, an empty file, exact block multiples, a symlink, a hard link, nested dirs and
 * one directory with 120 entries (several directory blocks at small block sizes).
 */
export async function makeTree(root: string): Promise<SourceFiles> {
  const files: SourceFiles = new Map();
  const enc = new TextEncoder();
  const add = async (rel: string, data: Uint8Array) => {
    const p = path.join(root, rel);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, data);
    files.set("/" + rel, data);
  };
  await add("hello.txt", enc.encode("hello world\n"));
  await add("dup1", enc.encode("hello world\n"));
  await add("sub/dup2", enc.encode("hello world\n"));
  await add("random.bin", randomBytes(20_000, 7));
  await add("random2.bin", randomBytes(20_000, 8)); // same size as random.bin, other content
  await add("text.txt", enc.encode("the quick brown fox jumps over the lazy dog\n".repeat(1500)));
  await add("zeros", new Uint8Array(9000));
  await add("empty", new Uint8Array(0));
  await add("block4k", randomBytes(4096, 9));
  await add("block8k", randomBytes(8192, 10));
  await add("sub/deeper/nested.txt", enc.encode("nested file\n".repeat(50)));
  for (let i = 0; i < 120; i++) await add(`many/f${String(i).padStart(3, "0")}-with-a-longish-name`, enc.encode(`file ${i}\n`));
  await symlink("hello.txt", path.join(root, "link"));
  await link(path.join(root, "text.txt"), path.join(root, "sub/hardlink"));
  files.set("/sub/hardlink", files.get("/text.txt")!);
  return files;
}

/** `tar -cf out -C root .` */
export async function makeTar(root: string, out: string): Promise<void> {
  await execa("tar", ["-cf", out, "-C", root, "."]);
}
