// `pcshare doctor`: what is installed, what is missing (with the command that installs it), whether
// KVM works here, and which kernel is the default and whether it has page-cache sharing.
import { execa } from "execa";
import { REQUIREMENTS, which, findBusybox } from "../util/host-tools.ts";
import { cacheRoot } from "../util/cache.ts";
import { resolveKernel, DEFAULT_KERNEL } from "../kernel/resolve.ts";
import { hasPageCacheShare } from "../kernel/kernel.ts";
import { prepareGuest } from "../vm/launch.ts";
import { erofsTools } from "../images/erofs-utils.ts";
import { describeConfinement } from "../vm/confine.ts";

interface Line {
  ok: boolean;
  what: string;
  detail: string;
}

async function version(cmd: string, args = ["--version"]): Promise<string> {
  const r = await execa(cmd, args, { reject: false, all: true });
  return (r.all ?? "").split("\n")[0].trim();
}

/** The QEMU PCSHARE_QEMU names (the one every command uses): it must answer --version. */
async function qemuFromEnv(qemu: string): Promise<Line> {
  const r = await execa(qemu, ["--version"], { reject: false, all: true });
  const first = (r.all ?? "").split("\n")[0].trim();
  const ok = r.exitCode === 0 && /QEMU/i.test(first);
  return { ok, what: "qemu-system-x86_64 (PCSHARE_QEMU)", detail: ok ? `${qemu} ${first}` : `PCSHARE_QEMU=${qemu}: \`--version\` ${r.exitCode === 0 ? "does not name QEMU" : `failed (exit ${r.exitCode ?? r.signal})`}; point it at qemu-system-x86_64 or unset it` };
}

async function attempt(what: string, fn: () => Promise<string>): Promise<Line> {
  try {
    return { ok: true, what, detail: await fn() };
  } catch (err) {
    return { ok: false, what, detail: (err as Error).message.split("\n")[0] };
  }
}

export async function doctorCommand(opts: { kernel?: string; json?: boolean }): Promise<number> {
  const lines: Line[] = [];
  lines.push({ ok: true, what: "node", detail: process.version });
  lines.push({ ok: true, what: "cache", detail: cacheRoot() });
  const missingPkgs: string[] = [];
  for (const r of REQUIREMENTS) {
    if (r.command === "qemu-system-x86_64" && process.env.PCSHARE_QEMU) {
      lines.push(await qemuFromEnv(process.env.PCSHARE_QEMU));
      continue;
    }
    const p = await which(r.command);
    if (!p) missingPkgs.push(r.pkg);
    lines.push({ ok: !!p, what: r.command, detail: p ? `${p} ${r.command.startsWith("qemu") ? await version(p) : ""}`.trim() : `missing (${r.why}): apt-get install ${r.pkg}` });
  }
  lines.push(await attempt("busybox (static)", findBusybox));
  lines.push(await attempt("erofs-utils >= 1.9", async () => {
    const t = await erofsTools();
    return `${t.version} (${t.source})`;
  }));
  const before = lines.length;
  const kernelLine = await attempt(`kernel ${opts.kernel ?? DEFAULT_KERNEL}`, async () => {
    const k = await resolveKernel({ kernel: opts.kernel });
    const share = hasPageCacheShare(k);
    lines.push({
      ok: true,
      what: "CONFIG_EROFS_FS_PAGE_CACHE_SHARE",
      detail: `${k.config.CONFIG_EROFS_FS_PAGE_CACHE_SHARE ?? "not set"}${share ? "" : " (feature absent: sharing cases will SKIP)"}`,
    });
    lines.push({ ok: true, what: "boot path", detail: k.info.boot === "pvh" ? `pvh (${k.boot?.image})` : `bzimage (${k.info.bootReason})` });
    if (!missingPkgs.length) {
      const g = await prepareGuest(k);
      lines.push({ ok: true, what: "accelerator", detail: `${g.accel.accel} (${g.accel.reason})` });
      lines.push({ ok: true, what: "QEMU confinement", detail: describeConfinement(g.confinement) });
    }
    return `${k.info.release} (${k.info.version}, ${k.info.source})`;
  });
  lines.splice(before, 0, kernelLine);
  if (opts.json) {
    console.log(JSON.stringify(lines, null, 2));
  } else {
    for (const l of lines) console.log(`${l.ok ? " ok " : "MISS"}  ${l.what.padEnd(34)} ${l.detail}`);
    if (missingPkgs.length) console.log(`\nInstall what is missing:  sudo apt-get install ${[...new Set(missingPkgs)].join(" ")}`);
  }
  return lines.every((l) => l.ok) ? 0 : 1;
}
