// Container images flattened as a runtime would: layers in order, `.wh.NAME` deletes a lower layer's
// NAME, `.wh..wh..opq` empties a directory of lower layers' entries, hardlinks across layers resolve.
// Both an OCI image layout (as a directory and as a tar) and a `docker save` archive, built here with tar.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, mkdir, readFile, readdir, rm, stat, writeFile, link } from "node:fs/promises";
import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { flattenLayers, imageLayers } from "../../../harness/measure/sources/layers.ts";
import { parseSource } from "../../../harness/measure/sources/parse.ts";

let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "pcshare-layers-test-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A layer tarball from `files` (path -> content, or {link: target} for a hardlink inside this layer). */
async function layer(name: string, files: Record<string, string>, compress = false): Promise<string> {
  const dir = path.join(work, `${name}-tree`);
  await rm(dir, { recursive: true, force: true });
  for (const [p, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, p)), { recursive: true });
    if (p.endsWith("/")) await mkdir(path.join(dir, p), { recursive: true });
    else await writeFile(path.join(dir, p), content);
  }
  const out = path.join(work, `${name}.tar${compress ? ".gz" : ""}`);
  await execa("tar", [compress ? "-czf" : "-cf", out, "-C", dir, "."]);
  return out;
}

/** A layer whose only entry is a hardlink `name` -> `target` (a file of a lower layer). */
async function hardlinkLayer(name: string, target: string, linkName: string, content: string): Promise<string> {
  const dir = path.join(work, `${name}-tree`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(path.join(dir, target)), { recursive: true });
  await writeFile(path.join(dir, target), content);
  await link(path.join(dir, target), path.join(dir, linkName));
  const out = path.join(work, `${name}.tar`);
  // Only the link member goes in: tar stores it as a hardlink to `target`, which this layer lacks.
  await execa("tar", ["-cf", out, "-C", dir, target, linkName]);
  await execa("tar", ["--delete", "-f", out, target]);
  return out;
}

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = path.relative(dir, path.join(e.parentPath, e.name));
    out[p] = e.isDirectory() ? "<dir>" : await readFile(path.join(dir, p), "utf8");
  }
  return out;
}

async function layersFixture(): Promise<string[]> {
  const l1 = await layer("l1", { "etc/a.conf": "A1", "etc/b.conf": "B1", "opt/x/old": "old", "opt/x/keep-not": "gone", "usr/bin/tool": "tool-v1" });
  const l2 = await layer("l2", { "etc/.wh.b.conf": "", "opt/x/.wh..wh..opq": "", "opt/x/new": "new", "etc/c.conf": "C2" }, true);
  const l3 = await hardlinkLayer("l3", "usr/bin/tool", "usr/bin/tool-alias", "tool-v1");
  return [l1, l2, l3];
}

const EXPECTED = {
  etc: "<dir>", "etc/a.conf": "A1", "etc/c.conf": "C2",
  opt: "<dir>", "opt/x": "<dir>", "opt/x/new": "new",
  usr: "<dir>", "usr/bin": "<dir>", "usr/bin/tool": "tool-v1", "usr/bin/tool-alias": "tool-v1",
};

describe("flattenLayers", () => {
  it("applies whiteouts, opaque directories and hardlinks across layers", async () => {
    const dest = path.join(work, "flat");
    await mkdir(dest);
    await flattenLayers(await layersFixture(), dest);
    expect(await tree(dest)).toEqual(EXPECTED);
    const a = await stat(path.join(dest, "usr/bin/tool"));
    const b = await stat(path.join(dest, "usr/bin/tool-alias"));
    expect(b.ino).toBe(a.ino);
  });

  it("reads an OCI image layout and a docker save archive into the same layer order", async () => {
    const layers = await layersFixture();
    const oci = path.join(work, "oci");
    await mkdir(path.join(oci, "blobs", "sha256"), { recursive: true });
    const put = async (bytes: Buffer | string) => {
      const d = createHash("sha256").update(bytes).digest("hex");
      await writeFile(path.join(oci, "blobs", "sha256", d), bytes);
      return `sha256:${d}`;
    };
    const layerDigests = [];
    for (const l of layers) layerDigests.push(await put(await readFile(l)));
    const manifest = await put(JSON.stringify({ schemaVersion: 2, layers: layerDigests.map((digest) => ({ digest })) }));
    const nested = await put(JSON.stringify({ schemaVersion: 2, manifests: [{ digest: manifest, platform: { os: "linux", architecture: "amd64" } }] }));
    await writeFile(path.join(oci, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ digest: nested }] }));
    await writeFile(path.join(oci, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    expect(await imageLayers(oci, "oci")).toEqual(layerDigests.map((d) => path.join(oci, "blobs", "sha256", d.slice(7))));

    const docker = path.join(work, "docker");
    await mkdir(docker);
    for (const [i, l] of layers.entries()) {
      await mkdir(path.join(docker, `l${i}`));
      await execa("cp", [l, path.join(docker, `l${i}`, "layer.tar")]);
    }
    await writeFile(path.join(docker, "manifest.json"), JSON.stringify([{ Config: "c.json", RepoTags: ["t:1"], Layers: ["l0/layer.tar", "l1/layer.tar", "l2/layer.tar"] }]));
    const dl = await imageLayers(docker, "docker");
    const dest = path.join(work, "flat-docker");
    await mkdir(dest);
    await flattenLayers(dl, dest);
    expect(await tree(dest)).toEqual(EXPECTED);
  });

  it("refuses a layer path that leaves the archive", async () => {
    const d = path.join(work, "evil");
    await mkdir(d);
    await writeFile(path.join(d, "manifest.json"), JSON.stringify([{ Layers: ["../outside.tar"] }]));
    await expect(imageLayers(d, "evil")).rejects.toThrow(/leaves the archive/);
  });
});

describe("parseSource", () => {
  it("names each kind of source", () => {
    expect(parseSource("npm:@types/node@20.1.0").spec).toEqual({ kind: "npm", package: "@types/node", version: "20.1.0" });
    expect(parseSource("deb:nginx-common=1.22.1-9").spec).toEqual({ kind: "deb", package: "nginx-common", version: "1.22.1-9" });
    expect(parseSource("rootfs:bookworm+redis-server,nginx").spec).toEqual({ kind: "rootfs", suite: "bookworm", packages: ["nginx", "redis-server"] });
    expect(parseSource("oci:/x/img").spec).toEqual({ kind: "path", path: "/x/img", as: "oci" });
    expect(parseSource("/srv/tree/").label).toBe("tree");
  });
  it("rejects ranges and bad names in one line", () => {
    expect(() => parseSource("npm:lodash@^4")).toThrow(/not an exact version/);
    expect(() => parseSource("deb:nginx")).toThrow(/deb:<package>=<version>/);
    expect(() => parseSource("rootfs:Bad Suite")).toThrow(/rootfs:<debian-suite>/);
  });
});
