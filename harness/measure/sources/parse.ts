// What a `pcshare measure` SOURCE argument names: a directory, a tarball, an OCI image layout or
// `docker save` archive, an npm package version, a Debian package version, or a root filesystem built
// from Debian packages. Pure parsing (no file system, no network): bad text is one InputError line.
import { InputError } from "../../util/input-error.ts";

export type SourceSpec =
  | { kind: "path"; path: string; as?: "oci" | "docker" }
  | { kind: "npm"; package: string; version: string }
  | { kind: "deb"; package: string; version: string }
  | { kind: "rootfs"; suite: string; packages: string[] };

export interface ParsedSource {
  /** the argument as given */
  text: string;
  /** a short name for tables and results (unique among the sources of one run) */
  label: string;
  spec: SourceSpec;
}

const DEB_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const DEB_VERSION = /^[A-Za-z0-9.+~:-]+$/;
const SUITE = /^[a-z0-9-]+$/;

/** Parse one SOURCE argument; `where` names it in messages (e.g. "SOURCE 2"). */
export function parseSource(text: string, where = "SOURCE"): ParsedSource {
  const bad = (why: string): never => {
    throw new InputError(`${where} ${JSON.stringify(text)}: ${why}`);
  };
  const colon = text.indexOf(":");
  const scheme = colon > 0 ? text.slice(0, colon) : "";
  const rest = text.slice(colon + 1);
  switch (scheme) {
    case "npm": {
      const at = rest.lastIndexOf("@");
      if (at <= 0) bad("expected npm:<package>@<exact version>, e.g. npm:lodash@4.17.21");
      const pkg = rest.slice(0, at);
      const version = rest.slice(at + 1);
      if (!/^(@[a-z0-9._~-]+\/)?[a-z0-9._~-]+$/.test(pkg)) bad(`"${pkg}" is not an npm package name`);
      if (!/^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/.test(version)) bad(`"${version}" is not an exact version (published tarballs never change; ranges and tags do)`);
      return { text, label: `${pkg}@${version}`, spec: { kind: "npm", package: pkg, version } };
    }
    case "deb": {
      const eq = rest.indexOf("=");
      if (eq <= 0) bad("expected deb:<package>=<version>, e.g. deb:nginx-common=1.22.1-9");
      const pkg = rest.slice(0, eq);
      const version = rest.slice(eq + 1);
      if (!DEB_NAME.test(pkg)) bad(`"${pkg}" is not a Debian package name`);
      if (!DEB_VERSION.test(version)) bad(`"${version}" is not a Debian version`);
      return { text, label: `${pkg}=${version}`, spec: { kind: "deb", package: pkg, version } };
    }
    case "rootfs": {
      const plus = rest.indexOf("+");
      const suite = plus < 0 ? rest : rest.slice(0, plus);
      const packages = plus < 0 ? [] : rest.slice(plus + 1).split(",").filter(Boolean);
      if (!SUITE.test(suite)) bad("expected rootfs:<debian-suite>+<pkg>,<pkg>..., e.g. rootfs:bookworm+nginx");
      for (const p of packages) if (!DEB_NAME.test(p)) bad(`"${p}" is not a Debian package name`);
      const sorted = [...new Set(packages)].sort();
      return { text, label: `${suite}+${sorted.join(",") || "minbase"}`, spec: { kind: "rootfs", suite, packages: sorted } };
    }
    case "oci":
    case "docker":
      if (!rest) bad(`expected ${scheme}:<path>`);
      return { text, label: baseLabel(rest), spec: { kind: "path", path: rest, as: scheme } };
    default:
      if (!text) bad("empty; give a directory, a tarball, npm:<pkg>@<version>, deb:<pkg>=<version> or rootfs:<suite>+<pkgs>");
      return { text, label: baseLabel(text), spec: { kind: "path", path: text } };
  }
}

function baseLabel(p: string): string {
  const parts = p.replace(/\/+$/, "").split("/");
  return parts[parts.length - 1] || p;
}

/** Parse every SOURCE (2 to 64); labels made unique with #2, #3 ... when two sources name alike. */
export function parseSources(texts: string[]): ParsedSource[] {
  if (texts.length < 2 || texts.length > 64) throw new InputError(`pcshare measure needs 2 to 64 sources, got ${texts.length}`);
  const parsed = texts.map((t, i) => parseSource(t, `SOURCE ${i + 1}`));
  const seen = new Map<string, number>();
  for (const p of parsed) {
    const n = (seen.get(p.label) ?? 0) + 1;
    seen.set(p.label, n);
    if (n > 1) p.label = `${p.label}#${n}`;
  }
  return parsed;
}
