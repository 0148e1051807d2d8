// The bad inputs pcshare handles, each with the exact line it prints and its exit status. One list
// drives both test/cli/bad-inputs.test.ts (which runs each through the CLI as a user would) and
// docs/bad-inputs.md (rendered by renderBadInputsDoc; the test fails when the file differs).
// Placeholders: {dir} is a scratch directory holding the fixtures below (and, made by the test, a git
// repository {dir}/repo tagged v1 and a history {dir}/history.sqlite recording good-results.json),
// {bzImage} a real kernel, {entry} the cache entry of tiny.yaml's image, {hostMiB} the host's memory,
// {repo} the checkout.
import { readFileSync } from "node:fs";

export interface BadInput {
  /** What is wrong, in words. */
  kind: string;
  /** The program: pcshare (default) or the nightly script (scripts/nightly.ts). */
  tool?: "pcshare" | "nightly";
  /** The program's arguments. */
  argv: string[];
  /** A fixture file given on stdin (default: nothing, an empty stdin). */
  stdin?: string;
  env?: Record<string, string>;
  /** The exact stderr line ({*}: any text, for what differs between hosts). For a failure (exit != 0) it must be all of stderr. */
  message: string;
  exit: number;
  /** What the host must offer: tmpfs mounts (root) for a read-only place or a full disk; KVM that fails its probe. */
  needs?: ("mounts" | "broken-kvm")[];
}

/** Fixture files in {dir} the list refers to (directories end in /). */
const GOOD_RUN = readFileSync(new URL("../fixtures/runs/sid-7.2.13-f1-l2-d2-o3.json", import.meta.url), "utf8");

/** The good run (cases F1, L2, D2, O3) as shard `index` of 2 of a split into `groups`, holding only its group's cases. */
function shardOf(index: number, groups: string[][], change: (run: Record<string, any>) => void = () => {}): string {
  const run = JSON.parse(GOOD_RUN) as Record<string, any>;
  run.shard = { index, count: 2, selection: ["F1", "L2", "D2", "O3"], groups, weighedBy: "timeouts" };
  run.cases = (run.cases as { id: string }[]).filter((c) => groups[index - 1].includes(c.id));
  change(run);
  return JSON.stringify(run);
}
const SPLIT = [["F1", "L2"], ["D2", "O3"]];
/** A kernel matrix of one entry (indented lines after `- name: k`). */
const matrix = (...lines: string[]) => ["kernels:", "  - name: k", ...lines.map((l) => `    ${l}`), ""].join("\n");

export const FIXTURES: Record<string, string> = {
  "notes.txt": "just some text\n",
  "afile": "a file, not a directory\n",
  "empty/": "",
  "garbage.config": "hello world\nthis is not a kernel config\n",
  "bomb.yaml": [
    'a: &a ["x","x","x","x","x","x","x","x","x"]',
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
    "images:",
    "  x:",
    "    files: *e",
    "",
  ].join("\n"),
  "nodir.yaml": "images:\n  t-nodir:\n    mkfs: { compress: none }\n    source: { dir: no-such-dir }\n",
  "badtar.yaml": "images:\n  t-badtar:\n    mkfs: { compress: none }\n    source: { tar: notes.txt }\n",
  "big.yaml": "images:\n  t-big:\n    mkfs: { compress: none }\n    files:\n      - { path: /big.bin, gen: random, size: 4MiB, seed: 1 }\n",
  "xattr-long.yaml": "images:\n  t-xlong:\n    files:\n      - path: /a\n        gen: empty\n        xattrs:\n          - { name: user.big, random: 65536, seed: 1 }\n",
  "xattr-ns.yaml": "images:\n  t-xns:\n    files:\n      - { path: /a, gen: empty, xattrs: [{ name: erofs.fingerprint.v1, value: forged }] }\n",
  "xattr-prefix.yaml": "images:\n  t-xpfx:\n    mkfs: { xattrPrefixes: [my.app.] }\n    files:\n      - { path: /a, gen: empty }\n",
  "tiny.yaml": "images:\n  t-tiny:\n    mkfs: { compress: none }\n    files:\n      - { path: /a.bin, gen: random, size: 64KiB, seed: 1 }\n",
  "bad-results.json": "{ not json\n",
  "good-results.json": GOOD_RUN,
  "shard-1.json": shardOf(1, SPLIT),
  "shard-2.json": shardOf(2, SPLIT),
  "shard-2-resplit.json": shardOf(2, [["F1", "D2"], ["L2", "O3"]]),
  "shard-2-trixie.json": shardOf(2, SPLIT, (r) => Object.assign(r.kernel, { source: "debian:trixie", release: "6.12.117+deb13-amd64", version: "6.12.117-1" })),
  "cover-letter.eml": "From: A Developer <dev@example.org>\nSubject: [PATCH 0/2] erofs: a series\n\nThe cover letter: no diff here.\n",
  "tracking.json": "{ not json\n",
  "m-case.yaml": matrix("debian: sid", "known-bugs: false", "only: [F1, NO-SUCH-CASE]"),
  "m-both.yaml": matrix("debian: sid", "build: { debug: true }", "known-bugs: false"),
  "m-bugs.yaml": matrix("debian: sid", "known-bugs: no-such-bugs"),
  "m-syntax.yaml": "kernels:\n  - name: k\n    debian: [sid\n",
  "m-repo.yaml": matrix("build:", "  tree: { repo: no-such-repo, ref: v1 }", "known-bugs: false"),
  "m-ref.yaml": matrix("build:", "  tree: { repo: repo, ref: v9 }", "known-bugs: false"),
  "m-good.yaml": matrix("debian: sid", "known-bugs: false"),
};

