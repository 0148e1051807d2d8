// Debian packages from any suite (sid, trixie, experimental, ...) without touching the system's apt
// setup: a private apt configuration (own sources list, lists and cache dirs) under pcshare's cache.
// Downloads are verified against the archive's Packages index (SHA256, which apt itself verified
// against the signed Release file) and extracted with dpkg-deb.
import { mkdir, writeFile, stat, readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { cacheRoot } from "./cache.ts";
import { progress } from "./progress.ts";
import { exists } from "./fs.ts";

export const DEBIAN_MIRROR = process.env.PCSHARE_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
const KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";
/** How long a fetched package index is trusted before `apt-get update` runs again. */
const INDEX_MAX_AGE_MS = 6 * 3600 * 1000;

export interface PackageRecord {
  package: string;
  version: string;
  filename: string;
  sha256: string;
  size: number;
  depends: string;
}

export class DebianArchive {
  readonly suite: string;
  readonly root: string;

  constructor(suite: string) {
    if (!/^[a-z0-9-]+$/.test(suite)) throw new Error(`invalid Debian suite name "${suite}"`);
    this.suite = suite;
    this.root = path.join(cacheRoot(), "apt", suite);
  }

  private options(): string[] {
    return [
      "-o", `Dir::Etc::sourcelist=${path.join(this.root, "sources.list")}`,
      "-o", "Dir::Etc::sourceparts=-",
      "-o", `Dir::State::Lists=${path.join(this.root, "lists")}`,
      "-o", `Dir::Cache=${path.join(this.root, "cache")}`,
      "-o", "Dir::State::status=/dev/null",
      "-o", "APT::Sandbox::User=root",
      "-o", "Debug::NoLocking=1",
    ];
  }

  /** Fetch the suite's package index unless a recent one is present (or `force`). */
  async update(force = false): Promise<void> {
    const stamp = path.join(this.root, "updated");
    if (!force) {
      try {
        const s = await stat(stamp);
        if (Date.now() - s.mtimeMs < INDEX_MAX_AGE_MS) return;
      } catch {
        /* never updated */
      }
    }
    await mkdir(path.join(this.root, "lists", "partial"), { recursive: true });
    await mkdir(path.join(this.root, "cache", "archives", "partial"), { recursive: true });
    const signedBy = (await exists(KEYRING)) ? `[signed-by=${KEYRING}] ` : "";
    await writeFile(path.join(this.root, "sources.list"), `deb ${signedBy}${DEBIAN_MIRROR} ${this.suite} main\n`);
    const done = progress(`Fetching Debian ${this.suite} package index`);
    try {
      await execa("apt-get", [...this.options(), "-q", "update"], { env: { LC_ALL: "C" } });
    } catch (err) {
      done.fail();
      throw new Error(`apt-get update for Debian ${this.suite} failed (mirror ${DEBIAN_MIRROR}): ${short(err)}`);
    }
    done.ok();
    await writeFile(stamp, new Date().toISOString());
  }

  /** The archive's record of a package (candidate version), or undefined when the suite lacks it. */
  async show(pkg: string): Promise<PackageRecord | undefined> {
    await this.update();
    const r = await execa("apt-cache", [...this.options(), "show", "--no-all-versions", pkg], {
      reject: false,
      env: { LC_ALL: "C" },
    });
    if (r.exitCode !== 0 || !r.stdout.trim()) return undefined;
    const field = (name: string) => r.stdout.match(new RegExp(`^${name}: (.*)$`, "m"))?.[1]?.trim() ?? "";
    return {
      package: field("Package"),
      version: field("Version"),
      filename: field("Filename"),
      sha256: field("SHA256"),
      size: Number(field("Size")),
      depends: field("Depends"),
    };
  }

  /** Download a package's .deb into `destDir`, verify its SHA256 against the index, return its record. */
  async download(pkg: string, destDir: string): Promise<PackageRecord & { path: string }> {
    const rec = await this.show(pkg);
    if (!rec) throw new Error(`package ${pkg} not found in Debian ${this.suite}`);
    await mkdir(destDir, { recursive: true });
    const done = progress(`Downloading ${rec.package} ${rec.version} (${(rec.size / 1048576).toFixed(1)} MiB)`);
    try {
      await execa("apt-get", [...this.options(), "-q", "download", `${rec.package}=${rec.version}`], {
        cwd: destDir,
        env: { LC_ALL: "C" },
      });
    } catch (err) {
      done.fail();
      throw new Error(`downloading ${pkg} from Debian ${this.suite} failed: ${short(err)}`);
    }
    const file = path.join(destDir, path.basename(rec.filename).replace(/%3a/gi, ":"));
    const digest = bytesToHex(sha256(await readFile(file)));
    if (digest !== rec.sha256) {
      done.fail();
      throw new Error(`${file}: sha256 ${digest} does not match the archive's ${rec.sha256}`);
    }
    done.ok();
    return { ...rec, path: file };
  }
}

/** Unpack a .deb's files into destDir. */
export async function extractDeb(deb: string, destDir: string): Promise<void> {
  await mkdir(destDir, { recursive: true });
  await execa("dpkg-deb", ["-x", deb, destDir]);
}

function short(err: unknown): string {
  const e = err as { stderr?: string; shortMessage?: string; message?: string };
  return (e.stderr?.trim().split("\n").slice(-3).join(" ") || e.shortMessage || e.message || String(err)).slice(0, 500);
}
