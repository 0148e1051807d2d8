// Owns: the POSIX sh script of a reproducer bundle (run.sh). It boots the bundle's kernel (or one the
// user names) under QEMU with the bundle's images, lets the agent replay the recorded steps in the
// guest, and judges the console: a kernel report (oops, BUG, WARNING, KASAN, busy inodes, hung task,
// ...) or a check the guest judged false is a failure. Only QEMU and POSIX tools are needed on the
// host: no node, no pcshare, nothing fetched.

export interface ScriptDrive {
  /** virtio-blk serial: the guest sees /dev/disk/pcshare/<name>. */
  name: string;
  /** Path relative to the bundle. */
  file: string;
}

export interface ScriptParams {
  title: string;
  /** Kernel image and modules initramfs relative to the bundle; absent with --no-kernel. */
  kernel?: string;
  modules?: string;
  /** One line naming the kernel the case ran on (release and reference). */
  kernelRef: string;
  drives: ScriptDrive[];
  cmdline: string[];
  memoryMiB: number;
  cpus: number;
  /** Guest time allowed before the script stops QEMU, s. */
  timeoutS: number;
}

/**
 * First lines of the kernel reports pcshare classifies (vm/crash.ts), as one POSIX ERE. Lines the
 * replay itself prints (pcshare-...) are never matched: a step may carry these words as data.
 */
export const REPORT_ERE =
  "(BUG: |kernel BUG at |Oops: |general protection fault|WARNING: |Busy inodes after unmount|INFO: task .* blocked for more than|rcu: INFO: rcu_|[Ww]atchdog detected hard LOCKUP|Kernel panic - not syncing|list_(add|del) corruption|Slab cache still has objects|Objects remaining)";