export const BAD_INPUTS: BadInput[] = [
  { kind: "PCSHARE_ACCEL not kvm or tcg", argv: ["exec", "--", "true"], env: {PCSHARE_ACCEL: "bogus"}, message: "pcshare: PCSHARE_ACCEL=bogus: unknown accelerator; use kvm or tcg, or unset it to probe", exit: 2 },
  { kind: "PCSHARE_ACCEL set but empty", argv: ["list"], env: {PCSHARE_ACCEL: ""}, message: "pcshare: PCSHARE_ACCEL is set but empty; give a value or unset it", exit: 2 },
  { kind: "PCSHARE_QEMU names no file", argv: ["doctor"], env: {PCSHARE_QEMU: "/nonexistent/qemu"}, message: "pcshare: PCSHARE_QEMU=/nonexistent/qemu: no such file; point it at qemu-system-x86_64 or unset it", exit: 2 },
  { kind: "PCSHARE_QEMU not executable", argv: ["doctor"], env: {PCSHARE_QEMU: "{dir}/notes.txt"}, message: "pcshare: PCSHARE_QEMU={dir}/notes.txt: not executable; point it at qemu-system-x86_64 or unset it", exit: 2 },
  { kind: "PCSHARE_KERNEL a text file", argv: ["exec", "--", "true"], env: {PCSHARE_KERNEL: "{dir}/notes.txt"}, message: "pcshare: PCSHARE_KERNEL={dir}/notes.txt: not a kernel image (no bzImage header, not ELF); give a bzImage (arch/x86/boot/bzImage), an ELF vmlinux, or debian:<suite>", exit: 2 },
  { kind: "PCSHARE_CACHE a file", argv: ["images", "build", "{dir}/tiny.yaml"], env: {PCSHARE_CACHE: "{dir}/afile"}, message: "pcshare: PCSHARE_CACHE={dir}/afile: is a file, not a directory; name a directory (it is created if missing)", exit: 2 },
  { kind: "PCSHARE_CACHE on a read-only file system", argv: ["images", "build", "{dir}/tiny.yaml"], env: {PCSHARE_CACHE: "{dir}/ro/cache"}, message: "pcshare: PCSHARE_CACHE={dir}/ro/cache: cannot create it: {dir}/ro is not writable (read-only file system); name a writable directory", exit: 2, needs: ["mounts"] },
  { kind: "PCSHARE_BUILD_JOBS zero", argv: ["run", "--only", "F1"], env: {PCSHARE_BUILD_JOBS: "0"}, message: "pcshare: PCSHARE_BUILD_JOBS=0: out of range; give an integer from 1 to 1024", exit: 2 },
  { kind: "PCSHARE_EXTRA_MODULES not module names", argv: ["run", "--only", "F1"], env: {PCSHARE_EXTRA_MODULES: "ext4;rm"}, message: "pcshare: PCSHARE_EXTRA_MODULES=ext4;rm: \"ext4;rm\" is not a module name; give comma-separated names such as ext4,xfs", exit: 2 },
  { kind: "PCSHARE_BUSYBOX names no file", argv: ["run", "--only", "F1"], env: {PCSHARE_BUSYBOX: "/nonexistent/busybox"}, message: "pcshare: PCSHARE_BUSYBOX=/nonexistent/busybox: no such file; point it at a statically linked busybox or unset it", exit: 2 },
  { kind: "PCSHARE_EROFS_UTILS_DIR a file", argv: ["images", "build", "{dir}/tiny.yaml"], env: {PCSHARE_EROFS_UTILS_DIR: "{dir}/afile"}, message: "pcshare: PCSHARE_EROFS_UTILS_DIR={dir}/afile: not a directory; point it at a directory with mkfs.erofs and dump.erofs or unset it", exit: 2 },
  { kind: "PCSHARE_SPARE_GUEST not 0 or 1", argv: ["run", "--only", "F1"], env: {PCSHARE_SPARE_GUEST: "yes"}, message: "pcshare: PCSHARE_SPARE_GUEST=yes: use 0 or 1", exit: 2 },
  { kind: "PCSHARE_QUIET not 0 or 1", argv: ["list"], env: {PCSHARE_QUIET: "2"}, message: "pcshare: PCSHARE_QUIET=2: use 0 or 1", exit: 2 },
  { kind: "PCSHARE_BOOT not a boot path", argv: ["run", "--only", "F1"], env: {PCSHARE_BOOT: "efi"}, message: "pcshare: PCSHARE_BOOT=efi: unknown boot path; use auto, pvh, bzimage", exit: 2 },
  { kind: "--boot not a boot path", argv: ["exec", "--boot", "elf", "--", "true"], message: "pcshare: --boot elf: unknown boot path; use auto, pvh, bzimage", exit: 2 },
  { kind: "PCSHARE_RESTORE not a restore mode", argv: ["run", "--only", "F1"], env: {PCSHARE_RESTORE: "yes"}, message: "pcshare: PCSHARE_RESTORE=yes: unknown restore mode; use auto or off", exit: 2 },
  { kind: "--restore not a restore mode", argv: ["run", "--restore", "always", "--only", "F1"], message: "pcshare: --restore always: unknown restore mode; use auto or off", exit: 2 },
  { kind: "--boot pvh for a kernel without a PVH entry", argv: ["exec", "--kernel", "{bzImage}", "--boot", "pvh", "--", "true"], message: "pcshare: boot path pvh (--boot or PCSHARE_BOOT): kernel {*} has no PVH entry: no vmlinux beside the bzImage (put the build's vmlinux next to it for PVH boot); use auto or bzimage", exit: 2 },
  { kind: "PCSHARE_FIRMWARE not a firmware", argv: ["run", "--only", "F1"], env: {PCSHARE_FIRMWARE: "ovmf"}, message: "pcshare: PCSHARE_FIRMWARE=ovmf: unknown firmware; use qboot or seabios", exit: 2 },
  { kind: "PCSHARE_DEBIAN_MIRROR not a URL", argv: ["run", "--only", "F1"], env: {PCSHARE_DEBIAN_MIRROR: "ftp.debian.org"}, message: "pcshare: PCSHARE_DEBIAN_MIRROR=ftp.debian.org: not an http(s) URL; give e.g. http://deb.debian.org/debian", exit: 2 },
  { kind: "--cpus zero", argv: ["run", "--only", "F1", "--cpus", "0"], message: "pcshare: --cpus 0: out of range; give an integer from 1 to 64", exit: 2 },
  { kind: "--cpus not a number", argv: ["run", "--only", "F1", "--cpus", "two"], message: "pcshare: --cpus \"two\": not a whole number; give an integer from 1 to 64", exit: 2 },
  { kind: "--memory too small for a guest", argv: ["exec", "--memory", "1", "--", "true"], message: "pcshare: --memory 1: out of range; give an integer from 256 to {hostMiB} MiB (256 is the smallest guest pcshare boots, {hostMiB} the host's memory)", exit: 2 },
  { kind: "--memory more than the host has", argv: ["run", "--only", "F1", "--memory", "99999999"], message: "pcshare: --memory 99999999: out of range; give an integer from 256 to {hostMiB} MiB (256 is the smallest guest pcshare boots, {hostMiB} the host's memory)", exit: 2 },
  { kind: "--timeout not a number", argv: ["exec", "--timeout", "abc", "--", "true"], message: "pcshare: --timeout \"abc\": not a whole number; give an integer from 1 to 86400 seconds", exit: 2 },
  { kind: "--repeat zero", argv: ["run", "--only", "F1", "--repeat", "0"], message: "pcshare: --repeat 0: out of range; give an integer from 1 to 1000", exit: 2 },
  { kind: "--jobs zero", argv: ["run", "--only", "F1", "--jobs", "0"], message: "pcshare: --jobs 0: out of range; give an integer from 1 to 64 guests at once", exit: 2 },
  { kind: "--kernel a text file", argv: ["exec", "--kernel", "{dir}/notes.txt", "--", "true"], message: "pcshare: --kernel {dir}/notes.txt: not a kernel image (no bzImage header, not ELF); give a bzImage (arch/x86/boot/bzImage), an ELF vmlinux, or debian:<suite>", exit: 2 },
  { kind: "--kernel names no file", argv: ["run", "--only", "F1", "--kernel", "{dir}/missing-bzImage"], message: "pcshare: --kernel {dir}/missing-bzImage: no such file; give a bzImage (arch/x86/boot/bzImage), an ELF vmlinux, or debian:<suite>", exit: 2 },
  { kind: "--kernel a directory", argv: ["run", "--only", "F1", "--kernel", "{dir}/empty"], message: "pcshare: --kernel {dir}/empty: not a regular file; give a bzImage (arch/x86/boot/bzImage), an ELF vmlinux, or debian:<suite>", exit: 2 },
  { kind: "--kernel debian: without a suite", argv: ["run", "--only", "F1", "--kernel", "debian:"], message: "pcshare: --kernel debian:: needs a Debian suite or version, e.g. debian:sid or debian:7.2.13", exit: 2 },
  { kind: "--modules an empty directory", argv: ["exec", "--kernel", "{bzImage}", "--modules", "{dir}/empty", "--", "true"], message: "pcshare: --modules {dir}/empty: no kernel modules (*.ko, *.ko.xz, *.ko.zst, *.ko.gz) in it; give a modules_install output", exit: 2 },
  { kind: "--modules with a Debian kernel", argv: ["run", "--only", "F1", "--modules", "{dir}/empty"], message: "pcshare: --modules {dir}/empty: only for a --kernel bzImage path (Debian kernels bring their own modules)", exit: 2 },
  { kind: "--modules names no directory", argv: ["exec", "--kernel", "{bzImage}", "--modules", "{dir}/missing-modules", "--", "true"], message: "pcshare: --modules {dir}/missing-modules: no such directory; give a `make modules_install INSTALL_MOD_PATH=` output", exit: 2 },
  { kind: "--kernel-config not a config", argv: ["exec", "--kernel", "{bzImage}", "--kernel-config", "{dir}/garbage.config", "--", "true"], message: "pcshare: --kernel-config {dir}/garbage.config:1: not a kernel config line (\"hello world\"); give a .config written by make", exit: 2 },
  { kind: "--kernel-config names no file", argv: ["exec", "--kernel", "{bzImage}", "--kernel-config", "{dir}/missing.config", "--", "true"], message: "pcshare: --kernel-config {dir}/missing.config: no such file; give the .config of the --kernel bzImage", exit: 2 },
  { kind: "--kernel with a build option", argv: ["run", "--only", "F1", "--kernel", "{bzImage}", "--debug"], message: "pcshare: --kernel cannot be combined with --tree/--series/--debug/--fragment (those build a kernel from source)", exit: 2 },
  { kind: "--tree names no directory", argv: ["run", "--only", "F1", "--tree", "{dir}/missing-tree"], message: "pcshare: --tree {dir}/missing-tree: no such directory; give a Linux source tree", exit: 2 },
  { kind: "--tree not a kernel source tree", argv: ["run", "--only", "F1", "--tree", "{dir}/empty"], message: "pcshare: --tree {dir}/empty: not a Linux source tree (no Makefile in it); give a kernel source checkout", exit: 2 },
  { kind: "--series names no file", argv: ["run", "--only", "F1", "--series", "{dir}/missing.patch"], message: "pcshare: --series {dir}/missing.patch: no such file or directory; give an mbox, a .patch, a directory of patches, or A..B with a git --tree", exit: 2 },
  { kind: "series names no file", argv: ["series", "{dir}/missing.patch"], message: "pcshare: series {dir}/missing.patch: no such file or directory; give an mbox, a .patch, a directory of patches, or A..B with a git --tree", exit: 2 },
  { kind: "series file holds no patch", argv: ["series", "{dir}/notes.txt"], message: "pcshare: series {dir}/notes.txt: no patches found (no unified diff in it); give an mbox, a .patch file or a directory of them", exit: 2 },
  { kind: "series git range without --tree", argv: ["series", "v7.1..v7.2"], message: "pcshare: series v7.1..v7.2: a git range needs --tree pointing at a git checkout", exit: 2 },
  { kind: "--fragment unknown", argv: ["run", "--only", "F1", "--fragment", "no-such-fragment"], message: "pcshare: --fragment no-such-fragment: no file {repo}/kernel-configs/no-such-fragment.config (known fragments: base, debug, share-off, share-on); name one of them or give a path", exit: 2 },
  { kind: "--image without NAME=", argv: ["exec", "--image", "{dir}/notes.txt", "--", "true"], message: "pcshare: --image {dir}/notes.txt: expected NAME=PATH, e.g. --image a=out/share-a.erofs", exit: 2 },
  { kind: "--image names no file", argv: ["exec", "--image", "a={dir}/missing.erofs", "--", "true"], message: "pcshare: --image a={dir}/missing.erofs: no such file; give an EROFS image file", exit: 2 },
  { kind: "--image name with a space", argv: ["exec", "--image", "a b={dir}/notes.txt", "--", "true"], message: "pcshare: --image a b={dir}/notes.txt: the name \"a b\" may only use letters, digits, _ and -", exit: 2 },
  { kind: "--out a file", argv: ["run", "--only", "F1", "--out", "{dir}/afile"], message: "pcshare: --out {dir}/afile: is a file, not a directory; name a directory (it is created if missing)", exit: 2 },
  { kind: "--out on a read-only file system", argv: ["run", "--only", "F1", "--out", "{dir}/ro/results"], message: "pcshare: --out {dir}/ro/results: cannot create it: {dir}/ro is not writable (read-only file system); name a writable directory", exit: 2, needs: ["mounts"] },
  { kind: "--spec names no file", argv: ["run", "--only", "F1", "--spec", "{dir}/missing.yaml"], message: "pcshare: --spec {dir}/missing.yaml: no such file; give an image spec YAML file (see images/)", exit: 2 },
  { kind: "--spec a YAML alias bomb", argv: ["run", "--only", "F1", "--spec", "{dir}/bomb.yaml"], message: "pcshare: {dir}/bomb.yaml: YAML aliases expand too far (more than 100 alias uses: an alias bomb?); write the entries out instead", exit: 2 },
  { kind: "--known-bugs names no directory", argv: ["run", "--only", "F1", "--known-bugs", "{dir}/missing-bugs"], message: "pcshare: --known-bugs {dir}/missing-bugs: no such directory; give a directory of registered bugs like known-bugs/, or --no-known-bugs", exit: 2 },
  { kind: "series --budget zero", argv: ["series", "{dir}/missing.patch", "--budget", "0"], message: "pcshare: --budget 0: out of range; give an integer from 1 to 10080 minutes", exit: 2 },
  { kind: "--only matches no case", argv: ["run", "--only", "NO-SUCH-CASE"], message: "pcshare: no case matches \"NO-SUCH-CASE\" (see `pcshare list` for ids and names)", exit: 2 },
  { kind: "spec a YAML alias bomb", argv: ["images", "build", "{dir}/bomb.yaml"], message: "pcshare: {dir}/bomb.yaml: YAML aliases expand too far (more than 100 alias uses: an alias bomb?); write the entries out instead", exit: 2 },
  { kind: "spec xattr value longer than EROFS holds", argv: ["images", "build", "{dir}/xattr-long.yaml"], message: "pcshare: {dir}/xattr-long.yaml:7: images.t-xlong.files[0].xattrs[0].random: value is 65536 bytes, more than 65535 (EROFS e_value_size is 16 bits; mkfs.erofs would write a broken image)", exit: 2 },
  { kind: "spec xattr name outside the settable namespaces", argv: ["images", "build", "{dir}/xattr-ns.yaml"], message: "pcshare: {dir}/xattr-ns.yaml:4: images.t-xns.files[0].xattrs[0].name: bad xattr name \"erofs.fingerprint.v1\": expected a name of 1 to 255 bytes in one of the namespaces user., trusted., security., e.g. user.comment (the host cannot set names outside them)", exit: 2 },
  { kind: "spec long xattr prefix without a namespace", argv: ["images", "build", "{dir}/xattr-prefix.yaml"], message: "pcshare: {dir}/xattr-prefix.yaml:3: images.t-xpfx.mkfs.xattrPrefixes[0]: bad prefix \"my.app.\": must start with one of user., trusted., security. and add to it, e.g. user.my.app.", exit: 2 },
  { kind: "spec source dir missing", argv: ["images", "build", "{dir}/nodir.yaml"], message: "pcshare: {dir}/nodir.yaml:2: images.t-nodir.source.dir: {dir}/no-such-dir: no such directory; fix the path (relative paths are from the spec file's directory)", exit: 2 },
  { kind: "spec source tar not a tar archive", argv: ["images", "build", "{dir}/badtar.yaml"], message: "pcshare: {dir}/badtar.yaml:2: images.t-badtar.source.tar: {dir}/notes.txt: not a tar archive tar can read (tar: This does not look like a tar archive); give a .tar, .tar.gz, .tar.xz or .tar.zst", exit: 2 },
  { kind: "no space left while generating an image", argv: ["images", "build", "{dir}/big.yaml"], env: {TMPDIR: "{dir}/small"}, message: "pcshare: {dir}/big.yaml:2: images.t-big: no space left on the device while writing its file tree under {dir}/small; free space there or point TMPDIR at a larger file system", exit: 2, needs: ["mounts"] },
  { kind: "image truncated (inspect)", argv: ["images", "inspect", "{dir}/truncated.erofs"], message: "pcshare: {dir}/truncated.erofs: truncated: 8192 bytes, but its superblock says 17 blocks of 4096 bytes (69632 bytes); copy or build the image again", exit: 2 },
  { kind: "image not EROFS (inspect)", argv: ["images", "inspect", "{dir}/notes.txt"], message: "pcshare: {dir}/notes.txt: not an EROFS image (erofs: image too small for a superblock (15 bytes, need 1152) (at byte offset 1024 / 0x400)); give an image built by mkfs.erofs", exit: 2 },
  { kind: "image names no file (inspect)", argv: ["images", "inspect", "{dir}/missing.erofs"], message: "pcshare: image {dir}/missing.erofs: no such file; give an EROFS image file", exit: 2 },
  { kind: "mutation unknown", argv: ["images", "mutate", "{dir}/truncated.erofs", "--mutation", "no-such", "--out", "{dir}/m.erofs"], message: "pcshare: --mutation no-such: unknown (known: forgeFingerprint, sizeMismatchFingerprint, emptyFingerprint, oversizeFingerprint, badIsharePrefixId, setIshareCompat, clearIshareCompat, setFingerprintValue, setFingerprintBytes, collideFingerprints); see pcshare images mutate --list", exit: 2 },
  { kind: "shell without a terminal", argv: ["shell"], message: "pcshare: pcshare shell needs a terminal on stdin (it is interactive); use `pcshare exec -- CMD` to run a command without one", exit: 2 },
  { kind: "results file missing (report)", argv: ["report", "{dir}/missing-results.json"], message: "pcshare: results {dir}/missing-results.json: no such file; give the results.json of an earlier run", exit: 2 },
  { kind: "results file not JSON (report)", argv: ["report", "{dir}/bad-results.json"], message: "pcshare: results {dir}/bad-results.json: not valid JSON (Expected property name or '}' in JSON at position 2); give the results.json of an earlier run", exit: 2 },
  { kind: "report format unknown", argv: ["report", "{dir}/bad-results.json", "--format", "pdf"], message: "pcshare: --format pdf: unknown report format \"pdf\" (one of: json, ktap, junit, kcidb, md, html)", exit: 2 },
  { kind: "known-bugs dir missing (report)", argv: ["report", "{dir}/good-results.json", "--known-bugs", "{dir}/no-such-bugs"], message: "pcshare: --known-bugs {dir}/no-such-bugs: no such directory; give a directory of registered bugs like known-bugs/, or --no-known-bugs", exit: 2 },
  { kind: "baseline file missing (compare)", argv: ["compare", "{dir}/missing-a.json", "{dir}/missing-b.json"], message: "pcshare: baseline {dir}/missing-a.json: no such file; give the results.json of an earlier run", exit: 2 },
  { kind: "mutants --dir names no directory", argv: ["mutants", "--dir", "{dir}/missing-mutants"], message: "pcshare: --dir {dir}/missing-mutants: no such directory; give a directory of mutant .patch files", exit: 2 },
  { kind: "history file not a database", argv: ["history", "--history", "{dir}/notes.txt"], message: "pcshare: {dir}/notes.txt: not a pcshare history database (file is not a database); give another --history file or move this one away", exit: 2 },
  { kind: "history --last 0", argv: ["history", "--last", "0", "--history", "{dir}/h.sqlite"], message: "pcshare: --last 0: out of range; give an integer from 1 to 1000000", exit: 2 },
  { kind: "kcidb submit without PCSHARE_KCIDB_URL", argv: ["kcidb", "submit", "{dir}/good-results.json"], message: "pcshare: PCSHARE_KCIDB_URL is not set: export the KCIDB REST base URL (the submission goes to <url>/submit), or use --dry-run", exit: 2 },
  { kind: "PCSHARE_KCIDB_URL not a URL", argv: ["list"], env: {PCSHARE_KCIDB_URL: "kcidb.example.org"}, message: "pcshare: PCSHARE_KCIDB_URL=kcidb.example.org: not an http(s) URL; give the KCIDB REST base URL (pcshare posts to <url>/submit)", exit: 2 },
  { kind: "repro of no known case", argv: ["repro", "Z9", "--out", "{dir}/bundle"], message: "pcshare: repro: Z9: no such case, found case ({repo}/cases/found/E<n>.json) or results.json: give a case id from `pcshare list`, a found case or a results file", exit: 2 },
  { kind: "repro of a case that works on the host", argv: ["repro", "I5", "--out", "{dir}/bundle"], message: "pcshare: repro: I5 runs fsck.erofs on the host, not in the guest: a bundle replays only what the guest does, so it cannot reproduce this case", exit: 2 },
  { kind: "repro of a results.json without naming the case", argv: ["repro", "{dir}/good-results.json", "--out", "{dir}/bundle"], message: "pcshare: repro: {dir}/good-results.json: name the case with --case ID or {dir}/good-results.json#ID (cases that did not pass: L2, D2, O3)", exit: 2 },
  { kind: "repro of a result recorded without its steps", argv: ["repro", "{dir}/good-results.json#O3", "--out", "{dir}/bundle"], message: "pcshare: repro: O3 in {dir} has no recorded steps (steps.json: runs before pcshare recorded them): make a bundle from the case itself with `pcshare repro O3 --out DIR`", exit: 2 },
  { kind: "repro into a directory that is not empty", argv: ["repro", "O3", "--out", "{dir}/empty/.."], message: "pcshare: --out {dir}/empty/..: not empty; give a new or empty directory for the bundle", exit: 2 },
  { kind: "concerns of a results file that is missing", argv: ["concerns", "{dir}/missing.json"], message: "pcshare: results {dir}/missing.json: no such file; give the results.json of an earlier run", exit: 2 },
  // The nightly: shards and their merge, the history, KCIDB, b4, and scripts/nightly.ts with its kernel matrix.
  { kind: "run --shard 0/2", argv: ["run", "--only", "F1", "--shard", "0/2"], message: "pcshare: --shard 0/2: expected I/N with 1 <= I <= N <= 1000, e.g. --shard 1/2", exit: 2 },
  { kind: "run --shard not I/N", argv: ["run", "--only", "F1", "--shard", "half"], message: "pcshare: --shard half: expected I/N with 1 <= I <= N <= 1000, e.g. --shard 1/2", exit: 2 },
  { kind: "run --shard more shards than cases", argv: ["run", "--only", "F1,I1", "--shard", "1/3"], message: "pcshare: --shard 1/3: the selection has 2 case(s); use at most 2 shard(s)", exit: 2 },
  { kind: "run --durations without --shard", argv: ["run", "--only", "F1", "--durations", "{dir}/good-results.json"], message: "pcshare: --durations only balances --shard; add --shard I/N or leave --durations out", exit: 2 },
  { kind: "run --durations names no file", argv: ["run", "--only", "F1", "--shard", "1/2", "--durations", "{dir}/missing-results.json"], message: "pcshare: --durations {dir}/missing-results.json: no such file; give the results.json of an earlier run", exit: 2 },
  { kind: "run --durations not JSON", argv: ["run", "--only", "F1", "--shard", "1/2", "--durations", "{dir}/bad-results.json"], message: "pcshare: --durations {dir}/bad-results.json: not valid JSON (Expected property name or '}' in JSON at position 2); give the results.json of an earlier run", exit: 2 },
  { kind: "merge without --out", argv: ["merge", "{dir}/shard-1.json"], message: "pcshare: required option '--out <dir>' not specified; see `pcshare merge --help`", exit: 2 },
  { kind: "merge results names no file", argv: ["merge", "{dir}/missing-results.json", "--out", "{dir}/merged"], message: "pcshare: results {dir}/missing-results.json: no such file; give the results.json of an earlier run", exit: 2 },
  { kind: "merge a run that is not a shard", argv: ["merge", "{dir}/good-results.json", "--out", "{dir}/merged"], message: "pcshare: {dir}/good-results.json: not a shard's results (no \"shard\" record); give the results of `pcshare run --shard I/N`", exit: 2 },
  { kind: "merge --shards not the shards' count", argv: ["merge", "{dir}/shard-1.json", "--shards", "3", "--out", "{dir}/merged"], message: "pcshare: --shards 3: {dir}/shard-1.json is shard 1/2; give the shard count the run was split into", exit: 2 },
  { kind: "merge --shards zero", argv: ["merge", "{dir}/shard-1.json", "--shards", "0", "--out", "{dir}/merged"], message: "pcshare: --shards 0: out of range; give an integer from 1 to 1000", exit: 2 },
  { kind: "merge the same shard twice", argv: ["merge", "{dir}/shard-1.json", "{dir}/shard-1.json", "--out", "{dir}/merged"], message: "pcshare: {dir}/shard-1.json: shard 1/2 is also {dir}/shard-1.json; give each shard's results once", exit: 2 },
  { kind: "merge shards of two kernels", argv: ["merge", "{dir}/shard-1.json", "{dir}/shard-2-trixie.json", "--out", "{dir}/merged"], message: "pcshare: {dir}/shard-2-trixie.json: kernel 6.12.117+deb13-amd64 (debian:trixie) is not {dir}/shard-1.json's 7.2.13+deb14-amd64 (debian:sid); merge only shards of one kernel", exit: 2 },
  { kind: "merge shards split differently", argv: ["merge", "{dir}/shard-1.json", "{dir}/shard-2-resplit.json", "--out", "{dir}/merged"], message: "pcshare: {dir}/shard-2-resplit.json: shard 2/2 was split differently from {dir}/shard-1.json (other selection or --durations); run every shard with the same options", exit: 2 },
  { kind: "merge --out a file", argv: ["merge", "{dir}/shard-1.json", "--out", "{dir}/afile"], message: "pcshare: --out {dir}/afile: is a file, not a directory; name a directory (it is created if missing)", exit: 2 },
  { kind: "history file missing", argv: ["history", "--history", "{dir}/missing.sqlite"], message: "pcshare: --history {dir}/missing.sqlite: no such file (no run was recorded there); record runs with pcshare run, pcshare merge or pcshare history add, or name the history file with --history", exit: 2 },
  { kind: "PCSHARE_HISTORY names no file", argv: ["history"], env: {PCSHARE_HISTORY: "{dir}/missing.sqlite"}, message: "pcshare: PCSHARE_HISTORY={dir}/missing.sqlite: no such file (no run was recorded there); record runs with pcshare run, pcshare merge or pcshare history add, or name the history file with --history", exit: 2 },
  { kind: "history --kernel matches no recorded kernel", argv: ["history", "--history", "{dir}/history.sqlite", "--kernel", "6.1.0"], message: "pcshare: --kernel 6.1.0: no recorded kernel contains it (recorded: 7.2.13+deb14-amd64 debian:sid 36bcb6093fac -); give part of one of them", exit: 2 },
  { kind: "history --label no run has", argv: ["history", "--history", "{dir}/history.sqlite", "--label", "nightly"], message: "pcshare: --label nightly: no recorded run has this label (no run has one); label runs with --label or leave --label out", exit: 2 },
  { kind: "history add --history under a file", argv: ["history", "add", "{dir}/good-results.json", "--history", "{dir}/afile/history.sqlite"], message: "pcshare: --history (its directory) {dir}/afile: is a file, not a directory; name a directory (it is created if missing)", exit: 2 },
  { kind: "history add results names no file", argv: ["history", "add", "{dir}/missing-results.json", "--history", "{dir}/new.sqlite"], message: "pcshare: results {dir}/missing-results.json: no such file; give the results.json of an earlier run", exit: 2 },
  { kind: "trend without a measurement", argv: ["trend", "--history", "{dir}/history.sqlite"], message: "pcshare: missing required argument 'measurement'; see `pcshare trend --help`", exit: 2 },
  { kind: "trend measurement never recorded", argv: ["trend", "no_such_figure", "--history", "{dir}/history.sqlite"], message: "pcshare: no measurement \"no_such_figure\" in {dir}/history.sqlite (recorded: b_resident_after_reading_a; cached_growth_read_a; cached_growth_read_b; equal_frames; inode_share_listed_after_remount; pages; remount_inode_share_refused; resident_b_after_reading_a; seek_data_bytes chunked:/chunked-sparse.bin; seek_data_bytes sparse:/holes.bin; seek_data_bytes sparse:/pattern.bin; seek_data_bytes sparse:/zeros.bin; and 4 more); names are as in results.json (e.g. pages, or name[series]@x)", exit: 2 },
  { kind: "trend --out in a file", argv: ["trend", "pages", "--history", "{dir}/history.sqlite", "--out", "{dir}/afile/pages.svg"], message: "pcshare: --out (its directory) {dir}/afile: is a file, not a directory; name a directory (it is created if missing)", exit: 2 },
  { kind: "regressions history file missing", argv: ["regressions", "--history", "{dir}/missing.sqlite"], message: "pcshare: --history {dir}/missing.sqlite: no such file (no run was recorded there); record runs with pcshare run, pcshare merge or pcshare history add, or name the history file with --history", exit: 2 },
  { kind: "regressions --kernel matches no recorded kernel", argv: ["regressions", "--history", "{dir}/history.sqlite", "--kernel", "trixie"], message: "pcshare: --kernel trixie: no recorded kernel contains it (recorded: 7.2.13+deb14-amd64 debian:sid 36bcb6093fac -); give part of one of them", exit: 2 },
  { kind: "kcidb submit without PCSHARE_KCIDB_TOKEN", argv: ["kcidb", "submit", "{dir}/good-results.json"], env: {PCSHARE_KCIDB_URL: "http://127.0.0.1:9"}, message: "pcshare: PCSHARE_KCIDB_TOKEN is not set: export the bearer token the KCIDB endpoint gave you, or use --dry-run", exit: 2 },
  { kind: "kcidb submit results names no file", argv: ["kcidb", "submit", "{dir}/missing-results.json", "--dry-run"], message: "pcshare: results {dir}/missing-results.json: no such file; give the results.json of an earlier run", exit: 2 },
  { kind: "kcidb submit --results-url not a URL", argv: ["kcidb", "submit", "{dir}/good-results.json", "--dry-run", "--results-url", "artifacts"], message: "pcshare: --results-url artifacts: not a URL; give where the results directories are published, e.g. https://ci.example.org/artifacts/", exit: 2 },
  { kind: "kcidb submit without results", argv: ["kcidb", "submit", "--dry-run"], message: "pcshare: missing required argument 'results'; see `pcshare kcidb submit --help`", exit: 2 },
  { kind: "b4-check with nothing on stdin", argv: ["b4-check"], message: "pcshare: b4-check: nothing on stdin; b4 pipes the patch or the cover letter there (by hand: pcshare b4-check < series.mbox)", exit: 2 },
  { kind: "b4-check --only matches no case", argv: ["b4-check", "--only", "NO-SUCH-CASE"], stdin: "cover-letter.eml", message: "pcshare: no case matches \"NO-SUCH-CASE\" (see `pcshare list` for ids and names)", exit: 2 },
  { kind: "b4-check B4_TRACKING_FILE names no file", argv: ["b4-check"], stdin: "cover-letter.eml", env: {B4_TRACKING_FILE: "{dir}/missing-tracking.json"}, message: "pcshare: B4_TRACKING_FILE={dir}/missing-tracking.json: no such file; b4 sets it to the series' tracking file: unset it or name that file", exit: 2 },
  { kind: "b4-check B4_TRACKING_FILE not JSON", argv: ["b4-check"], stdin: "cover-letter.eml", env: {B4_TRACKING_FILE: "{dir}/tracking.json"}, message: "pcshare: B4_TRACKING_FILE={dir}/tracking.json: not JSON (Expected property name or '}' in JSON at position 2); b4 sets it to the series' tracking file: unset it or name that file", exit: 2 },
  { kind: "b4-check --budget zero", argv: ["b4-check", "--budget", "0"], stdin: "cover-letter.eml", message: "pcshare: --budget 0: out of range; give an integer from 1 to 10080 minutes", exit: 2 },
  { kind: "b4-check --tree a file", argv: ["b4-check", "--tree", "{dir}/afile"], stdin: "cover-letter.eml", message: "pcshare: --tree {dir}/afile: not a directory; give a Linux source tree", exit: 2 },
  { kind: "nightly --matrix names no file", tool: "nightly", argv: ["--matrix", "{dir}/missing.yaml", "matrix"], message: "nightly: --matrix {dir}/missing.yaml: no such file; give the kernel matrix file (default nightly/kernels.yaml, fields in docs/nightly.md)", exit: 2 },
  { kind: "kernel matrix YAML syntax error", tool: "nightly", argv: ["--matrix", "{dir}/m-syntax.yaml", "matrix"], message: "nightly: {dir}/m-syntax.yaml:4: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]", exit: 2 },
  { kind: "kernel matrix entry with debian: and build:", tool: "nightly", argv: ["--matrix", "{dir}/m-both.yaml", "matrix"], message: "nightly: {dir}/m-both.yaml:2: kernels[0]: give exactly one of debian: (a prebuilt kernel) or build: (a kernel built from source)", exit: 2 },
  { kind: "kernel matrix known-bugs names no directory", tool: "nightly", argv: ["--matrix", "{dir}/m-bugs.yaml", "matrix"], message: "nightly: {dir}/m-bugs.yaml:4: kernels[0].known-bugs: no-such-bugs: no such directory ({dir}/no-such-bugs); name a known-bugs directory or false", exit: 2 },
  { kind: "kernel matrix only: names no case", tool: "nightly", argv: ["--matrix", "{dir}/m-case.yaml", "matrix"], message: "nightly: {dir}/m-case.yaml:5: kernels[0].only[1]: no case matches \"NO-SUCH-CASE\" (see `pcshare list` for ids and names)", exit: 2 },
  { kind: "kernel matrix tree repo names no directory", tool: "nightly", argv: ["--matrix", "{dir}/m-repo.yaml", "matrix"], message: "nightly: {dir}/m-repo.yaml:4: kernels[0].build.tree.repo: {dir}/no-such-repo: no such directory; give a git URL or the path of a local repository", exit: 2 },
  { kind: "kernel matrix tree ref not in the repository", tool: "nightly", argv: ["--matrix", "{dir}/m-ref.yaml", "matrix"], message: "nightly: {dir}/m-ref.yaml:4: kernels[0].build.tree.ref: v9: no such branch or tag in {dir}/repo; give one of its branches or tags (git -C {dir}/repo tag)", exit: 2 },
  { kind: "nightly --kernels names no kernel", tool: "nightly", argv: ["--matrix", "{dir}/m-good.yaml", "kernels", "--kernels", "sid"], message: "nightly: {dir}/m-good.yaml: no kernel \"sid\" (known: k); give one of them", exit: 2 },
  { kind: "nightly shard not I/N of the kernel", tool: "nightly", argv: ["--matrix", "{dir}/m-good.yaml", "shard", "k", "3/2", "--out", "{dir}/nightly"], message: "nightly: shard 3/2: kernel k has 1 shard(s) in {dir}/m-good.yaml; give I/1 with 1 <= I <= 1", exit: 2 },
  { kind: "nightly --only matches no case", tool: "nightly", argv: ["--matrix", "{dir}/m-good.yaml", "--only", "NO-SUCH-CASE", "--out", "{dir}/nightly"], message: "nightly: no case matches \"NO-SUCH-CASE\" (see `pcshare list` for ids and names)", exit: 2 },
  { kind: "nightly --durations-from names no directory", tool: "nightly", argv: ["--matrix", "{dir}/m-good.yaml", "--durations-from", "{dir}/missing-nightly", "--out", "{dir}/nightly"], message: "nightly: --durations-from {dir}/missing-nightly: no such directory; give the output directory of an earlier nightly (its <kernel>/merged/results.json balance the shards)", exit: 2 },
  { kind: "nightly --out a file", tool: "nightly", argv: ["--matrix", "{dir}/m-good.yaml", "--out", "{dir}/afile"], message: "nightly: --out {dir}/afile: is a file, not a directory; name a directory (it is created if missing)", exit: 2 },
  { kind: "nightly merge without --out", tool: "nightly", argv: ["--matrix", "{dir}/m-good.yaml", "merge", "k"], message: "nightly: required option '--out <dir>' not specified; see `npx tsx scripts/nightly.ts merge --help`", exit: 2 },
  { kind: "nightly option unknown", tool: "nightly", argv: ["--matrix", "{dir}/m-good.yaml", "--shards", "2"], message: "nightly: unknown option '--shards'; see `npx tsx scripts/nightly.ts --help`", exit: 2 },
  { kind: "cached image truncated on disk", argv: ["images", "build", "{dir}/tiny.yaml"], message: "pcshare: cache entry images/{entry} is damaged (image.erofs is 8192 bytes, recorded 69632); rebuilding it", exit: 0 },
  { kind: "PCSHARE_ACCEL=kvm where KVM does not work", argv: ["exec", "--kernel", "{bzImage}", "--", "true"], env: {PCSHARE_ACCEL: "kvm"}, message: "pcshare: PCSHARE_ACCEL=kvm: KVM does not work on this host (KVM probe failed: {*}); unset PCSHARE_ACCEL to use TCG", exit: 2, needs: ["broken-kvm"] },
];
