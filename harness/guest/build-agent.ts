// Builds the static guest agent (./agent/*.c) with the host's gcc into pcshare's cache, keyed by the
// sources and the compiler version, so it is rebuilt only when either changes.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { cachedDir } from "../util/cache.ts";

export const AGENT_SOURCE_DIR = fileURLToPath(new URL("./agent/", import.meta.url));
export const AGENT_BINARY_NAME = "pcshare-agent";
export const AGENT_CFLAGS = ["-static", "-pthread", "-O2", "-Wall", "-Wextra"];

const INSTALL_HINT = "install it with: apt-get install gcc libc6-dev";

/** The agent's C sources and headers, sorted, as absolute paths. */
export async function agentSources(): Promise<string[]> {
  const names = (await readdir(AGENT_SOURCE_DIR)).filter((n) => /\.[ch]$/.test(n)).sort();
  return names.map((n) => path.join(AGENT_SOURCE_DIR, n));
}

async function gccVersion(): Promise<string> {
  try {
    const r = await execa("gcc", ["--version"]);
    return r.stdout.split("\n")[0] ?? "";
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`gcc not found; ${INSTALL_HINT}`);
    throw err;
  }
}

let building: Promise<string> | undefined;

/** Path of the compiled static agent, building it on first use. */
export function buildAgent(): Promise<string> {
  building ??= build().catch((err) => {
    building = undefined;
    throw err;
  });
  return building;
}

async function build(): Promise<string> {
  const sources = await agentSources();
  const version = await gccVersion();
  const h = sha256.create();
  h.update(utf8ToBytes(`${version}\0${AGENT_CFLAGS.join(" ")}\0`));
  for (const file of sources) {
    h.update(utf8ToBytes(`${path.basename(file)}\0`));
    h.update(await readFile(file));
    h.update(utf8ToBytes("\0"));
  }
  const key = `agent-${bytesToHex(h.digest()).slice(0, 24)}`;
  const dir = await cachedDir("tools", key, async (tmp) => {
    const out = path.join(tmp, AGENT_BINARY_NAME);
    const cfiles = sources.filter((f) => f.endsWith(".c"));
    const r = await execa("gcc", [...AGENT_CFLAGS, "-o", out, ...cfiles], { reject: false, all: true });
    if (r.exitCode !== 0) {
      const log = String(r.all ?? "");
      const hint = /cannot find -lc|stdio\.h: No such file/.test(log) ? `\n(static glibc missing? ${INSTALL_HINT})` : "";
      throw new Error(`building ${AGENT_BINARY_NAME} failed:\n${log}${hint}`);
    }
  });
  return path.join(dir, AGENT_BINARY_NAME);
}
