// How QEMU is confined on this host: which unprivileged user it switches to when pcshare runs as root
// (PCSHARE_QEMU_USER, default a `pcshare` user when one exists, else `nobody`), whether this QEMU has
// its seccomp sandbox and which spelling of the user switch and chroot it takes (-runas/-chroot or
// -run-with), and what the kernel says about a running QEMU (seccomp mode, uid). The QEMU flags
// themselves are built in qemu-args.ts; doctor and results.json show the Confinement.
import { readFile, readlink } from "node:fs/promises";
import { execa } from "execa";
import { sandboxOption } from "./qemu-args.ts";

export interface Confinement {
  /** The -sandbox value every QEMU gets. */
  sandbox: string;
  /** User QEMU switches to after opening its files (-runas); absent when it keeps pcshare's user. */
  user?: string;
  uid?: number;
  /** QEMU chroots into its private run directory before switching user. */
  chroot: boolean;
  /** Why QEMU runs as it does, in words. */
  note: string;
}

export const DEFAULT_QEMU_USERS = ["pcshare", "nobody"];

async function lookupUser(name: string): Promise<number | undefined> {
  const r = await execa("getent", ["passwd", name], { reject: false });
  const uid = Number(r.stdout.split(":")[2]);
  return r.exitCode === 0 && Number.isInteger(uid) ? uid : undefined;
}

/** Decides the user QEMU runs as. Throws one line naming PCSHARE_QEMU_USER when it names nobody here. */
export async function qemuConfinement(env: NodeJS.ProcessEnv = process.env, euid = process.geteuid?.() ?? 0): Promise<Confinement> {
  if (euid !== 0) {
    return { sandbox: sandboxOption(false), chroot: false, note: `pcshare runs unprivileged (uid ${euid}): QEMU keeps that user` };
  }
  const wanted = env.PCSHARE_QEMU_USER;
  if (wanted === "root") {
    return { sandbox: sandboxOption(false), chroot: false, note: "PCSHARE_QEMU_USER=root: QEMU stays root (seccomp sandbox only)" };
  }
  for (const name of wanted ? [wanted] : DEFAULT_QEMU_USERS) {
    const uid = await lookupUser(name);
    if (uid === 0) throw new Error(`PCSHARE_QEMU_USER=${name}: that user has uid 0; name an unprivileged user (or "root" to keep QEMU root)`);
    if (uid !== undefined) {
      return { sandbox: sandboxOption(true), user: name, uid, chroot: true, note: `pcshare runs as root: QEMU switches to ${name} (uid ${uid})${wanted ? " (PCSHARE_QEMU_USER)" : ""}` };
    }
  }
  throw new Error(
    wanted
      ? `PCSHARE_QEMU_USER=${wanted}: no such user on this host; create it (useradd --system --no-create-home ${wanted}) or name another`
      : `none of the users ${DEFAULT_QEMU_USERS.join(", ")} exists to run QEMU unprivileged; create one or set PCSHARE_QEMU_USER`,
  );
}

/** One line for doctor and reports. */
export function describeConfinement(c: Confinement): string {
  return `${c.note}${c.chroot ? ", chrooted into its private run dir" : ""}; -sandbox ${c.sandbox}`;
}

const helpText = new Map<string, Promise<string>>();

/** This QEMU binary's -help text, read once per binary. */
function qemuHelp(qemu: string): Promise<string> {
  if (!helpText.has(qemu)) helpText.set(qemu, execa(qemu, ["-help"], { reject: false }).then((r) => r.stdout));
  return helpText.get(qemu)!;
}

/** Whether this QEMU binary was built with seccomp (its -help lists -sandbox only then). */
export async function hasSandbox(qemu: string): Promise<boolean> {
  return /^-sandbox /m.test(await qemuHelp(qemu));
}

/** Whether this QEMU takes -run-with user=...,chroot=... (9.1 and later; its -help says so) instead of -runas/-chroot. */
export async function hasRunWith(qemu: string): Promise<boolean> {
  return /^-run-with .*user=/m.test(await qemuHelp(qemu));
}

export interface Observed {
  /** /proc/<pid>/status Seccomp: 0 none, 1 strict, 2 filter. */
  seccomp: number;
  /** Real, effective, saved and filesystem uid. */
  uids: number[];
  /** Where the process's root directory points (its chroot). */
  root: string;
}

/** What the kernel reports about a running process's confinement. */
export async function observeConfinement(pid: number): Promise<Observed> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => status.match(new RegExp(`^${name}:\\s*(.*)$`, "m"))?.[1] ?? "";
  return {
    seccomp: Number(field("Seccomp")),
    uids: field("Uid").split(/\s+/).map(Number),
    root: await readlink(`/proc/${pid}/root`).catch(() => "?"),
  };
}
