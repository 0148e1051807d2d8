// Owns: writing a reproducer bundle directory from a ReproSource: the images, the kernel (image and a
// modules initramfs) unless left out, the guest initramfs (init, busybox, agent, the step file), run.sh,
// expected.txt, seen.txt, kernel.txt, the failing run's console, and summary.txt (returned too).
import { chmod, copyFile, mkdir, writeFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Kernel } from "../kernel/kernel.ts";
import { buildImages } from "../images/build.ts";
import { guestFiles, initramfsCpio, moduleFiles } from "../guest/initramfs.ts";
import { writeCpio } from "../guest/cpio.ts";
import { guestCmdline } from "../vm/qemu-args.ts";
import { blobDriveName } from "../runner/run.ts";
import { guestSteps, sourceDigestOf } from "./guest-steps.ts";
import { runScript, type ScriptDrive } from "./script.ts";
import { expectedText, kernelLine, kernelReference, seenText, summaryText } from "./describe.ts";
import { ReproError, type ReproSource } from "./source.ts";

export interface BundleOptions {
  outDir: string;
  /** The kernel to put in the bundle; undefined: --no-kernel. */
  kernel?: Kernel;
  memoryMiB: number;
  cpus: number;
}

const DRIVE_RE = /\/dev\/disk\/pcshare\/([A-Za-z0-9._-]+)/g;

/**
 * Drive names the recorded requests use (mount sources, dd if=..., device= options); the case's
 * declared images only when no request names one (a case over variants declares more than one run uses).
 */
export function drivesUsed(src: ReproSource): string[] {
  const names = new Set<string>();
  for (const s of src.steps.steps) for (const m of JSON.stringify(s.request).matchAll(DRIVE_RE)) names.add(m[1]);
  return names.size ? [...names] : (src.def?.images ?? []);
}

/** Copy the case's images (and blob devices) into images/; returns their drives and each image's files (path -> XXH64). */
async function writeImages(src: ReproSource, dir: string): Promise<{ drives: ScriptDrive[]; files: Map<string, Map<string, string>> }> {
  const used = drivesUsed(src);
  const images = used.filter((n) => !n.includes("."));
  const built = images.length ? await buildImages(src.specs, { names: images }) : new Map();
  const recorded = src.run.provenance?.images ?? {};
  const drives: ScriptDrive[] = [];
  const files = new Map<string, Map<string, string>>();
  await mkdir(path.join(dir, "images"), { recursive: true });
  for (const b of built.values()) {
    if (recorded[b.name] && recorded[b.name] !== b.manifest.key) {
      throw new ReproError(`image ${b.name} differs from the one the run used (spec hash ${b.manifest.key.slice(0, 12)} vs ${recorded[b.name].slice(0, 12)}): its spec or the image builder changed since; rerun the case`);
    }
    await copyFile(b.imagePath, path.join(dir, "images", `${b.name}.erofs`));
    drives.push({ name: b.name, file: `images/${b.name}.erofs` });
    files.set(b.name, new Map(b.manifest.files.filter((f: { xxh64: string | null }) => f.xxh64).map((f: { path: string; xxh64: string }) => [f.path, f.xxh64])));
    for (const [i, p] of b.devicePaths.entries()) {
      const name = blobDriveName(b.name, i);
      await copyFile(p, path.join(dir, "images", `${name}.erofs`));
      drives.push({ name, file: `images/${name}.erofs` });
    }
  }
  return { drives, files };
}

/** Kernel image and modules initramfs into kernel/; returns their paths relative to the bundle. */
async function writeKernel(k: Kernel, dir: string): Promise<{ kernel: string; modules?: string }> {
  await mkdir(path.join(dir, "kernel"), { recursive: true });
  // The kernel as packaged or built (bzImage): its sha256 is the one kernel.txt names.
  const image = `kernel/${path.basename(k.image)}`;
  await copyFile(k.image, path.join(dir, image));
  if (!k.modules.length) return { kernel: image };
  const files = await moduleFiles(k.modules);
  const cpio = writeCpio([{ path: "lib", type: "dir" }, { path: "lib/modules", type: "dir" }, ...files.map(([p, data, mode]) => ({ path: p, type: "file" as const, data, mode }))]);
  await writeFile(path.join(dir, "kernel", "modules.cpio"), cpio);
  return { kernel: image, modules: "kernel/modules.cpio" };
}

