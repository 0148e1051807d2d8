// Owns: the thin `pcshare images build|inspect|mutate` actions (the CLI wiring lives elsewhere): they take
// parsed arguments, call build.ts / inspect.ts / erofs/mutate.ts, and print (data on stdout).
import { readFile, writeFile } from "node:fs/promises";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildImages } from "./build.ts";
import { loadSpecs, type ImageSpec } from "./spec.ts";
import { formatInspection, inspectImage } from "./inspect.ts";
import { MUTATIONS } from "./erofs/mutate.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Spec files only built when named (benchmark inputs). */
const ON_REQUEST = new Set(["scale.yaml"]);
/** Specs the suite uses: every images/*.yaml except the benchmark-only ones, and found cases' images (built on demand by name). */
export const DEFAULT_SPECS = [
  ...readdirSync(path.join(ROOT, "images"))
    .filter((f) => f.endsWith(".yaml") && !ON_REQUEST.has(f))
    .sort()
    .map((f) => path.join(ROOT, "images", f)),
  ...foundSpecs(),
];

/** The images of the regression cases explore found (cases/found/<id>.yaml), loaded with the fixtures. */
function foundSpecs(): string[] {
  const dir = path.join(ROOT, "cases", "found");
  try {
    return readdirSync(dir).filter((f) => /^E\d+\.yaml$/.test(f)).sort().map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/**
 * The specs of the --spec files (default DEFAULT_SPECS), read once: the run commands call this before
 * any download or boot, so a bad spec stops them at once with its file and line.
 */
export function specsOption(spec: string[] | undefined): Map<string, ImageSpec> {
  return loadSpecs(spec?.length ? spec.map((s) => path.resolve(s)) : DEFAULT_SPECS);
}

export async function imagesBuildCommand(args: { specs?: string[]; names?: string[]; json?: boolean }): Promise<void> {
  const specs = args.specs?.length ? args.specs : DEFAULT_SPECS;
  const built = await buildImages(specs, { names: args.names?.length ? args.names : undefined });
  if (args.json) {
    const out = [...built.values()].map((b) => ({ name: b.name, image: b.imagePath, devices: b.devicePaths, manifest: b.manifestPath, sha256: b.manifest.image.sha256 }));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  for (const b of built.values()) {
    process.stdout.write(`${b.name.padEnd(24)} ${String(b.manifest.image.size).padStart(11)}  ${b.imagePath}${b.devicePaths.length ? ` + ${b.devicePaths.join(" ")}` : ""}\n`);
  }
}

export async function imagesInspectCommand(args: { image: string; json?: boolean }): Promise<void> {
  const r = await inspectImage(args.image);
  process.stdout.write(args.json ? `${JSON.stringify(r, null, 2)}\n` : formatInspection(r));
}

export async function imagesMutateCommand(args: { image?: string; mutation?: string; out?: string; path?: string; fromPath?: string; list?: boolean }): Promise<void> {
  if (args.list || !args.mutation) {
    for (const [name, m] of Object.entries(MUTATIONS)) {
      const exp = `mount ${m.expect.mount}${m.expect.sharing ? `, sharing ${m.expect.sharing}` : ""}`;
      process.stdout.write(`${name.padEnd(26)} ${m.describe}\n${"".padEnd(26)} needs: ${m.needs.join(", ") || "-"}; expect: ${exp}\n`);
    }
    return;
  }
  const m = MUTATIONS[args.mutation];
  if (!m) throw new Error(`unknown mutation "${args.mutation}" (known: ${Object.keys(MUTATIONS).join(", ")})`);
  if (!args.image || !args.out) throw new Error("mutate needs an input IMAGE and --out FILE");
  const bytes = new Uint8Array(await readFile(args.image));
  const out = m.apply(bytes, { path: args.path, fromPath: args.fromPath });
  await writeFile(args.out, out);
  process.stdout.write(`${args.out}: ${args.mutation} applied; kernel should: ${JSON.stringify(m.expect)}\n`);
}
