#!/usr/bin/env node
// First step of `npm test`, `npm run suite` and `npm run bench`: installs what is missing.
// npm dependencies (npm ci) and the Debian packages in scripts/system-packages.json (apt-get when
// root; otherwise prints the exact command and stops). Plain Node, no dependencies: it runs before them.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { packages } = JSON.parse(readFileSync(path.join(root, "scripts/system-packages.json"), "utf8"));

function say(msg) {
  process.stderr.write(`[pcshare setup] ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: root, ...opts });
  if (r.status !== 0) {
    say(`\`${cmd} ${args.join(" ")}\` failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  say(`Node.js ${process.versions.node} is too old: pcshare needs >= 20.19`);
  process.exit(1);
}

// npm dependencies: install when node_modules is missing or older than the lock file.
const lock = path.join(root, "package-lock.json");
const marker = path.join(root, "node_modules", ".package-lock.json");
if (!existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs)) {
  say("installing npm dependencies (npm ci)");
  run("npm", existsSync(lock) ? ["ci", "--no-audit", "--no-fund"] : ["install", "--no-audit", "--no-fund"]);
}

// Debian packages.
function installed(pkg) {
  const r = spawnSync("dpkg-query", ["-W", "-f=${Status}", pkg], { encoding: "utf8" });
  return r.status === 0 && r.stdout.includes("install ok installed");
}
if (!existsSync("/usr/bin/dpkg-query")) {
  say("this host is not Debian-based: install QEMU (qemu-system-x86_64), a static busybox, gcc with static glibc, xz, dpkg-deb and apt by hand");
} else {
  const missing = packages.filter((p) => !installed(p));
  if (missing.length) {
    const cmd = `apt-get update && apt-get install -y ${missing.join(" ")}`;
    if (process.getuid?.() !== 0) {
      say(`missing system packages: ${missing.join(", ")}`);
      say(`run as root:  sudo sh -c '${cmd}'`);
      process.exit(1);
    }
    say(`installing system packages: ${missing.join(" ")}`);
    run("apt-get", ["update", "-q"], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    run("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing], {
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  }
}
try {
  execFileSync("qemu-system-x86_64", ["--version"], { stdio: "ignore" });
} catch {
  say("qemu-system-x86_64 does not run; install qemu-system-x86");
  process.exit(1);
}