/** sh single-quoted literal. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const MAX_DRIVES = 24;

export function runScript(p: ScriptParams): string {
  if (p.drives.length > MAX_DRIVES) throw new Error(`a bundle attaches at most ${MAX_DRIVES} images; this case uses ${p.drives.length}`);
  const drives = p.drives
    .map((d, i) => `  -drive file="$here/${d.file}",if=none,id=drive${i},format=raw,readonly=on -device virtio-blk-pci,drive=drive${i},serial=${d.name} \\`)
    .join("\n");
  return `#!/bin/sh
# Reproducer: ${p.title}
# Boots the kernel under QEMU with this bundle's images; in the guest the pcshare agent replays the
# case's recorded steps (steps.jsonl) and prints each step, its reply and its checks on the console.
# Needs only qemu-system-x86_64 and POSIX tools. Nothing is downloaded.
#
# usage: ./run.sh [KERNEL_IMAGE [MODULES_CPIO]]
#   KERNEL_IMAGE  bzImage (or PVH vmlinux) to boot instead of the bundle's (required when it has none)
#   MODULES_CPIO  newc initramfs with lib/modules/*.ko and lib/modules/load.order (for modular kernels)
#   environment: QEMU (default qemu-system-x86_64), ACCEL (tcg or kvm, default tcg),
#                TIMEOUT (seconds, default ${p.timeoutS}), LOG (console log, default ./console.log)
# exit status: 0 the kernel behaved as a correct kernel does, 1 the failure showed, 2 it could not run.
# The case ran on: ${p.kernelRef}
set -u
here=$(cd "$(dirname "$0")" && pwd)
QEMU=\${QEMU:-qemu-system-x86_64}
ACCEL=\${ACCEL:-tcg}
TIMEOUT=\${TIMEOUT:-${p.timeoutS}}
LOG=\${LOG:-$here/console.log}
kernel=\${1:-}
modules=\${2:-}
${p.kernel ? `if [ -z "$kernel" ]; then
  kernel="$here/${p.kernel}"
  ${p.modules ? `[ -n "$modules" ] || modules="$here/${p.modules}"` : ":"}
fi` : `if [ -z "$kernel" ]; then
  echo "This bundle has no kernel (made with --no-kernel). The case ran on: ${p.kernelRef.replace(/["$`\\]/g, "")} (see kernel.txt)" >&2
  if [ -t 0 ]; then
    printf 'path of the kernel image to boot: ' >&2; read -r kernel
    printf 'initramfs with its modules (empty: none, erofs and virtio_blk built in): ' >&2; read -r modules
  fi
  if [ -z "$kernel" ]; then
    echo "run.sh: no kernel given: run ./run.sh /path/to/bzImage [modules.cpio]" >&2
    exit 2
  fi
fi`}
[ -f "$kernel" ] || { echo "run.sh: kernel image $kernel: no such file" >&2; exit 2; }
[ -z "$modules" ] || [ -f "$modules" ] || { echo "run.sh: modules initramfs $modules: no such file" >&2; exit 2; }
command -v "$QEMU" >/dev/null 2>&1 || { echo "run.sh: $QEMU not found: install QEMU (Debian: qemu-system-x86) or set QEMU" >&2; exit 2; }
case $ACCEL in tcg) cpu=qemu64; accel=tcg,thread=single ;; kvm) cpu=host; accel=kvm ;; *) echo "run.sh: ACCEL=$ACCEL: use tcg or kvm" >&2; exit 2 ;; esac
work="$here/.run.$$"
rm -rf "$work" && mkdir "$work" || exit 2
trap 'rm -rf "$work"' EXIT
trap 'exit 2' INT TERM
cat "$here/guest.cpio" \${modules:+"$modules"} > "$work/initrd" || exit 2
echo "run.sh: booting $kernel under QEMU ($ACCEL); console in $LOG"
"$QEMU" -nodefaults -no-user-config -display none -nic none -no-reboot -machine q35 \\
  -accel "$accel" -cpu "$cpu" -smp ${p.cpus} -m ${p.memoryMiB}M \\
  -kernel "$kernel" -initrd "$work/initrd" \\
  -append ${shq(p.cmdline.join(" "))} \\
  -chardev stdio,id=con0,signal=off -serial chardev:con0 \\
${drives}
  </dev/null >"$LOG" 2>"$work/qemu.err" &
qpid=$!
( n=0; while [ "$n" -lt "$TIMEOUT" ] && kill -0 "$qpid" 2>/dev/null; do sleep 1; n=$((n + 1)); done
  kill "$qpid" 2>/dev/null && echo "run.sh: stopped QEMU after $TIMEOUT s" >&2 ) &
wpid=$!
wait "$qpid"
qrc=$?
wait "$wpid"
if [ ! -s "$LOG" ]; then
  echo "run.sh: QEMU printed nothing (exit $qrc):" >&2
  cat "$work/qemu.err" >&2
  exit 2
fi
tr -d '\\r' < "$LOG" > "$work/log"
echo
echo "== steps (replies on the console log) =="
awk '/^pcshare-step [0-9]* >/ {
  s = $0; sub(/^pcshare-step [0-9]* > /, "", s); gsub(/"id":[0-9]*,|,"_delay_ms":[0-9]*/, "", s)
  if (s == prev) { n++; next }
  if (n) print "    (the same " n " more times)"
  n = 0; prev = s; print "  " substr(s, 1, 160)
} END { if (n) print "    (the same " n " more times)" }' "$work/log"
echo
echo "== checks judged in the guest =="
grep -E '^pcshare-(check|replay)' "$work/log" || echo "(none)"
awk -v re=${shq(REPORT_ERE)} '/^pcshare-/ { next } $0 ~ re { found = 1 } found && n < 40 { print; n++ }' "$work/log" > "$work/report"
failed=0
if [ -s "$work/report" ]; then
  echo
  echo "== kernel report =="
  cat "$work/report"
  failed=1
fi
grep -q '^pcshare-check [0-9]* FAIL' "$work/log" && failed=1
if grep -q '^pcshare-init: replay ended with status 2' "$work/log"; then
  echo "run.sh: the guest could not read the bundle's steps:" >&2
  grep '^pcshare-replay' "$work/log" >&2
  exit 2
fi
if ! grep -q '^pcshare-replay: done' "$work/log"; then
  echo
  echo "run.sh: the replay did not finish (the agent died or the guest stopped): last console lines:"
  tail -n 15 "$work/log"
  failed=1
fi
ready=$(grep -c 'pcshare-init: ready' "$work/log")
if [ "$ready" -eq 0 ]; then
  echo "run.sh: the guest never came up: this kernel could not boot the bundle (modules? see $LOG)" >&2
  exit 2
fi
echo
if [ "$failed" -eq 1 ]; then
  echo "RESULT: FAIL (the failure showed; compare with expected.txt and seen.txt)"
  exit 1
fi
echo "RESULT: PASS (no kernel report, every check judged in the guest held; see expected.txt for checks only the harness judges)"
exit 0
`;
}
