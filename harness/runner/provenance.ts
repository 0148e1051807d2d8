// What a result needs to be reproduced, recorded in every results.json: pcshare's own commit (or its
// package version outside a git checkout), the kernel's exact source, config hash and series hash,
// the hash of each image spec the run used, and the host.
import os from "node:os";
import path from "node:path";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import type { Kernel } from "../kernel/kernel.ts";
import { buildMeta } from "../kernel/build.ts";
import { buildImages } from "../images/build.ts";
import type { ImageSpec } from "../images/spec.ts";
import { sha256Hex } from "../util/hash.ts";
import type { Provenance } from "../report/model.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** pcshare's version: git describe and commit of the checkout it runs from, or package.json's version. */
export async function pcshareVersion(root = ROOT): Promise<Provenance["pcshare"]> {
  const version = (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }).version;
  const git = (args: string[]) => execa("git", ["-C", root, ...args], { reject: false });
  const [describe, commit] = await Promise.all([git(["describe", "--always", "--dirty", "--tags"]), git(["rev-parse", "HEAD"])]);
  if (describe.exitCode !== 0 || commit.exitCode !== 0) return { version };
  return { version, describe: describe.stdout.trim(), commit: commit.stdout.trim() };
}

/** sha256 of a kernel config: its CONFIG_ settings as sorted `NAME=value` lines. */
export function configHash(config: Record<string, string>): string {
  return sha256Hex(Object.keys(config).sort().map((k) => `${k}=${config[k]}\n`).join(""));
}

async function kernelProvenance(kernel: Kernel): Promise<Provenance["kernel"]> {
  const meta = await buildMeta(kernel).catch(() => undefined);
  return {
    source: kernel.info.source,
    version: kernel.info.version,
    ...(meta && { base: meta.base, fragments: meta.fragments }),
    configSha256: configHash(kernel.config),
    ...(kernel.info.series && { seriesSha256: kernel.info.series.hash }),
  };
}

/** Spec hash of each image (from the cache; images the run could not build are left out). */
async function imageHashes(specs: string[] | Map<string, ImageSpec>, names: string[]): Promise<Record<string, string>> {
  if (!names.length) return {};
  const built = await buildImages(specs, { names }).catch(() => undefined);
  return Object.fromEntries([...(built?.values() ?? [])].map((b) => [b.name, b.manifest.key]).sort(([a], [b]) => a.localeCompare(b)));
}

export async function runProvenance(kernel: Kernel, specs: string[] | Map<string, ImageSpec>, imageNames: string[]): Promise<Provenance> {
  const cpu = os.cpus()[0]?.model ?? "unknown";
  return {
    pcshare: await pcshareVersion(),
    kernel: await kernelProvenance(kernel),
    images: await imageHashes(specs, [...new Set(imageNames)]),
    host: { hostname: os.hostname(), os: `${os.type()} ${os.release()}`, cpu },
  };
}
