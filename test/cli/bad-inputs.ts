// The bad inputs pcshare handles, each with the exact line it prints and its exit status. One list
// drives both test/cli/bad-inputs.test.ts (which runs each through the CLI as a user would) and
// docs/bad-inputs.md (rendered by renderBadInputsDoc; the test fails when the file differs).
// Placeholders: {dir} is a scratch directory holding the fixtures below, {bzImage} a real kernel,
// {entry} the cache entry of tiny.yaml's image, {hostMiB} the host's memory, {repo} the checkout.
import { readFileSync } from "node:fs";

export interface BadInput {
  /** What is wrong, in words. */
  kind: string;
  /** pcshare's arguments. */
  argv: string[];
  env?: Record<string, string>;
  /** The exact stderr line ({*}: any text, for what differs between hosts). For a failure (exit != 0) it must be all of stderr. */
  message: string;
  exit: number;
  /** What the host must offer: tmpfs mounts (root) for a read-only place or a full disk; KVM that fails its probe. */
  needs?: ("mounts" | "broken-kvm")[];
}

/** Fixture files in {dir} the list refers to (directories end in /). */
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
  "good-results.json": readFileSync(new URL("../fixtures/runs/sid-7.2.13-f1-l2-d2-o3.json", import.meta.url), "utf8"),
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
  { kind: "results file not JSON (report)", argv: ["report", "{dir}/bad-results.json"], message: "pcshare: {dir}/bad-results.json: not valid JSON (Expected property name or '}' in JSON at position 2); give the results.json of an earlier run", exit: 2 },
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
  { kind: "cached image truncated on disk", argv: ["images", "build", "{dir}/tiny.yaml"], message: "pcshare: cache entry images/{entry} is damaged (image.erofs is 8192 bytes, recorded 69632); rebuilding it", exit: 0 },
  { kind: "PCSHARE_ACCEL=kvm where KVM does not work", argv: ["exec", "--kernel", "{bzImage}", "--", "true"], env: {PCSHARE_ACCEL: "kvm"}, message: "pcshare: PCSHARE_ACCEL=kvm: KVM does not work on this host (KVM probe failed: {*}); unset PCSHARE_ACCEL to use TCG", exit: 2, needs: ["broken-kvm"] },
];