/** Guest memory and CPUs of the recorded run (its qemu.cmd), else the given defaults. */
function guestSize(src: ReproSource, opts: BundleOptions): { memoryMiB: number; cpus: number } {
  const cmd = src.result.artifacts.qemu && path.join(src.resultsDir, src.result.artifacts.qemu);
  const text = cmd && existsSync(cmd) ? readFileSync(cmd, "utf8") : "";
  const mem = text.match(/ -m (\d+)M/);
  const smp = text.match(/ -smp (\d+)/);
  return { memoryMiB: mem ? Number(mem[1]) : opts.memoryMiB, cpus: smp ? Number(smp[1]) : opts.cpus };
}

export interface Bundle {
  /** The text for a reply (also in summary.txt). */
  summary: string;
  /** Failed checks of the run that only pcshare judges (the guest replays their steps but cannot judge them). */
  hostJudged: string[];
}

/** Write the bundle. */
export async function writeBundle(src: ReproSource, opts: BundleOptions): Promise<Bundle> {
  const dir = opts.outDir;
  await mkdir(dir, { recursive: true });
  const k = src.run.kernel;
  const given = opts.kernel?.info;
  if (given && (given.release !== k.release || (given.hashes?.vmlinuz && k.hashes?.vmlinuz && given.hashes.vmlinuz !== k.hashes.vmlinuz))) {
    throw new ReproError(`${src.result.id} ran on ${kernelLine(k)} but the kernel options name ${kernelLine(given)}: pass the kernel options of that run, or --no-kernel`);
  }
  const { drives, files: imageFiles } = await writeImages(src, dir);
  const g = guestSteps(src.steps.steps, src.result.checks, sourceDigestOf(src.steps.steps, imageFiles));
  const kernelFiles = opts.kernel ? await writeKernel(opts.kernel, dir) : undefined;
  const steps = `${g.lines.join("\n")}\n`;
  const { files } = await guestFiles();
  files.push(["replay/steps.jsonl", Buffer.from(steps), 0o644]);
  await writeFile(path.join(dir, "guest.cpio"), initramfsCpio(files));
  await writeFile(path.join(dir, "steps.jsonl"), steps);
  const size = guestSize(src, opts);
  const timeoutS = Math.max(300, Math.ceil((src.result.durationMs / 1000) * 10));
  const script = runScript({
    title: `${src.result.id} ${src.result.name} (pcshare)`,
    ...kernelFiles,
    kernelRef: kernelLine(k),
    drives,
    cmdline: guestCmdline({ extra: ["pcshare.replay=1"] }),
    ...size,
    timeoutS,
  });
  await writeFile(path.join(dir, "run.sh"), script);
  await chmod(path.join(dir, "run.sh"), 0o755);
  await writeFile(path.join(dir, "kernel.txt"), kernelReference(k, src.run.provenance?.kernel));
  await writeFile(path.join(dir, "expected.txt"), expectedText(src.def?.expect, src.result, g));
  await writeFile(path.join(dir, "seen.txt"), seenText(src.result));
  const consoleLog = src.result.artifacts.console && path.join(src.resultsDir, src.result.artifacts.console);
  if (consoleLog && existsSync(consoleLog)) await copyFile(consoleLog, path.join(dir, "seen-console.log"));
  const summary = summaryText({ result: src.result, expect: src.def?.expect, steps: src.steps.steps, kernel: k, bundleDir: dir, withKernel: !!opts.kernel });
  await writeFile(path.join(dir, "summary.txt"), summary);
  return { summary, hostJudged: g.judged.filter((j) => !j.check.ok && j.step === undefined).map((j) => j.check.name) };
}
