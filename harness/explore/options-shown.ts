// Owns: which erofs mount options /proc/self/mountinfo shows for a mount, as the model predicts them
// and as read from the guest. The rules: erofs.rst says domain_id is "not shown in mountinfo output"
// (it is a secret: its value must not appear either); inode_share is listed exactly when sharing is in
// effect (the kernel turns it off on an image without ishare xattrs, O2); a remount of a mount without
// domain_id is refused or ignored and must not leave inode_share listed (O3); after any other remount
// the shown set is not documented (mount(2) says a remount's data replaces the options, erofs.rst does
// not say what happens to inode_share and dax left out of it) unless the remount kept sharing on.
// dax=never is listed when it was mounted with it; dax=always depends on the device (not predicted).
import type { Prediction, Tri } from "./model.ts";

export interface OptionState {
  domain?: string;
  sharing: Tri;
  dax?: "always" | "never";
  /** The data string of the last successful remount, if any. */
  remounted?: string;
}

export interface ShownPrediction {
  inodeShare: Prediction<"listed" | "not listed">;
  domain: Prediction<"hidden">;
  dax: Prediction<string>;
}

const RULE_DOMAIN = "erofs.rst: domain_id is not shown in mountinfo output (its value is a secret)";

export function predictShown(s: OptionState): ShownPrediction {
  return { inodeShare: predictInodeShare(s), domain: { expect: "hidden", rule: RULE_DOMAIN }, dax: predictDax(s) };
}

function predictInodeShare(s: OptionState): Prediction<"listed" | "not listed"> {
  if (s.remounted !== undefined && s.domain === undefined) return { expect: "not listed", rule: "a remount of a mount without domain_id is refused or ignored: it must not leave inode_share on (O3)" };
  if (s.sharing === "unspecified") {
    return { expect: "unspecified", rule: "after this remount neither the share state nor the listed options are documented (mount(2): a remount's data replaces the options; erofs.rst is silent)" };
  }
  if (s.sharing === "yes") return { expect: "listed", rule: s.remounted === undefined ? "inode_share with domain_id on an image with ishare xattrs is in effect and listed" : "a remount that keeps inode_share on lists it" };
  return { expect: "not listed", rule: s.domain === undefined ? "inode_share is not in effect without domain_id" : "inode_share is listed only when in effect (off without the option or without ishare xattrs, O2)" };
}

function predictDax(s: OptionState): Prediction<string> {
  if (s.dax === undefined) return { expect: "no dax option", rule: "mounted without dax" };
  if (s.remounted !== undefined) return { expect: "unspecified", rule: "whether a remount without dax keeps dax=never is not documented" };
  if (s.dax === "never") return { expect: "dax=never", rule: "erofs.rst: dax=never is an option in effect, listed" };
  return { expect: "unspecified", rule: "dax=always is turned off where the device or block size has no DAX" };
}

/** The options of the topmost mount at `dir` in /proc/self/mountinfo: its per-mount and its superblock options. */
export function mountinfoOptions(mountinfo: string, dir: string): string[] | undefined {
  let found: string[] | undefined;
  for (const line of mountinfo.split("\n")) {
    const f = line.split(" ");
    if (f[4] !== dir) continue;
    const sep = f.indexOf("-", 6);
    if (sep < 0) continue;
    found = [...f[5].split(","), ...(f[sep + 3] ?? "").split(",")].filter(Boolean);
  }
  return found;
}

/** What the listed options show, in the terms of a prediction. */
export function seenShown(opts: readonly string[], domain: string | undefined): { inodeShare: string; domain: string; dax: string } {
  const leaks = opts.filter((o) => o.startsWith("domain_id") || (domain !== undefined && domain !== "" && o.split("=").slice(1).join("=") === domain));
  const dax = opts.filter((o) => o === "dax" || o.startsWith("dax="));
  return {
    inodeShare: opts.includes("inode_share") ? "listed" : "not listed",
    domain: leaks.length ? `shown (${leaks.join(",")})` : "hidden",
    dax: dax.length ? dax.join(",") : "no dax option",
  };
}
