// Container images to one file tree, as a container runtime sees it: an OCI image layout (a directory
// or a tar of one) or a `docker save` archive; its layers applied in order onto one directory, where a
// `.wh.NAME` entry deletes NAME of the layers below and `.wh..wh..opq` empties its directory of what
// the layers below put there. Hardlinks to files of lower layers resolve because every layer is
// extracted into the same directory.
import { readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { InputError } from "../../util/input-error.ts";

const OPAQUE = ".wh..wh..opq";
const WHITEOUT = ".wh.";

/** The layer tarballs of an unpacked image (OCI layout or docker save), bottom layer first. */
export async function imageLayers(dir: string, what: string): Promise<string[]> {
  const docker = path.join(dir, "manifest.json");
  if (await isFile(docker)) {
    const m = JSON.parse(await readFile(docker, "utf8")) as { Layers?: string[] }[];
    if (!Array.isArray(m) || !m[0]?.Layers) throw new InputError(`${what}: manifest.json has no Layers; is this a docker save archive?`);
    if (m.length > 1) throw new InputError(`${what}: holds ${m.length} images; save one image per archive`);
    return m[0].Layers.map((l) => inside(dir, l, what));
  }
  const index = path.join(dir, "index.json");
  if (!(await isFile(index))) throw new InputError(`${what}: neither manifest.json (docker save) nor index.json (OCI image layout) found`);
  let desc = pickManifest(JSON.parse(await readFile(index, "utf8")), what);
  for (let depth = 0; depth < 4; depth++) {
    const doc = JSON.parse(await readFile(blob(dir, desc.digest, what), "utf8")) as OciDoc;
    if (doc.layers) return doc.layers.map((l) => blob(dir, l.digest, what));
    desc = pickManifest(doc, what); // a nested image index (multi-platform)
  }
  throw new InputError(`${what}: image indexes nested too deeply`);
}

interface Descriptor {
  digest: string;
  mediaType?: string;
  platform?: { os?: string; architecture?: string };
}
interface OciDoc {
  manifests?: Descriptor[];
  layers?: Descriptor[];
}

function pickManifest(doc: OciDoc, what: string): Descriptor {
  const list = doc.manifests ?? [];
  const amd64 = list.find((d) => d.platform?.architecture === "amd64" && (d.platform.os ?? "linux") === "linux");
  const d = amd64 ?? list[0];
  if (!d?.digest) throw new InputError(`${what}: the image index lists no manifest`);
  return d;
}

function blob(dir: string, digest: string, what: string): string {
  const m = digest.match(/^(sha256|sha512):([0-9a-f]+)$/);
  if (!m) throw new InputError(`${what}: unsupported digest ${digest}`);
  return path.join(dir, "blobs", m[1], m[2]);
}

function inside(dir: string, rel: string, what: string): string {
  const p = path.resolve(dir, rel);
  if (!p.startsWith(path.resolve(dir) + path.sep)) throw new InputError(`${what}: layer path ${rel} leaves the archive`);
  return p;
}

/** Apply `layers` (tarballs, any compression tar detects) in order onto `dest`. */
export async function flattenLayers(layers: string[], dest: string): Promise<void> {
  for (const layer of layers) {
    const names = await tarMembers(layer);
    for (const name of names) {
      const base = path.posix.basename(name);
      if (!base.startsWith(WHITEOUT)) continue;
      const dir = path.posix.dirname(name);
      if (base === OPAQUE) {
        const host = safeJoin(dest, dir, layer);
        for (const e of await readdir(host).catch(() => [] as string[])) await rm(path.join(host, e), { recursive: true, force: true });
      } else {
        await rm(safeJoin(dest, path.posix.join(dir, base.slice(WHITEOUT.length)), layer), { recursive: true, force: true });
      }
    }
    const r = await execa("tar", ["-xf", layer, "-C", dest, "--no-same-owner", "--exclude=.wh.*"], { reject: false, all: true });
    if (r.exitCode !== 0) throw new Error(`${layer}: tar could not apply this layer: ${(r.all ?? "").trim().split("\n")[0]}`);
  }
}

/** Member names of a tarball, normalized ("./a/b/" -> "a/b"). */
export async function tarMembers(tarball: string): Promise<string[]> {
  const r = await execa("tar", ["-tf", tarball], { reject: false, all: false, maxBuffer: 1 << 28 });
  if (r.exitCode !== 0) throw new InputError(`${tarball}: not a tar archive tar can read (${r.stderr.trim().split("\n")[0]})`);
  return r.stdout.split("\n").filter(Boolean).map((n) => n.replace(/^\.\//, "").replace(/\/+$/, "")).filter((n) => n && n !== ".");
}

function safeJoin(root: string, rel: string, layer: string): string {
  const p = path.resolve(root, rel);
  const r = path.resolve(root);
  if (p !== r && !p.startsWith(r + path.sep)) throw new Error(`${layer}: whiteout ${rel} points outside the image`);
  return p;
}

async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isFile() ?? false;
}
